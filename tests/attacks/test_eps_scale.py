"""The [0, 1] -> pixel budget mapping of studies 003 / 004."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.attacks.eps_scale import input_range, to_pixel_eps


def test_unit_budgets_are_fractions_of_the_input_range():
    assert to_pixel_eps(0.3, "unit", (0.0, 255.0)) == 0.3 * 255.0 == 76.5
    assert to_pixel_eps(0.0001, "unit", np.array([0.0, 255.0], dtype=np.float32)) == 0.0001 * 255.0
    assert to_pixel_eps(0.5, "unit", (-1.0, 1.0)) == 1.0
    assert to_pixel_eps(0.25, "unit", (np.zeros((4, 4, 1)), np.full((4, 4, 1), 2.0))) == 0.5
    assert isinstance(to_pixel_eps(np.float32(0.1), "unit", (0, 255)), float)


def test_pixel_budgets_are_used_as_given():
    assert to_pixel_eps(0.3, "pixel", (0.0, 255.0)) == 0.3
    assert to_pixel_eps(4, "pixel", None) == 4.0
    assert to_pixel_eps(0.0, "unit", (0.0, 255.0)) == 0.0


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="eps_scale"):
        to_pixel_eps(0.1, "percent", (0.0, 255.0))
    with pytest.raises(ValueError, match="non-negative"):
        to_pixel_eps(-0.1, "unit", (0.0, 255.0))
    with pytest.raises(ValueError, match="non-negative"):
        to_pixel_eps(float("inf"), "pixel", (0.0, 255.0))
    with pytest.raises(ValueError, match="needs a classifier with clip_values"):
        to_pixel_eps(0.1, "unit", None)
    with pytest.raises(ValueError, match="one positive input range"):
        input_range((np.array([0.0, 0.0]), np.array([1.0, 255.0])))
    with pytest.raises(ValueError, match="one positive input range"):
        input_range((1.0, 1.0))
