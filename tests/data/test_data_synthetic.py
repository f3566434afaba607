"""Synthetic chest X-ray phantoms: shapes, pixel range, balance, seeding, patterns and bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.data.synthetic import CLASS_NAMES, make_chest_xray_phantoms


@pytest.mark.parametrize("size,channels", [(16, 1), (48, 3), (33, 1)])
def test_shape_range_and_balance(size, channels):
    x, y, names = make_chest_xray_phantoms(5, size=size, channels=channels, seed=1)
    assert x.shape == (15, size, size, channels) and x.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [5, 5, 5]
    assert names == list(CLASS_NAMES)
    assert x.min() >= 0.0 and x.max() <= 255.0 and x.std() > 20.0
    if channels == 3:
        np.testing.assert_array_equal(x[..., 0], x[..., 2])


def test_same_seed_same_images_other_seed_other_images():
    a, ya, _ = make_chest_xray_phantoms(4, size=24, seed=3)
    b, yb, _ = make_chest_xray_phantoms(4, size=24, seed=3)
    c, _, _ = make_chest_xray_phantoms(4, size=24, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert np.abs(a - c).mean() > 1.0


def test_labels_are_shuffled_not_grouped():
    _, y, _ = make_chest_xray_phantoms(30, size=16, seed=0)
    assert np.any(np.diff(y) < 0) and not np.all(y[:30] == y[0])


def test_disease_patterns_brighten_the_lungs():
    """Pneumonia and COVID-like opacities add density inside the lung fields that normal images lack."""
    x, y, _ = make_chest_xray_phantoms(60, size=64, seed=0)
    lung_band = x[:, 24:48, 8:56, 0].mean(axis=(1, 2))
    normal, pneumonia, covid = (lung_band[y == k].mean() for k in range(3))
    assert pneumonia > normal + 1.0
    assert covid > normal + 1.0


def test_subset_of_classes_relabels_in_order():
    x, y, names = make_chest_xray_phantoms(3, size=16, classes=("covid", "normal"), seed=0)
    assert names == ["covid", "normal"] and sorted(set(y.tolist())) == [0, 1] and len(x) == 6


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_per_class": 0}, "n_per_class"),
        ({"size": 8}, "size"),
        ({"channels": 2}, "channels"),
        ({"classes": ("normal", "tumour")}, "Unknown class"),
        ({"classes": ()}, "Unknown class"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    params = {"n_per_class": 2, "size": 16}
    params.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_chest_xray_phantoms(**params)
