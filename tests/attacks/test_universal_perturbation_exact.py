"""TargetedUniversalPerturbation(exact=True) gives ART's perturbation bit for bit, and the default mode ART's rates in
distribution, on data the attack was not tuned on (scikit-learn digits and photograph patches, see conftest.py).

The regime has many accepted steps (xi = 20 % of the mean image norm, an inner FGSM step large enough that most
candidate images take one): every accepted step feeds the next evaluations, so one differing bit in a prediction or
a gradient sign would change the perturbation.
"""
from __future__ import annotations

import logging
import random

import numpy as np
import pytest
from art.attacks.evasion import TargetedUniversalPerturbation as ArtTargetedUAP
from art.attacks.evasion import UniversalPerturbation as ArtUAP
from art.utils import projection

import art.attacks.evasion.targeted_universal_perturbation as art_targeted_module
import art.attacks.evasion.universal_perturbation as art_module
from art_medical.attacks import TargetedUniversalPerturbation
from art_medical.metrics import xi_from_zeta

N_IMAGES, PASSES, ZETA, TARGET = 32, 2, 0.20, 1
# Inner FGSM step sizes (0-255 scale) per data set and step norm, chosen so that steps are accepted at many images.
STEPS = {"digits": {np.inf: 40.0, 2: 1000.0}, "patches": {np.inf: 16.0, 2: 600.0}}

# (data set, targeted, UAP norm, inner step norm, seed): on each data set both directions and both norms, an L2
# inner step, three seeds. The slow sweep takes every combination with three more seeds.
CASES = [
    ("digits", False, np.inf, np.inf, 0),
    ("digits", True, 2, np.inf, 1),
    ("digits", True, np.inf, 2, 2),
    ("patches", True, np.inf, np.inf, 0),
    ("patches", False, 2, np.inf, 1),
    ("patches", False, 2, 2, 2),
]
SWEEP = [
    (data, targeted, norm, step_norm, seed)
    for data in ("digits", "patches")
    for targeted in (True, False)
    for norm in (np.inf, 2)
    for step_norm in (np.inf, 2)
    for seed in (3, 4, 5)
]


@pytest.fixture(scope="module")
def art_runs(request):
    """ART's run of a case, computed once per module: noise, x_adv, rates, converged and accepted steps."""
    cache: dict[tuple, dict] = {}

    def run(data: str, targeted: bool, norm, step_norm, seed: int) -> dict:
        key = (data, targeted, norm, step_norm, seed)
        if key not in cache:
            cache[key] = _art_run(request.getfixturevalue(f"{data}_set"), targeted, norm, STEPS[data][step_norm],
                                  step_norm, seed)
        return cache[key]

    return run


def _eps(data_set, norm) -> float:
    return xi_from_zeta(data_set.x[:N_IMAGES], ZETA, norm)


def _art_run(data_set, targeted: bool, norm, step: float, step_norm, seed: int) -> dict:
    """Run ART's own class, counting its accepted steps (ART projects the noise exactly when it accepts one)."""
    module = art_targeted_module if targeted else art_module
    accepted = []

    def counting_projection(*args, **kwargs):
        accepted.append(1)
        return projection(*args, **kwargs)

    original, module.projection = module.projection, counting_projection
    x, y = data_set.x[:N_IMAGES], data_set.y[:N_IMAGES]
    try:
        random.seed(seed)
        if targeted:
            attack = ArtTargetedUAP(data_set.classifier, "fgsm", {"eps": step, "norm": step_norm, "targeted": True},
                                    delta=0.0, max_iter=PASSES, eps=_eps(data_set, norm), norm=norm)
            x_adv = attack.generate(x, y=np.eye(data_set.nb_classes)[np.full(len(x), TARGET)])
            success = attack.targeted_success_rate
        else:
            attack = ArtUAP(data_set.classifier, "fgsm", {"eps": step, "norm": step_norm}, delta=0.0,
                            max_iter=PASSES, eps=_eps(data_set, norm), norm=norm, verbose=False)
            x_adv = attack.generate(x, y=np.eye(data_set.nb_classes)[y])
            success = None
    finally:
        module.projection = original
    return {"noise": attack.noise, "x_adv": x_adv, "fooling_rate": attack.fooling_rate, "success": success,
            "converged": attack.converged, "accepted": len(accepted)}


def _ours(data_set, targeted: bool, norm, step: float, step_norm, seed: int, exact: bool):
    x, y = data_set.x[:N_IMAGES], data_set.y[:N_IMAGES]
    attack = TargetedUniversalPerturbation(
        data_set.classifier, "fgsm", {"eps": step, "norm": step_norm}, delta=0.0, max_iter=PASSES,
        eps=_eps(data_set, norm), norm=norm, targeted=targeted, exact=exact, verbose=False,
    )
    random.seed(seed)
    x_adv = attack.generate(x, y=np.full(len(x), TARGET) if targeted else y)
    return attack, x_adv


def _check_exact(request, art_runs, caplog, data, targeted, norm, step_norm, seed):
    art = art_runs(data, targeted, norm, step_norm, seed)
    with caplog.at_level(logging.WARNING):
        ours, x_adv = _ours(request.getfixturevalue(f"{data}_set"), targeted, norm, STEPS[data][step_norm],
                            step_norm, seed, exact=True)
    assert art["accepted"] >= 8, "the regime must have many accepted steps to be a test of exactness"
    np.testing.assert_array_equal(ours.noise, art["noise"])
    np.testing.assert_array_equal(x_adv, art["x_adv"])
    assert ours.fooling_rate == art["fooling_rate"]
    assert ours.targeted_success_rate == art["success"]
    assert ours.converged == art["converged"]
    assert sum(entry["updates"] for entry in ours.history) == art["accepted"]
    assert "differs from" not in caplog.text, "the compiled path must be the one that was compared"


@pytest.mark.parametrize("data,targeted,norm,step_norm,seed", CASES)
def test_exact_mode_equals_art_bit_for_bit(request, art_runs, caplog, data, targeted, norm, step_norm, seed):
    _check_exact(request, art_runs, caplog, data, targeted, norm, step_norm, seed)


@pytest.mark.slow
@pytest.mark.parametrize("data,targeted,norm,step_norm,seed", SWEEP)
def test_exact_mode_equals_art_sweep(request, art_runs, caplog, data, targeted, norm, step_norm, seed):
    _check_exact(request, art_runs, caplog, data, targeted, norm, step_norm, seed)


def test_default_mode_rates_match_art_over_seeds(digits_set, art_runs):
    """Batched evaluation may take another path than ART's, but its rates come from the same distribution."""
    seeds = range(5)
    art = np.array([art_runs("digits", False, np.inf, np.inf, seed)["fooling_rate"] for seed in seeds])
    ours = np.array(
        [_ours(digits_set, False, np.inf, STEPS["digits"][np.inf], np.inf, seed, exact=False)[0].fooling_rate
         for seed in seeds]
    )
    spread = np.sqrt((art.var(ddof=1) + ours.var(ddof=1)) / len(art))
    assert abs(ours.mean() - art.mean()) <= 2 * spread + 1.0 / N_IMAGES
    assert ours.mean() > 0.1, "the perturbations must fool the model for the comparison to mean anything"


def test_exact_mode_falls_back_to_the_estimator_when_one_bit_differs(digits_set, caplog, monkeypatch):
    """Exact mode compares its compiled evaluation of the first pass with the estimator's own calls; a compiled FGSM
    step one ulp off must be caught, and the run then evaluates through the estimator and still equals ART."""
    import art_medical.attacks.evasion.universal_perturbation as module

    exact_step = module._fgsm_step

    def one_ulp_off(*args):
        step = exact_step(*args)
        return lambda x_in, grads: np.nextafter(step(x_in, grads), np.float32(np.inf))

    monkeypatch.setattr(module, "_fgsm_step", one_ulp_off)
    x, y = digits_set.x[:12], digits_set.y[:12]
    params = dict(delta=0.0, max_iter=1, eps=_eps(digits_set, np.inf) + 0.5, norm=np.inf)  # a walk of its own
    random.seed(9)
    art = ArtUAP(digits_set.classifier, "fgsm", {"eps": 40.0}, verbose=False, **params)
    art.generate(x, y=np.eye(5)[y])
    random.seed(9)
    with caplog.at_level(logging.WARNING):
        ours = TargetedUniversalPerturbation(
            digits_set.classifier, "fgsm", {"eps": 40.0}, targeted=False, exact=True, verbose=False, **params
        )
        ours.generate(x, y=y)
    assert "differs from KerasClassifier's own calls" in caplog.text
    assert np.abs(art.noise).max() > 0
    np.testing.assert_array_equal(ours.noise, art.noise)
    assert ours.fooling_rate == art.fooling_rate
