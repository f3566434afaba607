"""Data the UAP attack was not tuned on, with small CNNs trained on them (no download: both ship with scikit-learn).

- ``digits_set``: scikit-learn's handwritten digits 0-4, upscaled from 8x8 to 32x32 grey images on 0-255.
- ``patches_set``: RGB 32x32 patches (64x64 crops, 2x2-averaged) of scikit-learn's two sample photographs; the
  class is the photograph and the half (left / right) the crop's centre lies in.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest


class AttackSet(NamedTuple):
    """A KerasClassifier and the held-out images the attacks run on."""

    classifier: object
    x: np.ndarray
    y: np.ndarray
    nb_classes: int


def digit_images(nb_classes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Digits ``0 .. nb_classes - 1`` as float32 32x32x1 images on 0-255, with their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = digits.target < nb_classes
    images = np.kron(digits.images[keep], np.ones((4, 4)))[..., None] * (255.0 / 16.0)
    return images.astype(np.float32), digits.target[keep].astype(np.int64)


def photo_patches(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random RGB patches of the sample photographs as float32 32x32x3 on 0-255, with 4 classes."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    images, labels = [], []
    for _ in range(n):
        which = int(rng.integers(len(photos)))
        photo = photos[which]
        row, col = rng.integers(0, photo.shape[0] - 64), rng.integers(0, photo.shape[1] - 64)
        crop = photo[row : row + 64, col : col + 64].astype(np.float32)
        images.append(crop.reshape(32, 2, 32, 2, 3).mean(axis=(1, 3)))
        labels.append(2 * which + int(col + 32 > photo.shape[1] / 2))
    return np.stack(images).astype(np.float32), np.asarray(labels, dtype=np.int64)


def _train_set(x: np.ndarray, y: np.ndarray, nb_classes: int, n_train: int, n_attack: int) -> AttackSet:
    import keras
    from art.estimators.classification import KerasClassifier

    from art_medical.models.small_cnn import SmallCNN

    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=x.shape[1:], classes=nb_classes, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
    model.fit(x[:n_train], keras.utils.to_categorical(y[:n_train], nb_classes), epochs=5, batch_size=32, verbose=0)
    held_out = slice(n_train, n_train + n_attack)
    return AttackSet(KerasClassifier(model, clip_values=(0.0, 255.0)), x[held_out], y[held_out], nb_classes)


@pytest.fixture(scope="session")
def digit_data() -> tuple[np.ndarray, np.ndarray]:
    """The 901 digits 0-4 in a seeded random order, and their labels."""
    x, y = digit_images()
    order = np.random.default_rng(0).permutation(len(x))
    return x[order], y[order]


@pytest.fixture(scope="session")
def digits_set(digit_data) -> AttackSet:
    """A SmallCNN trained on the first 500 digits; the next 64 to attack."""
    return _train_set(*digit_data, 5, 500, 64)


@pytest.fixture(scope="session")
def patches_set() -> AttackSet:
    """A SmallCNN trained on 500 photograph patches; 64 other patches to attack."""
    x, y = photo_patches(564, seed=0)
    return _train_set(x, y, 4, 500, 64)
