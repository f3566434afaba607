"""Label conventions shared by the attacks: integer class indices inside, ART's formats at the edge.

Multi-output classifiers take one-hot labels; a binary classifier with a single sigmoid output takes
labels of shape ``(n, 1)`` and its prediction is ``p >= 0.5`` (``metrics.to_labels``).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from art_medical.metrics import to_labels


def is_single_output(estimator) -> bool:
    """Whether the classifier has one sigmoid output (ART reports ``nb_classes == 2`` for it)."""
    output_shape = getattr(getattr(estimator, "model", None), "output_shape", None)
    if isinstance(output_shape, list):
        output_shape = output_shape[0]
    return output_shape is not None and output_shape[-1] == 1


def labels_in_batches(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch_size: int) -> np.ndarray:
    """Class indices from ``predict`` (a function of a batch returning model outputs), in batches."""
    return np.concatenate([to_labels(predict(x[i : i + batch_size])) for i in range(0, len(x), batch_size)])


def predict_labels(estimator, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Predicted class indices, computed in batches of ``batch_size`` (ART 1.20 does not batch)."""
    return labels_in_batches(estimator.predict, x, batch_size)


def to_class_indices(y: np.ndarray, nb_classes: int, name: str = "y") -> np.ndarray:
    """Validate labels given as indices ``(n,)`` / ``(n, 1)`` or one-hot ``(n, nb_classes)``; return indices.

    :raises ValueError: If the shape is not one of those, or a class index is outside ``[0, nb_classes)``.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == nb_classes and nb_classes > 1:
        if not np.all((y == 0) | (y == 1)) or not np.all(y.sum(axis=1) == 1):
            raise ValueError(f"`{name}` of shape {y.shape} must be one-hot: one 1 per row, zeros elsewhere.")
        return np.argmax(y, axis=1).astype(np.int64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"`{name}` must hold class indices of shape (n,) or one-hot labels of shape (n, {nb_classes}); "
            f"got shape {y.shape}."
        )
    if not np.all(np.isfinite(y)) or not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"`{name}` must hold integer class indices.")
    if y.size and (y.min() < 0 or y.max() >= nb_classes):
        bad = y[(y < 0) | (y >= nb_classes)][0]
        raise ValueError(f"`{name}` holds class {bad!r}, outside the classifier's classes 0..{nb_classes - 1}.")
    return y.astype(np.int64)


def to_estimator_labels(indices: np.ndarray, nb_classes: int, single_output: bool) -> np.ndarray:
    """ART's label format for the classifier: ``(n, 1)`` for one sigmoid output, one-hot otherwise."""
    if single_output:
        return indices.astype(np.float32)[:, None]
    return np.eye(nb_classes, dtype=np.float32)[indices]
