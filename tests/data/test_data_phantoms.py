"""K-class lesion phantoms: shapes, seeding, the class patterns, learnability and bad arguments."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.data import make_phantoms
from art_medical.data.synthetic import PATTERNS


@pytest.mark.parametrize("num_classes,size,channels", [(4, 32, 1), (7, 32, 3), (2, 20, 3), (8, 16, 1)])
def test_shape_range_balance_and_names(num_classes, size, channels):
    x, y, names = make_phantoms(3, num_classes, size=size, channels=channels, seed=2)
    assert x.shape == (3 * num_classes, size, size, channels) and x.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [3] * num_classes
    assert names == list(PATTERNS[:num_classes])
    assert x.min() >= 0.0 and x.max() <= 255.0
    assert x.reshape(len(x), -1).std(axis=1).min() > 10.0, "every image has structure"


def test_rgb_is_tinted_not_gray():
    x, _, _ = make_phantoms(5, 3, channels=3, seed=0)
    red, blue = x[..., 0].mean(), x[..., 2].mean()
    assert red > blue + 20.0


def test_same_seed_same_images_other_seed_other_images():
    a, ya, _ = make_phantoms(4, 5, seed=3)
    b, yb, _ = make_phantoms(4, 5, seed=3)
    c, yc, _ = make_phantoms(4, 5, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    assert np.abs(a - c).mean() > 5.0 and not np.array_equal(ya, yc)


def test_stripe_classes_have_their_orientation():
    """Vertical stripes vary along x, horizontal ones along y; diagonal ones along both alike."""
    x, y, names = make_phantoms(10, 8, size=32, seed=1)
    gx = np.abs(np.diff(x[..., 0], axis=2)).mean(axis=(1, 2))
    gy = np.abs(np.diff(x[..., 0], axis=1)).mean(axis=(1, 2))
    ratio = {name: float(np.median((gx / gy)[y == k])) for k, name in enumerate(names)}
    assert ratio["vertical stripes"] > 1.5 and ratio["horizontal stripes"] < 1 / 1.5
    assert 0.8 < ratio["diagonal stripes"] < 1.25 and 0.8 < ratio["anti-diagonal stripes"] < 1.25


def test_dense_blob_is_brighter_at_the_centre_than_rings():
    x, y, names = make_phantoms(12, 8, size=32, seed=5)
    centre = x[:, 12:20, 12:20, 0].mean(axis=(1, 2))
    assert centre[y == names.index("dense blob")].mean() > centre[y == names.index("hollow ring")].mean() + 15.0


def test_a_small_cnn_learns_the_classes_from_a_few_dozen_images():
    import keras

    from art_medical.models.small_cnn import SmallCNN

    x, y, _ = make_phantoms(24, 4, size=32, channels=1, seed=0)
    x_test, y_test, _ = make_phantoms(16, 4, size=32, channels=1, seed=100)
    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=(32, 32, 1), classes=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    accuracy = float((model.predict(x_test, verbose=0).argmax(axis=1) == y_test).mean())
    assert accuracy >= 0.6, f"held-out accuracy {accuracy:.2f} (chance 0.25)"


@pytest.mark.parametrize("kwargs,message", [
    ({"n_per_class": 0}, "n_per_class"),
    ({"num_classes": 0}, "num_classes"),
    ({"num_classes": 9}, "num_classes"),
    ({"size": 8}, "size"),
    ({"channels": 2}, "channels"),
])
def test_bad_arguments_raise(kwargs, message):
    params = {"n_per_class": 2, "num_classes": 3, "size": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_phantoms(**params)
