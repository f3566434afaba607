"""FastGradientSweep: bit-identical to ART's FGSM at every budget, one gradient per image, tables, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from art.attacks.evasion import FastGradientMethod
from art.estimators.classification import KerasClassifier

from art_medical.attacks import FastGradientSweep
from art_medical.attacks.evasion.fgsm_sweep import STUDY003_TABLE4_EPSILONS, STUDY003_TABLE8_EPSILONS
from art_medical.metrics import accuracy, correct_class_probability_drop, to_labels
from art_medical.models import to_art

# The paper's grid, plus budgets large enough that most pixels hit the clip values (0.3 is ART's default eps).
EPSILONS = STUDY003_TABLE8_EPSILONS + (0.03, 0.3)


@pytest.fixture(scope="module")
def rgb_two_class():
    """A second data set: 24x24 RGB phantoms, normal vs covid, and a 2-class softmax SmallCNN trained on them."""
    import keras

    from art_medical.data.synthetic import make_chest_xray_phantoms
    from art_medical.models import SmallCNN

    x, y, _ = make_chest_xray_phantoms(35, size=24, channels=3, classes=("normal", "covid"), seed=5)
    keras.utils.set_random_seed(1)
    model = SmallCNN(input_shape=x.shape[1:], classes=2, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
    model.fit(x, np.eye(2)[y], epochs=8, batch_size=16, verbose=0)
    return model, x, y


def _classifiers(model):
    return {
        "KerasClassifier": KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False),
        "to_art": to_art(model, batch_size=16),
    }


def _art_fgsm(classifier, x, y, eps, batch_size):
    attack = FastGradientMethod(
        classifier, norm=np.inf, eps=eps, targeted=False, num_random_init=0, minimal=False, batch_size=batch_size
    )
    return attack.generate(x, y=y)


@pytest.mark.parametrize("dataset", ["phantoms_3_classes", "rgb_2_classes"])
@pytest.mark.parametrize("kind", ["KerasClassifier", "to_art"])
@pytest.mark.parametrize("with_labels", [False, True])
def test_every_budget_equals_art_fgsm(dataset, kind, with_labels, request, trained_cnn, phantoms, rgb_two_class):
    if dataset == "phantoms_3_classes":
        model, (x, y, _) = trained_cnn, phantoms
    else:
        model, x, y = rgb_two_class
    classifier = _classifiers(model)[kind]
    labels = y if with_labels else None
    batch_size = 32
    sweep = FastGradientSweep(classifier, epsilons=EPSILONS, eps_scale="unit", batch_size=batch_size, verbose=False)
    x_sweep = sweep.generate(x, labels)

    assert len(x) % batch_size != 0, "a partial last batch must be covered"
    assert sweep.pixel_epsilons == tuple(e * 255.0 for e in EPSILONS)
    for eps, pixel_eps, x_adv in zip(EPSILONS, sweep.pixel_epsilons, x_sweep):
        expected = _art_fgsm(classifier, x, labels, pixel_eps, batch_size)
        assert expected.dtype == x_adv.dtype == np.float32
        np.testing.assert_array_equal(x_adv, expected, err_msg=f"eps={eps}")
    distances = np.abs(x_sweep - x[None]).reshape(len(EPSILONS), -1).max(axis=1)
    assert distances[0] == 0.0, "eps = 0 gives the clean images"
    np.testing.assert_allclose(distances[1:], np.array(sweep.pixel_epsilons[1:]), rtol=0, atol=3e-5)
    assert np.mean(x_sweep[-1] == 255.0) + np.mean(x_sweep[-1] == 0.0) > 0.05, "eps=0.3 must exercise the clipping"


def test_float64_input_equals_art(trained_cnn, phantoms):
    x, _, _ = phantoms
    x64 = x[:40].astype(np.float64) + 0.25 * (x[:40] < 254)
    classifier = to_art(trained_cnn)
    epsilons = (0.0007, 0.01)
    x_sweep = FastGradientSweep(classifier, epsilons, verbose=False).generate(x64)
    for pixel_eps, x_adv in zip((0.0007 * 255.0, 0.01 * 255.0), x_sweep):
        np.testing.assert_array_equal(x_adv, _art_fgsm(classifier, x64, None, pixel_eps, 32))


def test_pixel_scale_takes_budgets_as_given(trained_cnn, phantoms):
    x, y, _ = phantoms
    classifier = to_art(trained_cnn)
    x_sweep = FastGradientSweep(classifier, np.array([0.5, 3.0]), eps_scale="pixel", verbose=False).generate(x, y)
    np.testing.assert_array_equal(x_sweep[1], _art_fgsm(classifier, x, y, 3.0, 32))
    np.testing.assert_array_equal(x_sweep[0], _art_fgsm(classifier, x, y, 0.5, 32))


def test_sweep_takes_one_gradient_per_batch_and_predicts_each_budget(trained_cnn, phantoms, monkeypatch):
    x, y, _ = phantoms
    classifier = to_art(trained_cnn, batch_size=32)
    calls = {"loss_gradient": 0, "predict_images": 0}
    gradient, predict = classifier.loss_gradient, classifier.predict

    def counting_gradient(x_batch, y_batch, **kwargs):
        calls["loss_gradient"] += 1
        return gradient(x_batch, y_batch, **kwargs)

    def counting_predict(x_batch, **kwargs):
        calls["predict_images"] += len(x_batch)
        return predict(x_batch, **kwargs)

    monkeypatch.setattr(classifier, "loss_gradient", counting_gradient)
    monkeypatch.setattr(classifier, "predict", counting_predict)
    result = FastGradientSweep(classifier, STUDY003_TABLE4_EPSILONS, verbose=False).sweep(x, y)

    assert calls["loss_gradient"] == int(np.ceil(len(x) / 32))
    assert calls["predict_images"] == len(x) * (1 + len(STUDY003_TABLE4_EPSILONS))
    assert result.adv_probs.shape == (len(STUDY003_TABLE4_EPSILONS), len(x), 3)


@pytest.mark.parametrize("with_labels", [False, True])
def test_sweep_predictions_are_those_of_the_adversarial_images(trained_cnn, phantoms, with_labels):
    x, y, _ = phantoms
    classifier = to_art(trained_cnn, batch_size=32)
    sweep = FastGradientSweep(classifier, EPSILONS, verbose=False)
    labels = y if with_labels else None
    result = sweep.sweep(x, labels)
    x_adv = sweep.generate(x, labels)

    np.testing.assert_array_equal(result.clean_probs, classifier.predict(x, batch_size=32))
    for k in range(len(EPSILONS)):
        np.testing.assert_array_equal(result.adv_probs[k], classifier.predict(x_adv[k], batch_size=32))
    expected_labels = y if with_labels else np.argmax(result.clean_probs, axis=1)
    np.testing.assert_array_equal(result.labels, expected_labels)
    assert result.epsilons == EPSILONS and result.eps_scale == "unit"


def test_summary_rows_match_the_metrics(trained_cnn, phantoms):
    x, y, _ = phantoms
    result = FastGradientSweep(to_art(trained_cnn), EPSILONS, verbose=False).sweep(x, y)
    rows = result.summary(y)

    assert [row["eps"] for row in rows] == list(EPSILONS)
    accuracies = [row["accuracy"] for row in rows]
    assert accuracies[0] == accuracy(y, result.clean_probs) > 0.8
    assert accuracies[-1] < accuracies[0] - 0.3, "eps = 0.3 must hurt the model"
    for row, adv in zip(rows, result.adv_probs):
        correct = int(np.sum(to_labels(adv) == y))
        assert (row["correct"], row["incorrect"]) == (correct, len(y) - correct)
        assert row["accuracy"] == correct / len(y)
        drop = correct_class_probability_drop(result.clean_probs, adv, y)
        assert row["probability_images"] == drop.count
        assert row["probability_drop"] == drop.drop
    assert rows[0]["probability_drop"] == 0.0
    assert rows[0]["probability_images"] == rows[0]["correct"]
    with pytest.raises(ValueError, match="labels for"):
        result.summary(y[:-1])


def test_bad_input_names_the_problem(trained_cnn, binary_art_classifier, phantoms):
    x, y, _ = phantoms
    classifier = to_art(trained_cnn)
    for kwargs, message in [
        ({"epsilons": (0.001, -0.1)}, "non-negative"),
        ({"epsilons": (0.001, float("nan"))}, "non-negative"),
        ({"epsilons": ()}, "non-empty"),
        ({"epsilons": 0.01}, "non-empty"),
        ({"epsilons": np.zeros((2, 2))}, "non-empty"),
        ({"epsilons": ("0.1",)}, "numbers"),
        ({"eps_scale": "percent"}, "eps_scale"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(ValueError, match=message):
            FastGradientSweep(classifier, verbose=False, **kwargs)
    with pytest.raises(ValueError, match="clip_values"):
        FastGradientSweep(to_art(trained_cnn, clip_values=None), eps_scale="unit", verbose=False)
    with pytest.raises(ValueError, match="single sigmoid output"):
        FastGradientSweep(binary_art_classifier, verbose=False)
    sweep = FastGradientSweep(classifier, verbose=False)
    with pytest.raises(ValueError, match="outside the classifier's clip_values"):
        sweep.sweep(x / 255.0 - 0.5, y)
    with pytest.raises(ValueError, match="samples"):
        sweep.generate(x, y[:-1])
    with pytest.raises(ValueError, match="outside the classifier.s classes"):
        sweep.sweep(x, np.full(len(x), 3))
