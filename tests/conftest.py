"""Shared fixtures: small synthetic data and small trained Keras models wrapped for ART."""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def phantoms():
    """120 synthetic chest X-rays, 32x32x1 on 0-255, 3 classes (normal / pneumonia / covid)."""
    from art_medical.data.synthetic import make_chest_xray_phantoms

    return make_chest_xray_phantoms(40, size=32, channels=1, seed=0)


def _train(model, x, y, loss, epochs=20):
    import keras

    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model


@pytest.fixture(scope="session")
def trained_cnn(phantoms):
    """A SmallCNN (softmax, 3 classes) trained briefly on the phantoms."""
    import keras
    from art_medical.models.small_cnn import SmallCNN

    x, y, _ = phantoms
    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=x.shape[1:], classes=3, filters=8)
    return _train(model, x, keras.utils.to_categorical(y, 3), "categorical_crossentropy")


@pytest.fixture(scope="session")
def art_classifier(trained_cnn):
    """ART KerasClassifier around ``trained_cnn`` with clip_values (0, 255)."""
    from art.estimators.classification import KerasClassifier

    return KerasClassifier(trained_cnn, clip_values=(0.0, 255.0), use_logits=False)


@pytest.fixture(scope="session")
def binary_art_classifier(phantoms):
    """ART KerasClassifier around a single-sigmoid-output model (normal vs abnormal)."""
    import keras
    from art.estimators.classification import KerasClassifier
    from art_medical.models.small_cnn import SmallCNN

    x, y, _ = phantoms
    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=x.shape[1:], classes=1, filters=8, classifier_activation="sigmoid")
    model = _train(model, x, (y > 0).astype(np.float32)[:, None], "binary_crossentropy")
    return KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False)
