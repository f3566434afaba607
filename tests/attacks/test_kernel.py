"""The attack kernel of study 004's Fig. 2 on hand-computed examples."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.attacks.kernel import perturbation_kernel


def test_kernel_amplifies_each_image_to_the_full_range():
    x = np.full((3, 2, 2, 1), 100.0, dtype=np.float32)
    x_adv = x.copy()
    x_adv[0, 0, 0, 0], x_adv[0, 1, 1, 0] = 102.0, 99.0  # largest change 2 -> gain 63.75
    x_adv[1, 0, 1, 0] = 90.0  # largest change 10 -> gain 12.75
    kernel = perturbation_kernel(x, x_adv)
    assert kernel.dtype == np.float32 and kernel.shape == x.shape
    np.testing.assert_array_equal(kernel[0, ..., 0], [[255.0, 127.5], [127.5, 127.5 - 63.75]])
    np.testing.assert_array_equal(kernel[1, ..., 0], [[127.5, 0.0], [127.5, 127.5]])
    np.testing.assert_array_equal(kernel[2], np.full((2, 2, 1), 127.5))


def test_kernel_with_a_fixed_gain_clips():
    x = np.zeros((1, 1, 3, 1))
    x_adv = np.array([[[[1.0], [-0.5], [40.0]]]])
    np.testing.assert_array_equal(perturbation_kernel(x, x_adv, gain=10.0)[0, 0, :, 0], [137.5, 122.5, 255.0])


def test_kernel_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        perturbation_kernel(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="finite"):
        perturbation_kernel(np.zeros((1, 2, 2, 1)), np.full((1, 2, 2, 1), np.nan))
    with pytest.raises(ValueError, match="gain"):
        perturbation_kernel(np.zeros((1, 2, 2, 1)), np.ones((1, 2, 2, 1)), gain=0.0)
