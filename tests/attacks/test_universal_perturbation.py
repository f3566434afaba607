"""TargetedUniversalPerturbation: exact agreement with ART, norms, edge cases, binary models and bad input."""
from __future__ import annotations

import random

import numpy as np
import pytest
from art.attacks.evasion import TargetedUniversalPerturbation as ArtTargetedUAP
from art.attacks.evasion import UniversalPerturbation as ArtUAP

from art_medical.attacks import TargetedUniversalPerturbation

FGSM_STEP = 2.0  # inner FGSM step on the 0-255 pixel scale
NORM_CASES = [(np.inf, 8.0), (2, 300.0)]


def _ours(classifier, **kwargs):
    params = dict(attacker="fgsm", attacker_params={"eps": FGSM_STEP}, delta=0.0, max_iter=3, verbose=False)
    params.update(kwargs)
    return TargetedUniversalPerturbation(classifier, **params)


@pytest.mark.parametrize("norm,eps", NORM_CASES)
def test_targeted_equals_art(art_classifier, phantoms, norm, eps):
    x, _, _ = phantoms
    targets = np.full(len(x), 2)
    random.seed(7)
    art = ArtTargetedUAP(
        art_classifier, "fgsm", {"eps": FGSM_STEP, "targeted": True}, delta=0.0, max_iter=3, eps=eps, norm=norm
    )
    x_art = art.generate(x, y=np.eye(3)[targets])
    random.seed(7)
    ours = _ours(art_classifier, eps=eps, norm=norm, attacker_params={"eps": FGSM_STEP, "targeted": True})
    x_ours = ours.generate(x, y=targets)

    assert np.abs(art.noise).max() > 0, "the comparison is only meaningful if ART found a perturbation"
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
    np.testing.assert_allclose(x_ours, x_art, atol=1e-4)
    assert ours.fooling_rate == pytest.approx(art.fooling_rate)
    assert ours.targeted_success_rate == pytest.approx(art.targeted_success_rate)
    assert ours.converged == art.converged


@pytest.mark.parametrize("norm,eps", NORM_CASES)
def test_non_targeted_equals_art_fgsm(art_classifier, phantoms, norm, eps):
    x, y, _ = phantoms
    random.seed(3)
    art = ArtUAP(art_classifier, "fgsm", {"eps": FGSM_STEP}, delta=0.0, max_iter=3, eps=eps, norm=norm, verbose=False)
    art.generate(x, y=np.eye(3)[y])
    random.seed(3)
    ours = _ours(art_classifier, eps=eps, norm=norm, targeted=False)
    ours.generate(x, y=y)

    assert np.abs(art.noise).max() > 0
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
    assert ours.fooling_rate == pytest.approx(art.fooling_rate)
    assert ours.targeted_success_rate is None


def _count_model_calls(classifier, monkeypatch) -> dict[str, int]:
    """Count the classifier's predict and loss_gradient calls (ART validates estimator types, so patch in place)."""
    calls = {"n": 0}
    for name in ("predict", "loss_gradient"):
        method = getattr(classifier, name)

        def counted(*args, _method=method, **kwargs):
            calls["n"] += 1
            return _method(*args, **kwargs)

        monkeypatch.setattr(classifier, name, counted)
    return calls


def test_batched_walk_makes_fewer_model_calls_than_art(art_classifier, phantoms, monkeypatch):
    x, _, _ = phantoms
    targets = np.full(len(x), 2)
    calls = _count_model_calls(art_classifier, monkeypatch)
    random.seed(0)
    art = ArtTargetedUAP(art_classifier, "fgsm", {"eps": FGSM_STEP, "targeted": True}, delta=0.0, max_iter=2)
    art.generate(x, y=np.eye(3)[targets])
    art_calls, calls["n"] = calls["n"], 0
    random.seed(0)
    ours = _ours(art_classifier, max_iter=2)
    ours.generate(x, y=targets)
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
    assert calls["n"] < art_calls / 3


def test_one_hot_and_index_targets_agree(art_classifier, phantoms):
    x, _, _ = phantoms
    targets = np.full(len(x), 1)
    random.seed(5)
    a = _ours(art_classifier, max_iter=2)
    a.generate(x, y=targets)
    random.seed(5)
    b = _ours(art_classifier, max_iter=2)
    b.generate(x, y=np.eye(3)[targets])
    np.testing.assert_array_equal(a.noise, b.noise)


def test_non_targeted_without_labels_uses_clean_predictions(art_classifier, phantoms):
    x, _, _ = phantoms
    clean = art_classifier.predict(x).argmax(axis=1)
    random.seed(2)
    a = _ours(art_classifier, targeted=False, max_iter=2)
    a.generate(x)
    random.seed(2)
    b = _ours(art_classifier, targeted=False, max_iter=2)
    b.generate(x, y=clean)
    np.testing.assert_array_equal(a.noise, b.noise)
    assert a.fooling_rate == b.fooling_rate


@pytest.mark.parametrize("norm,eps", [(np.inf, 4.0), ("inf", 4.0), (2, 60.0)])
@pytest.mark.parametrize("targeted", [True, False])
def test_noise_norm_never_exceeds_eps(art_classifier, phantoms, norm, eps, targeted):
    x, y = phantoms[0][:40], phantoms[1][:40]
    attack = _ours(art_classifier, eps=eps, norm=norm, targeted=targeted, attacker_params={"eps": 40.0})
    random.seed(0)
    x_adv = attack.generate(x, y=np.full(len(x), 2) if targeted else y)
    order = np.inf if norm in (np.inf, "inf") else 2
    assert np.linalg.norm(attack.noise.ravel(), ord=order) <= eps * (1 + 1e-5)
    assert np.linalg.norm(attack.noise.ravel(), ord=order) > 0.5 * eps  # the big inner step saturates the ball
    assert all(entry["noise_norm"] <= eps * (1 + 1e-5) for entry in attack.history)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 255.0
    assert attack.noise.shape == (1,) + x.shape[1:]


def test_history_records_every_pass(art_classifier, phantoms):
    x, _, _ = phantoms
    attack = _ours(art_classifier, max_iter=3, eps=12.0)
    random.seed(0)
    attack.generate(x, y=np.full(len(x), 2))
    history = attack.history
    assert [entry["pass"] for entry in history] == list(range(1, len(history) + 1))
    assert 1 <= len(history) <= 3
    assert history[-1]["targeted_success_rate"] == attack.targeted_success_rate
    assert history[-1]["fooling_rate"] == attack.fooling_rate
    assert all(entry["seconds"] > 0 and entry["updates"] >= 0 for entry in history)
    # a targeted UAP of this size makes the target class far more frequent than without it
    baseline = np.mean(art_classifier.predict(x).argmax(axis=1) == 2)
    assert attack.targeted_success_rate > baseline + 0.3


def test_delta_one_returns_without_a_pass(art_classifier, phantoms):
    x, _, _ = phantoms
    attack = _ours(art_classifier, delta=1.0)
    x_adv = attack.generate(x, y=np.full(len(x), 2))
    assert attack.history == []
    assert np.all(attack.noise == 0)
    np.testing.assert_array_equal(x_adv, x)
    assert attack.converged is True


def test_max_iter_one_stops_unconverged(art_classifier, phantoms):
    x, _, _ = phantoms
    attack = _ours(art_classifier, max_iter=1, eps=1.0)
    attack.generate(x, y=np.full(len(x), 2))
    assert len(attack.history) == 1
    assert attack.converged is False


def test_binary_single_sigmoid_output(binary_art_classifier, phantoms):
    x, y, _ = phantoms
    healthy = x[y == 0]
    attack = _ours(binary_art_classifier, eps=12.0, max_iter=4, attacker_params={"eps": 3.0})
    random.seed(0)
    x_adv = attack.generate(healthy, y=np.ones(len(healthy), dtype=int))
    clean_positive = np.mean(binary_art_classifier.predict(healthy)[:, 0] > 0.5)
    adv_positive = np.mean(binary_art_classifier.predict(x_adv)[:, 0] > 0.5)
    assert attack.targeted_success_rate == pytest.approx(adv_positive)
    assert adv_positive > clean_positive + 0.3
    assert np.abs(attack.noise).max() <= 12.0 + 1e-5


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"eps": 0.0}, "eps"),
        ({"eps": -1.0}, "eps"),
        ({"norm": 3}, "norm"),
        ({"norm": "l2"}, "norm"),
        ({"delta": 1.5}, "range"),
        ({"delta": -0.1}, "range"),
        ({"max_iter": 0}, "iterations"),
        ({"attacker": "magic"}, "attacker"),
        ({"targeted": "yes"}, "targeted"),
        ({"targeted": False, "attacker_params": {"targeted": True}}, "contradicts"),
    ],
)
def test_bad_parameters_raise(art_classifier, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _ours(art_classifier, **kwargs)


def test_estimator_without_gradients_is_rejected(phantoms, trained_cnn):
    from art.estimators.classification import BlackBoxClassifierNeuralNetwork

    x, _, _ = phantoms
    black_box = BlackBoxClassifierNeuralNetwork(
        lambda batch: trained_cnn.predict(batch, verbose=0), x.shape[1:], 3, clip_values=(0.0, 255.0)
    )
    with pytest.raises(ValueError, match="needs gradients"):
        TargetedUniversalPerturbation(black_box, attacker="fgsm")


def test_bad_inputs_raise(art_classifier, phantoms):
    x, y, _ = phantoms
    attack = _ours(art_classifier, max_iter=1)
    with pytest.raises(ValueError, match="target classes"):
        attack.generate(x)
    with pytest.raises(ValueError, match="outside the classifier's classes"):
        attack.generate(x, y=np.full(len(x), 3))
    with pytest.raises(ValueError, match="outside the classifier's classes"):
        attack.generate(x, y=np.full(len(x), -1))
    with pytest.raises(ValueError, match="120 samples but `y` has 119"):
        attack.generate(x, y=y[:-1])
    with pytest.raises(ValueError, match="one-hot"):
        attack.generate(x, y=np.full((len(x), 3), 0.5))
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        attack.generate(bad, y=y)
    with pytest.raises(ValueError, match="outside the classifier's clip_values"):
        attack.generate(x / 255.0 - 0.5, y=y)
    with pytest.raises(ValueError, match="empty"):
        attack.generate(x[:0], y=y[:0])


def test_drop_in_for_art_set_params(art_classifier):
    attack = _ours(art_classifier)
    assert isinstance(attack, ArtUAP)
    attack.set_params(targeted=False, eps=5.0)
    assert attack.targeted is False and attack.eps == 5.0
    with pytest.raises(ValueError, match="eps"):
        attack.set_params(eps=-2.0)


def test_generic_estimator_path_equals_compiled_keras_path(art_classifier, phantoms, monkeypatch):
    import art_medical.attacks.evasion.universal_perturbation as module

    x, _, _ = phantoms
    targets = np.full(len(x), 2)
    random.seed(4)
    compiled = _ours(art_classifier, max_iter=2)
    compiled.generate(x, y=targets)
    monkeypatch.setattr(module, "compiled_loss_gradient", lambda estimator: None)
    random.seed(4)
    generic = _ours(art_classifier, max_iter=2)
    generic.generate(x, y=targets)
    assert np.abs(compiled.noise).max() > 0
    np.testing.assert_allclose(generic.noise, compiled.noise, atol=1e-4)
    assert generic.targeted_success_rate == compiled.targeted_success_rate


def test_simba_inner_attack_equals_art(art_classifier, phantoms):
    """A random, one-image-at-a-time inner attack follows ART's order and random draws exactly."""
    x = phantoms[0][:20]
    targets = np.full(len(x), 2)
    params = {"max_iter": 20, "epsilon": 20.0, "targeted": True, "verbose": False}
    random.seed(1)
    np.random.seed(1)
    art = ArtTargetedUAP(art_classifier, "simba", params, delta=0.0, max_iter=1, eps=30.0)
    art.generate(x, y=np.eye(3)[targets])
    random.seed(1)
    np.random.seed(1)
    ours = _ours(art_classifier, attacker="simba", attacker_params=params, max_iter=1, eps=30.0)
    ours.generate(x, y=targets)
    assert np.abs(art.noise).max() > 0
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
    assert ours.targeted_success_rate == pytest.approx(art.targeted_success_rate)


def test_pgd_inner_attack_equals_art(art_classifier, phantoms):
    x, y = phantoms[0][:20], phantoms[1][:20]
    params = {"max_iter": 3, "eps": 4.0, "eps_step": 2.0, "verbose": False}
    random.seed(1)
    art = ArtUAP(art_classifier, "pgd", params, delta=0.0, max_iter=1, eps=30.0, verbose=False)
    art.generate(x, y=np.eye(3)[y])
    random.seed(1)
    ours = _ours(art_classifier, attacker="pgd", attacker_params=params, max_iter=1, eps=30.0, targeted=False)
    ours.generate(x, y=y)
    assert np.abs(art.noise).max() > 0
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
    assert ours.fooling_rate == pytest.approx(art.fooling_rate)


def test_sparse_loss_keras_classifier_equals_art(trained_cnn, phantoms):
    """The compiled gradient resolves a sparse loss as ART does (one-hot targets become indices)."""
    import keras
    from art.estimators.classification import KerasClassifier

    x = phantoms[0][:40]
    model = keras.models.clone_model(trained_cnn)
    model.set_weights(trained_cnn.get_weights())
    model.compile(loss="sparse_categorical_crossentropy")
    classifier = KerasClassifier(model, clip_values=(0.0, 255.0))
    targets = np.full(len(x), 2)
    random.seed(6)
    art = ArtTargetedUAP(classifier, "fgsm", {"eps": FGSM_STEP, "targeted": True}, delta=0.0, max_iter=2, eps=8.0)
    art.generate(x, y=np.eye(3)[targets])
    random.seed(6)
    ours = _ours(classifier, max_iter=2, eps=8.0)
    ours.generate(x, y=targets)
    assert np.abs(art.noise).max() > 0
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)


def test_other_art_estimators_take_the_generic_path(art_classifier, trained_cnn, phantoms):
    """A TensorFlowV2Classifier subclass (art_medical.models.to_art) gives the KerasClassifier result."""
    from art_medical.models import to_art

    x = phantoms[0][:60]
    targets = np.full(len(x), 2)
    random.seed(8)
    keras_based = _ours(art_classifier, max_iter=2)
    keras_based.generate(x, y=targets)
    random.seed(8)
    tf_v2_based = _ours(to_art(trained_cnn), max_iter=2)
    tf_v2_based.generate(x, y=targets)
    assert np.abs(keras_based.noise).max() > 0
    np.testing.assert_allclose(tf_v2_based.noise, keras_based.noise, atol=1e-4)
    assert tf_v2_based.targeted_success_rate == keras_based.targeted_success_rate


def test_randomly_initialised_inner_attack_runs_one_image_at_a_time_like_art(art_classifier, phantoms):
    """PGD with a random start draws from np.random: batching it would change the draws, so it is not batched."""
    x, y = phantoms[0][:12], phantoms[1][:12]
    params = {"max_iter": 2, "eps": 4.0, "eps_step": 2.0, "num_random_init": 1, "verbose": False}
    random.seed(2)
    np.random.seed(2)
    art = ArtUAP(art_classifier, "pgd", params, delta=0.0, max_iter=1, eps=30.0, verbose=False)
    art.generate(x, y=np.eye(3)[y])
    random.seed(2)
    np.random.seed(2)
    ours = _ours(art_classifier, attacker="pgd", attacker_params=params, max_iter=1, eps=30.0, targeted=False)
    ours.generate(x, y=y)
    assert np.abs(art.noise).max() > 0
    np.testing.assert_allclose(ours.noise, art.noise, atol=1e-4)
