"""Fixtures for the model-zoo tests: tiny untrained models of each output kind on 32x32x1 images."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """12 random 32x32x1 images on 0-255."""
    return np.random.default_rng(0).uniform(0.0, 255.0, (12, 32, 32, 1)).astype(np.float32)


def _small_cnn(classes: int, activation: str | None):
    import keras
    from art_medical.models import SmallCNN

    keras.utils.set_random_seed(1)
    return SmallCNN(input_shape=(32, 32, 1), classes=classes, filters=4, classifier_activation=activation)


@pytest.fixture(scope="module")
def softmax_cnn():
    return _small_cnn(3, "softmax")


@pytest.fixture(scope="module")
def logits_cnn():
    return _small_cnn(3, None)


@pytest.fixture(scope="module")
def sigmoid_cnn():
    return _small_cnn(1, "sigmoid")
