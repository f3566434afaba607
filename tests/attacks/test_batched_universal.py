"""BatchedUniversalPerturbation (SGD-UAP): norm bound, determinism, success against the random control,
streaming equals in-memory, binary models, stopping rules and bad input."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
from art.estimators.classification import BlackBoxClassifier

from art_medical.attacks import BatchedUniversalPerturbation, random_uap
from art_medical.attacks._labels import predict_labels
from art_medical.metrics import lp_norms

NORM_CASES = [(np.inf, 8.0), (2, 300.0)]


def _attack(classifier, **kwargs):
    params = dict(eps=8.0, batch_size=16, max_iter=4, target_rate=1.0, verbose=False)
    params.update(kwargs)
    return BatchedUniversalPerturbation(classifier, **params)


def _rates(classifier, x, noise, target=None):
    clean = predict_labels(classifier, x, 64)
    adversarial = predict_labels(classifier, np.clip(x + noise, 0.0, 255.0), 64)
    if target is None:
        return float(np.mean(adversarial != clean))
    return float(np.mean(adversarial == target))


@pytest.mark.parametrize("norm,eps", NORM_CASES)
def test_noise_stays_in_the_eps_ball_after_every_update(art_classifier, phantoms, norm, eps):
    x, y, _ = phantoms
    attack = _attack(art_classifier, eps=eps, norm=norm, targeted=True, step_size=eps / 3)
    norms = []
    step = attack._step
    attack._step = lambda noise, direction: norms.append(lp_norms(step(noise, direction), norm)[0]) or step(
        noise, direction
    )
    attack.generate(x, np.full(len(x), 2))
    batches_per_pass = int(np.ceil(len(x) / attack.batch_size))
    assert len(norms) == batches_per_pass * len(attack.history)
    assert max(norms) <= eps * (1 + 1e-5)
    # With a step of eps / 3 the perturbation reaches the sphere: the bound is active, not vacuous.
    assert max(norms) >= eps * 0.99
    assert all(h["noise_norm"] <= eps * (1 + 1e-5) for h in attack.history)


def test_deterministic_for_a_seed(art_classifier, phantoms):
    x, _, _ = phantoms
    first = _attack(art_classifier, seed=3, max_iter=2).compute_noise(x)
    again = _attack(art_classifier, seed=3, max_iter=2).compute_noise(x)
    other = _attack(art_classifier, seed=4, max_iter=2).compute_noise(x)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("norm,eps", NORM_CASES)
def test_targeted_success_clearly_above_the_random_control(art_classifier, phantoms, norm, eps):
    x, _, _ = phantoms
    target = 2
    attack = _attack(art_classifier, eps=eps, norm=norm, targeted=True, max_iter=6, target_rate=0.9)
    x_adv = attack.generate(x, np.full(len(x), target))
    success = float(np.mean(predict_labels(art_classifier, x_adv, 64) == target))
    control = _rates(art_classifier, x, random_uap(x.shape[1:], eps, norm, seed=0), target)
    assert success == pytest.approx(attack.targeted_success_rate)
    assert success >= 0.8
    assert success > control + 0.3
    assert float(lp_norms(attack.noise, norm)[0]) <= eps * (1 + 1e-5)
    assert attack.converged == (success >= 0.9)


def test_non_targeted_fooling_above_the_random_control(art_classifier, phantoms):
    x, y, _ = phantoms
    attack = _attack(art_classifier, eps=10.0)
    attack.generate(x, y)
    control = _rates(art_classifier, x, random_uap(x.shape[1:], 10.0, np.inf, seed=0))
    assert attack.fooling_rate == pytest.approx(_rates(art_classifier, x, attack.noise))
    assert attack.fooling_rate > control + 0.3
    assert attack.targeted_success_rate is None


def test_keeps_the_best_pass_and_records_history(art_classifier, phantoms):
    x, _, _ = phantoms
    attack = _attack(art_classifier, eps=6.0, max_iter=5)
    attack.compute_noise(x)
    rates = [h["fooling_rate"] for h in attack.history]
    assert [h["pass"] for h in attack.history] == list(range(1, len(rates) + 1))
    assert attack.fooling_rate == max(rates)
    assert all(a["seconds"] <= b["seconds"] for a, b in zip(attack.history, attack.history[1:]))


def test_stops_at_the_target_rate_and_on_the_time_budget(art_classifier, phantoms):
    x, _, _ = phantoms
    early = _attack(art_classifier, eps=10.0, max_iter=10, target_rate=0.05)
    early.compute_noise(x)
    assert len(early.history) == 1 and early.converged
    hurried = _attack(art_classifier, eps=10.0, max_iter=10, target_rate=1.0, time_budget=1e-9)
    hurried.compute_noise(x)
    assert len(hurried.history) == 1 and not hurried.converged


def test_compiled_step_matches_the_loss_gradient_path(art_classifier, phantoms):
    x, _, _ = phantoms
    targets = np.full(len(x), 1)
    compiled = _attack(art_classifier, targeted=True, max_iter=2).compute_noise(x, targets)
    generic = _attack(art_classifier, targeted=True, max_iter=2, compiled=False).compute_noise(x, targets)
    assert np.mean(compiled == generic) > 0.99


def test_streaming_gives_the_in_memory_noise(art_classifier, phantoms, tmp_path):
    x, y, _ = phantoms
    targets = np.full(len(x), 2)
    in_memory = _attack(art_classifier, targeted=True, seed=5, max_iter=2).compute_noise(x, targets)

    with h5py.File(tmp_path / "images.h5", "w") as f:
        f.create_dataset("x", data=x, chunks=(16,) + x.shape[1:])
    with h5py.File(tmp_path / "images.h5", "r") as f:
        from_hdf5 = _attack(art_classifier, targeted=True, seed=5, max_iter=2).compute_noise(f["x"], targets)
    np.testing.assert_array_equal(from_hdf5, in_memory)

    def batches():
        return ((x[i : i + 16], targets[i : i + 16]) for i in range(0, len(x), 16))

    in_order = _attack(art_classifier, targeted=True, shuffle=False).compute_noise(x, targets)
    streamed = _attack(art_classifier, targeted=True, shuffle=False)
    np.testing.assert_array_equal(streamed.compute_noise(batches), in_order)
    assert streamed.history[-1]["targeted_success_rate"] > 0.5


def test_stream_must_be_replayable_and_consistent(art_classifier, phantoms):
    x, _, _ = phantoms
    attack = _attack(art_classifier)
    with pytest.raises(ValueError, match="callable"):
        attack.compute_noise((x[i : i + 16], None) for i in range(0, len(x), 16))
    sizes = iter([len(x), 32])
    with pytest.raises(ValueError, match="same batches"):
        attack.compute_noise(lambda: [(x[: next(sizes)], None)])
    with pytest.raises(ValueError, match="batch carries its labels"):
        attack.compute_noise(lambda: [(x, None)], np.zeros(len(x)))


def test_binary_single_output_model(binary_art_classifier, phantoms):
    x, y, _ = phantoms
    attack = _attack(binary_art_classifier, targeted=True, eps=10.0, max_iter=6, target_rate=0.95)
    target = 0
    attack.generate(x, np.full((len(x), 1), target))
    control = _rates(binary_art_classifier, x, random_uap(x.shape[1:], 10.0, np.inf, seed=0), target)
    assert attack.targeted_success_rate > control + 0.3
    fooling = _attack(binary_art_classifier, eps=10.0)
    fooling.generate(x, (y > 0).astype(int)[:, None])
    assert fooling.fooling_rate > 0.3


def test_generate_wants_an_array(art_classifier, phantoms, tmp_path):
    x, _, _ = phantoms
    with h5py.File(tmp_path / "images.h5", "w") as f:
        dataset = f.create_dataset("x", data=x)
        with pytest.raises(ValueError, match="compute_noise"):
            _attack(art_classifier).generate(dataset)


@pytest.mark.parametrize(
    "params,match",
    [
        ({"eps": 0.0}, "eps"),
        ({"eps": -1.0}, "eps"),
        ({"norm": 1}, "norm"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_iter": 0}, "max_iter"),
        ({"target_rate": 1.5}, "target_rate"),
        ({"time_budget": 0}, "time_budget"),
        ({"loss_clamp": -1.0}, "loss_clamp"),
        ({"step_size": 0.0}, "step_size"),
    ],
)
def test_bad_parameters(art_classifier, params, match):
    with pytest.raises(ValueError, match=match):
        _attack(art_classifier, **params)


def test_bad_inputs(art_classifier, phantoms):
    x, y, _ = phantoms
    targeted = _attack(art_classifier, targeted=True)
    with pytest.raises(ValueError, match="target"):
        targeted.generate(x)
    with pytest.raises(ValueError, match="outside the classifier's classes"):
        targeted.generate(x, np.full(len(x), 3))
    with pytest.raises(ValueError, match="samples"):
        targeted.generate(x, np.full(len(x) - 1, 1))
    with_nan = x.copy()
    with_nan[5, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _attack(art_classifier).generate(with_nan)
    with pytest.raises(ValueError, match="clip_values"):
        _attack(art_classifier).generate(x * 2.0 + 1.0)
    with pytest.raises(ValueError, match="image shape"):
        _attack(art_classifier).generate(x[:, :16, :16])
    black_box = BlackBoxClassifier(lambda z: np.zeros((len(z), 3)), x.shape[1:], 3, clip_values=(0.0, 255.0))
    with pytest.raises(ValueError, match="loss gradients"):
        BatchedUniversalPerturbation(black_box)
