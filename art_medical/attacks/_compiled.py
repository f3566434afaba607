"""When a compiled TensorFlow path can stand in for ART's ``KerasClassifier``, and the loss it must use.

ART 1.20's ``KerasClassifier.loss_gradient`` runs an eager ``GradientTape`` on every call: about 20-80 ms for one
image on a small CNN, against about 1 ms for the same computation inside a ``tf.function``. The loss is resolved
here as ART resolves it. The values agree with ART's to float rounding; whether they agree bit for bit depends on
the model (graph and eager execution may pick different kernels, e.g. for LayerNormalization or GELU).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np


def is_plain_keras_classifier(estimator) -> bool:
    """A ``KerasClassifier`` itself (a subclass may change its gradients) with a single-input, single-output
    model and no preprocessing, defences or postprocessing: compiled paths then compute what ART computes."""
    from art.estimators.classification import KerasClassifier
    from art.preprocessing.standardisation_mean_std import StandardisationMeanStd

    if type(estimator) is not KerasClassifier:
        return False
    if estimator.preprocessing_defences or estimator.postprocessing_defences:
        return False
    if len(estimator.model.inputs) != 1 or len(estimator.model.outputs) != 1:
        return False
    return all(
        isinstance(op, StandardisationMeanStd) and np.all(op.mean == 0) and np.all(op.std == 1)
        for op in estimator.preprocessing_operations
    )


LossGradient = Callable[[np.ndarray, np.ndarray], np.ndarray]


def compiled_loss_gradient(estimator) -> LossGradient | None:
    """``(x, y) -> d loss / d x`` traced once (batch dimension None) for a plain ``KerasClassifier``: the values of
    ART's eager ``loss_gradient`` at a fraction of its cost; None where it does not apply."""
    if not is_plain_keras_classifier(estimator):
        return None
    resolved = per_sample_loss(estimator.model)
    if resolved is None:
        return None
    import tensorflow as tf

    model, (loss_fn, sparse) = estimator.model, resolved
    x_spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
    y_spec = tf.TensorSpec((None,) if sparse else (None, None), tf.float32)

    @tf.function(input_signature=[x_spec, y_spec])
    def gradient(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = loss_fn(y, model(x, training=False))
        return tape.gradient(loss, x)

    def loss_gradient(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        labels = np.argmax(y, axis=1) if sparse and y.ndim > 1 and y.shape[1] > 1 else y
        return gradient(x.astype(np.float32), labels.astype(np.float32)).numpy()

    return loss_gradient


def per_sample_loss(model) -> tuple[Callable, bool] | None:
    """The model's loss with no reduction, as ``KerasClassifier.loss_gradient`` builds it, and whether it takes
    class indices (sparse); None for a plain-function loss (ART then calls it as is)."""
    import keras

    loss_attr = model.loss
    if isinstance(loss_attr, str):
        loss_fn = keras.losses.get(loss_attr)
        if hasattr(loss_fn, "get_config"):
            loss_fn = loss_fn.__class__.from_config(loss_fn.get_config())
            loss_fn.reduction = None
    elif hasattr(loss_attr, "get_config"):
        loss_fn = loss_attr.__class__.from_config(loss_attr.get_config())
        loss_fn.reduction = None
    else:
        return None
    name = getattr(loss_fn, "name", getattr(loss_fn, "__name__", ""))
    sparse = name == "sparse_categorical_crossentropy" or isinstance(loss_fn, keras.losses.SparseCategoricalCrossentropy)
    return loss_fn, sparse
