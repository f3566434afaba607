"""The Keras model under an ART classifier, and labels in the format its compiled loss takes.

ART's ``KerasClassifier.fit`` turns the labels of a single-sigmoid-output model into two-column one-hot
labels, which Keras's binary cross-entropy rejects; the trainers therefore fine-tune the Keras model
directly, with labels made here.
"""
from __future__ import annotations

import keras
import numpy as np


def keras_model(classifier) -> keras.Model:
    """The compiled Keras model wrapped by ``classifier`` (an ART ``KerasClassifier``).

    :raises ValueError: If the classifier wraps no Keras model, or the model is not compiled.
    """
    model = getattr(classifier, "model", None)
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{type(classifier).__name__} wraps {type(model).__name__}, not a Keras model: the trainers fine-tune "
            "Keras models (ART KerasClassifier)."
        )
    if model.optimizer is None or model.loss is None:
        raise ValueError("The Keras model must be compiled with an optimizer and a loss before training.")
    return model


def model_labels(model: keras.Model, indices: np.ndarray, nb_classes: int) -> np.ndarray:
    """Class indices in the format of the model's loss: ``(n, 1)`` for one sigmoid output, indices for a
    sparse cross-entropy, one-hot otherwise."""
    if model.output_shape[-1] == 1:
        return indices.astype(np.float32)[:, None]
    loss = model.loss
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "")
    if "sparse" in str(name).lower():
        return indices.astype(np.int64)
    return np.eye(nb_classes, dtype=np.float32)[indices]
