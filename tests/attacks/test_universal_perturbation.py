"""TargetedUniversalPerturbation as a drop-in for ART's UAP classes: inner attacks and estimators, the arguments ART
accepts, settable results, stopping, per-pass history, rates, binary models and bad input.

Equality with ART is asserted bit for bit (exact mode); test_universal_perturbation_exact.py does so on data the
attack was not tuned on, in a regime with many accepted steps.
"""
from __future__ import annotations

import logging
import random

import numpy as np
import pytest
from art.attacks.evasion import TargetedUniversalPerturbation as ArtTargetedUAP
from art.attacks.evasion import UniversalPerturbation as ArtUAP

import art.attacks.evasion.targeted_universal_perturbation as art_targeted_module
import art.attacks.evasion.universal_perturbation as art_module
from art_medical.attacks import TargetedUniversalPerturbation

FGSM_STEP = 2.0  # inner FGSM step on the 0-255 pixel scale
TARGET = 2


def _ours(classifier, **kwargs) -> TargetedUniversalPerturbation:
    params = dict(attacker="fgsm", attacker_params={"eps": FGSM_STEP}, delta=0.0, max_iter=2, eps=8.0,
                  verbose=False, exact=True)
    params.update(kwargs)
    return TargetedUniversalPerturbation(classifier, **params)


def _art(classifier, x, y, seed: int, targeted: bool, attacker="fgsm", attacker_params=None, monkeypatch=None,
         **kwargs):
    """ART's own run; with ``monkeypatch``, also the number of accepted steps in each of its passes."""
    params = dict(delta=0.0, max_iter=2, eps=8.0)
    params.update(kwargs)
    attacker_params = dict({"eps": FGSM_STEP} if attacker_params is None else attacker_params)
    module = art_targeted_module if targeted else art_module
    passes: list[int] = []
    if monkeypatch is not None:
        real_random, real_projection = module.random, module.projection

        class PassCounter:
            @staticmethod
            def sample(population, k):
                passes.append(0)
                return real_random.sample(population, k)

        def counting_projection(*args, **kw):
            passes[-1] += 1
            return real_projection(*args, **kw)

        monkeypatch.setattr(module, "random", PassCounter)
        monkeypatch.setattr(module, "projection", counting_projection)
    random.seed(seed)
    np.random.seed(seed)
    if targeted:
        attack = ArtTargetedUAP(classifier, attacker, {**attacker_params, "targeted": True}, **params)
    else:
        attack = ArtUAP(classifier, attacker, attacker_params, verbose=False, **params)
    x_adv = attack.generate(x, y=y)
    return attack, x_adv, passes


def _run(attack, x, y, seed: int):
    random.seed(seed)
    np.random.seed(seed)
    return attack.generate(x, y=y)


def _assert_same(ours, x_ours, art, x_art):
    assert np.abs(art.noise).max() > 0, "the comparison is only meaningful if ART found a perturbation"
    np.testing.assert_array_equal(ours.noise, art.noise)
    np.testing.assert_array_equal(x_ours, x_art)
    assert ours.fooling_rate == art.fooling_rate
    assert ours.converged == art.converged


@pytest.mark.parametrize(
    "attacker,attacker_params,targeted",
    [
        ("bim", {"max_iter": 3, "eps": 6.0, "eps_step": 2.0, "verbose": False}, False),
        ("pgd", {"max_iter": 3, "eps": 4.0, "eps_step": 2.0, "verbose": False}, False),
        ("pgd", {"max_iter": 2, "eps": 4.0, "eps_step": 2.0, "num_random_init": 1, "verbose": False}, False),
        ("simba", {"max_iter": 20, "epsilon": 20.0, "verbose": False}, True),
    ],
)
def test_inner_attacks_equal_art(art_classifier, phantoms, attacker, attacker_params, targeted):
    """Other inner attacks, deterministic or drawing random numbers, evaluated through the estimator as ART does."""
    x, y = phantoms[0][:16], phantoms[1][:16]
    reference = np.full(len(x), TARGET) if targeted else y
    art, x_art, _ = _art(art_classifier, x, np.eye(3)[reference], 1, targeted, attacker, attacker_params,
                         max_iter=1, eps=30.0)
    ours = _ours(art_classifier, attacker=attacker, attacker_params=attacker_params, targeted=targeted,
                 max_iter=1, eps=30.0)
    _assert_same(ours, _run(ours, x, reference, 1), art, x_art)


@pytest.mark.parametrize("estimator", ["to_art", "sparse_loss"])
def test_other_estimators_equal_art(trained_cnn, phantoms, estimator):
    """A TensorFlowV2Classifier (art_medical.models.to_art, through the estimator) and a KerasClassifier with a
    sparse loss (compiled: one-hot targets become indices as in ART) give ART's bits."""
    import keras
    from art.estimators.classification import KerasClassifier

    from art_medical.models import to_art

    if estimator == "to_art":
        classifier = to_art(trained_cnn)
    else:
        model = keras.models.clone_model(trained_cnn)
        model.set_weights(trained_cnn.get_weights())
        model.compile(loss="sparse_categorical_crossentropy")
        classifier = KerasClassifier(model, clip_values=(0.0, 255.0))
    x = phantoms[0][:24]
    targets = np.full(len(x), TARGET)
    art, x_art, _ = _art(classifier, x, np.eye(3)[targets], 6, True)
    ours = _ours(classifier)
    _assert_same(ours, _run(ours, x, targets, 6), art, x_art)
    assert ours.targeted_success_rate == art.targeted_success_rate


def test_non_targeted_without_labels_equals_art(art_classifier, phantoms):
    x = phantoms[0][:24]
    art, x_art, _ = _art(art_classifier, x, None, 2, False)
    ours = _ours(art_classifier, targeted=False)
    _assert_same(ours, _run(ours, x, None, 2), art, x_art)


@pytest.mark.parametrize("norm", ["2", 3, 1.5])
def test_norms_art_projects_are_accepted(art_classifier, phantoms, norm):
    x, y = phantoms[0][:24], phantoms[1][:24]
    art, x_art, _ = _art(art_classifier, x, np.eye(3)[y], 3, False, eps=150.0, norm=norm)
    ours = _ours(art_classifier, targeted=False, eps=150.0, norm=norm)
    _assert_same(ours, _run(ours, x, y, 3), art, x_art)
    assert np.linalg.norm(ours.noise.ravel(), ord=float(norm)) <= 150.0 * (1 + 1e-6)


@pytest.mark.parametrize("targeted", [True, False])
def test_soft_labels_equal_art(art_classifier, phantoms, targeted):
    """Soft label rows: the class is their argmax, and the inner attack receives them as given, as in ART."""
    x = phantoms[0][:24]
    if targeted:
        rows = 0.6 * np.eye(3)[np.full(len(x), TARGET)] + 0.04
    else:
        rows = art_classifier.predict(x)
    art, x_art, _ = _art(art_classifier, x, rows, 4, targeted)
    ours = _ours(art_classifier, targeted=targeted)
    _assert_same(ours, _run(ours, x, rows, 4), art, x_art)


def test_x_a_rounding_error_outside_clip_values_runs_as_in_art(art_classifier, phantoms, caplog):
    x, y = phantoms[0][:24].copy(), phantoms[1][:24]
    x[0, 0, 0, 0] = np.nextafter(np.float32(255.0), np.float32(np.inf))
    x[1, 0, 0, 0] = np.nextafter(np.float32(0.0), np.float32(-np.inf))
    art, x_art, _ = _art(art_classifier, x, np.eye(3)[y], 5, False)
    with caplog.at_level(logging.WARNING):
        ours = _ours(art_classifier, targeted=False)
        x_ours = _run(ours, x, y, 5)
    assert "exceeds clip_values by float rounding" in caplog.text
    _assert_same(ours, x_ours, art, x_art)


def test_clip_values_messages_tell_rounding_from_a_wrong_scale(trained_cnn, phantoms):
    from art.estimators.classification import KerasClassifier

    unit_scale = KerasClassifier(trained_cnn, clip_values=(0.0, 1.0))
    x = phantoms[0][:8] / 255.0
    x[0, 0, 0, 0] = 1.0 + 1e-6  # float rounding of a preprocessing step
    attack = _ours(unit_scale, targeted=False, max_iter=1, eps=0.05)
    x_adv = attack.generate(x)
    assert x_adv.max() <= 1.0 and attack.history[0]["pass"] == 1
    x[0, 0, 0, 0] = 1.01
    with pytest.raises(ValueError, match=r"values in \[0, 1\.00999999\], outside the classifier's clip_values \[0, 1\]"):
        attack.generate(x)


def test_results_are_settable_attributes_as_in_art(art_classifier):
    attack = _ours(art_classifier)
    noise = np.ones((1, 32, 32, 1), dtype=np.float32)
    attack.noise, attack.fooling_rate, attack.targeted_success_rate, attack.converged = noise, 0.25, 0.5, True
    assert attack.noise is noise
    assert (attack.fooling_rate, attack.targeted_success_rate, attack.converged) == (0.25, 0.5, True)


@pytest.mark.parametrize("exact", [True, False])
def test_rates_come_from_the_estimators_own_batching(art_classifier, phantoms, monkeypatch, exact):
    """The whole set goes to ``estimator.predict`` at once: ``batch_size=1`` as ART passes it (exact), the attack's
    ``batch_size`` otherwise, at the start and after each pass that changed the noise (a compiled pass that did not
    leaves the labels as they were); the rates are those of the returned images."""
    x = phantoms[0][:40]
    seen = []
    predict = art_classifier.predict

    def recording_predict(images, batch_size=128, **kwargs):
        seen.append((len(images), batch_size))
        return predict(images, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(art_classifier, "predict", recording_predict)
    attack = _ours(art_classifier, exact=exact, batch_size=16, eps=12.0)
    x_adv = _run(attack, x, np.full(len(x), TARGET), 0)
    whole_set_calls = [batch_size for n, batch_size in seen if n == len(x)]
    changed = [k == 0 or entry["updates"] > 0 for k, entry in enumerate(attack.history)]
    assert whole_set_calls == [1 if exact else 16] * (1 + sum(changed))  # clean predictions, then the passes
    adv_labels = predict(x_adv).argmax(axis=1)
    assert attack.targeted_success_rate == np.mean(adv_labels == TARGET)
    assert attack.fooling_rate == np.mean(adv_labels != predict(x).argmax(axis=1))


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


@pytest.mark.parametrize("exact", [True, False])
def test_compiled_walk_replaces_arts_per_image_calls(art_classifier, phantoms, monkeypatch, exact):
    """With a plain KerasClassifier a pass is one compiled call: the estimator only sees the whole-set predictions
    (and, in exact mode, the comparison of the first pass with its own calls), where ART calls it per image."""
    x = phantoms[0][:40]
    targets = np.full(len(x), TARGET)
    calls = _count_model_calls(art_classifier, monkeypatch)
    _art(art_classifier, x, np.eye(3)[targets], 0, True)
    art_calls, calls["n"] = calls["n"], 0
    ours = _ours(art_classifier, exact=exact)
    _run(ours, x, targets, 0)
    assert art_calls >= len(x) * len(ours.history)
    assert calls["n"] <= 1 + len(ours.history) + (4 if exact else 0)


def test_estimator_walk_batches_in_default_mode(trained_cnn, phantoms, monkeypatch):
    """Through the estimator, the default mode predicts look-ahead windows together; exact mode calls per image."""
    from art_medical.models import to_art

    classifier = to_art(trained_cnn)
    x = phantoms[0][:40]
    targets = np.full(len(x), TARGET)
    calls = _count_model_calls(classifier, monkeypatch)
    _run(_ours(classifier, exact=True), x, targets, 0)
    exact_calls, calls["n"] = calls["n"], 0
    batched = _ours(classifier, exact=False)
    _run(batched, x, targets, 0)
    assert calls["n"] < exact_calls / 3
    assert batched.targeted_success_rate > np.mean(classifier.predict(x).argmax(axis=1) == TARGET)


@pytest.mark.parametrize("delta,max_iter", [(0.8, 4), (0.0, 3)])
def test_stopping_and_history_follow_art(art_classifier, phantoms, monkeypatch, delta, max_iter):
    """The number of passes, ``converged`` and each pass's accepted steps equal ART's; with delta 0.8 the run
    converges after one pass, with delta 0 it runs out of passes."""
    x = phantoms[0][:30]
    targets = np.full(len(x), TARGET)
    art, _, art_passes = _art(art_classifier, x, np.eye(3)[targets], 3, True, monkeypatch=monkeypatch,
                              delta=delta, max_iter=max_iter, eps=12.0)
    ours = _ours(art_classifier, delta=delta, max_iter=max_iter, eps=12.0)
    _run(ours, x, targets, 3)
    history = ours.history
    assert [entry["updates"] for entry in history] == art_passes
    assert ours.converged == art.converged == (delta > 0)
    assert [entry["pass"] for entry in history] == list(range(1, len(art_passes) + 1))
    assert history[-1]["targeted_success_rate"] == ours.targeted_success_rate == art.targeted_success_rate
    assert history[-1]["fooling_rate"] == ours.fooling_rate
    assert history[-1]["noise_norm"] == pytest.approx(np.abs(ours.noise).max())


def test_delta_one_returns_without_a_pass(art_classifier, phantoms):
    x = phantoms[0]
    attack = _ours(art_classifier, delta=1.0)
    x_adv = attack.generate(x, y=np.full(len(x), TARGET))
    assert attack.history == []
    assert np.all(attack.noise == 0)
    np.testing.assert_array_equal(x_adv, x)
    assert attack.converged is True
    assert attack.targeted_success_rate == np.mean(art_classifier.predict(x).argmax(axis=1) == TARGET)


@pytest.mark.parametrize("norm,eps", [(np.inf, 4.0), ("inf", 4.0), (2, 60.0)])
@pytest.mark.parametrize("targeted", [True, False])
def test_noise_norm_never_exceeds_eps(art_classifier, phantoms, norm, eps, targeted):
    x, y = phantoms[0][:40], phantoms[1][:40]
    attack = _ours(art_classifier, eps=eps, norm=norm, targeted=targeted, attacker_params={"eps": 40.0}, exact=False)
    x_adv = _run(attack, x, np.full(len(x), TARGET) if targeted else y, 0)
    order = np.inf if norm in (np.inf, "inf") else 2
    assert np.linalg.norm(attack.noise.ravel(), ord=order) <= eps * (1 + 1e-5)
    assert np.linalg.norm(attack.noise.ravel(), ord=order) > 0.5 * eps  # the big inner step saturates the ball
    assert all(entry["noise_norm"] <= eps * (1 + 1e-5) for entry in attack.history)
    assert x_adv.min() >= 0.0 and x_adv.max() <= 255.0
    assert attack.noise.shape == (1,) + x.shape[1:]


@pytest.mark.parametrize("exact", [True, False])
def test_binary_single_sigmoid_output(binary_art_classifier, phantoms, exact):
    """ART rejects one-output models; here their label is ``p >= 0.5`` and targets may be (n,) or (n, 1)."""
    x, y, _ = phantoms
    healthy = x[y == 0]
    attack = _ours(binary_art_classifier, eps=12.0, max_iter=4, attacker_params={"eps": 3.0}, exact=exact)
    x_adv = _run(attack, healthy, np.ones((len(healthy), 1), dtype=int), 0)
    clean_positive = np.mean(binary_art_classifier.predict(healthy)[:, 0] >= 0.5)
    adv_positive = np.mean(binary_art_classifier.predict(x_adv)[:, 0] >= 0.5)
    assert attack.targeted_success_rate == adv_positive
    assert adv_positive > clean_positive + 0.3
    assert np.abs(attack.noise).max() <= 12.0 + 1e-5


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"eps": 0.0}, "eps"),
        ({"eps": -1.0}, "eps"),
        ({"norm": 0}, "norm"),
        ({"norm": -2}, "norm"),
        ({"norm": "l2"}, "norm"),
        ({"norm": None}, "norm"),
        ({"norm": True}, "norm"),
        ({"delta": 1.5}, "range"),
        ({"delta": -0.1}, "range"),
        ({"max_iter": 0}, "iterations"),
        ({"batch_size": 0}, "batch_size"),
        ({"attacker": "magic"}, "attacker"),
        ({"attacker_params": [("eps", 1.0)]}, "dict"),
        ({"targeted": "yes"}, "targeted"),
        ({"exact": 1}, "exact"),
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
    with pytest.raises(ValueError, match="integer class indices"):
        attack.generate(x, y=np.full(len(x), 1.5))
    with pytest.raises(ValueError, match="120 samples but `y` has 119"):
        attack.generate(x, y=y[:-1])
    with pytest.raises(ValueError, match="finite"):
        attack.generate(x, y=np.full((len(x), 3), np.nan))
    with pytest.raises(ValueError, match="shape"):
        attack.generate(x, y=np.zeros((len(x), 3, 1)))
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
    attack.set_params(targeted=False, eps=5.0, exact=False)
    assert attack.targeted is False and attack.eps == 5.0 and attack.exact is False
    with pytest.raises(ValueError, match="eps"):
        attack.set_params(eps=-2.0)
