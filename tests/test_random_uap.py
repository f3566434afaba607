"""The random control of the studies (art_medical.attacks.random_uap)."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.attacks import random_uap


@pytest.mark.parametrize("norm, order", [(2, 2), (np.inf, np.inf), ("inf", np.inf)])
def test_norm_equals_eps(norm, order):
    noise = random_uap((16, 16, 3), eps=7.5, norm=norm, seed=3)
    assert noise.shape == (1, 16, 16, 3)
    assert noise.dtype == np.float32
    assert np.linalg.norm(noise.ravel().astype(np.float64), ord=order) == pytest.approx(7.5, rel=1e-5)


def test_linf_noise_is_spread_over_the_ball_not_a_vertex():
    noise = random_uap((32, 32, 1), eps=4.0, norm=np.inf, seed=0)
    magnitudes = np.abs(noise)
    assert magnitudes.max() == pytest.approx(4.0)
    # Uniform in [-eps, eps]: mean |v| is about eps / 2, far from the eps of a sign vector.
    assert 1.7 < magnitudes.mean() < 2.3


def test_l2_direction_is_isotropic():
    noise = random_uap((32, 32, 1), eps=10.0, norm=2, seed=0).ravel()
    assert abs(noise.mean()) < 0.05
    assert np.mean(noise > 0) == pytest.approx(0.5, abs=0.05)


def test_seeded_reproducibility():
    a = random_uap((8, 8, 1), 3.0, 2, seed=11)
    b = random_uap((8, 8, 1), 3.0, 2, seed=11)
    c = random_uap((8, 8, 1), 3.0, 2, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    "shape, eps, norm, message",
    [
        ((8, 8, 1), 0.0, 2, "eps"),
        ((8, 8, 1), -1.0, np.inf, "eps"),
        ((8, 8, 1), float("inf"), 2, "eps"),
        ((8, 8, 1), 1.0, 1, "norm"),
        ((), 1.0, 2, "shape"),
        ((8, 0, 1), 1.0, 2, "shape"),
    ],
)
def test_rejects_bad_arguments(shape, eps, norm, message):
    with pytest.raises(ValueError, match=message):
        random_uap(shape, eps, norm, seed=0)
