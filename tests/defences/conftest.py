"""Fixtures for the defence tests: fresh copies of the session's trained CNN (training mutates them)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def test_phantoms():
    """Held-out phantoms (another seed): 60 images, 32x32x1."""
    from art_medical.data.synthetic import make_chest_xray_phantoms

    return make_chest_xray_phantoms(20, size=32, channels=1, seed=1)


@pytest.fixture
def make_classifier(trained_cnn):
    """Factory of independent KerasClassifiers starting from ``trained_cnn``'s weights."""
    import keras
    from art.estimators.classification import KerasClassifier

    def make(learning_rate: float = 1e-3) -> KerasClassifier:
        model = keras.models.clone_model(trained_cnn)
        model.set_weights(trained_cnn.get_weights())
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
        return KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False)

    return make

