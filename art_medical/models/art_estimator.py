"""Wrapping Keras models as ART classifiers with compiled, reusable gradients.

ART 1.20's ``KerasClassifier`` retraces a pfor jacobian in every ``class_gradient`` call (0.2 s for 16
images of 32x32 on a small CNN with Keras 3.15 / TF 2.21), which makes C&W and DeepFool, which call it
per iteration, very slow; both ART classifiers also push the whole array through the model in
``predict``. :class:`CompiledKerasClassifier` is a drop-in ``TensorFlowV2Classifier`` whose forward
pass, loss gradient and class gradients are ``tf.function`` s traced once per input signature (batch
dimension ``None``) and reused, and which works in batches of ``batch_size``.

Single-sigmoid models (binary, one output) are exposed as two-class models with outputs
``[1 - p, p]``; cross-entropy on those two columns is exactly the binary cross-entropy of ``p``. All
ART attacks, including those that need one gradient per class (C&W, DeepFool) and the universal
perturbations that reject one-output classifiers, then see an ordinary two-class classifier.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from art.estimators.classification import TensorFlowV2Classifier
from art.utils import check_and_transform_label_format

logger = logging.getLogger(__name__)

OUTPUT_KINDS = ("softmax", "logits", "sigmoid")


class _SigmoidToTwoClasses(keras.layers.Layer):
    """``p`` of shape (n, 1) -> ``[1 - p, p]`` of shape (n, 2)."""

    def call(self, inputs):
        return keras.ops.concatenate([1.0 - inputs, inputs], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2,)


def _last_activation(model: keras.Model) -> str | None:
    """Name of the activation of the model's last layer, looking inside nested models."""
    layer = model.layers[-1]
    while isinstance(layer, keras.Model):
        layer = layer.layers[-1]
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None)


def infer_output_kind(model: keras.Model) -> str:
    """``"softmax"``, ``"logits"`` or ``"sigmoid"`` from the activation and width of the model's last layer."""
    units = model.output_shape[-1]
    activation = _last_activation(model)
    if activation == "softmax" and units > 1:
        return "softmax"
    if activation == "sigmoid" and units == 1:
        return "sigmoid"
    if activation == "linear" and units > 1:
        return "logits"
    raise ValueError(
        f"Cannot tell whether model {model.name!r} (last activation {activation!r}, {units} outputs) gives softmax "
        "probabilities, logits or a single sigmoid probability; pass output='softmax', 'logits' or 'sigmoid'."
    )


class CompiledKerasClassifier(TensorFlowV2Classifier):
    """A ``TensorFlowV2Classifier`` for Keras models with compiled gradients and batched computation.

    Accepted by every ART attack that takes a ``TensorFlowV2Classifier`` (FGSM, PGD, C&W, DeepFool,
    universal perturbations, ...). Gradients are per sample: the loss gradient of a sample does not
    depend on the batch it is computed in.
    """

    estimator_params = TensorFlowV2Classifier.estimator_params + ["batch_size", "output"]

    def __init__(
        self,
        model: keras.Model,
        clip_values: tuple[float, float] | None = (0.0, 255.0),
        batch_size: int = 128,
        output: str | None = None,
        optimizer: keras.optimizers.Optimizer | None = None,
        preprocessing=None,
        preprocessing_defences=None,
        postprocessing_defences=None,
    ) -> None:
        """
        :param model: A Keras model with one image input (channels last) and one output.
        :param clip_values: ``(min, max)`` of valid pixels; (0, 255) for this package's raw-pixel models.
        :param batch_size: Largest number of images sent through the model at once in predict and gradients.
        :param output: ``"softmax"``, ``"logits"`` or ``"sigmoid"`` (one probability); inferred when None.
        :param optimizer: Optimizer for :meth:`fit`; defaults to the model's own if it is compiled.
        :param preprocessing: ART preprocessing ``(mean, std)`` or a Preprocessor, applied before the model.
        :param preprocessing_defences: ART preprocessing defence(s).
        :param postprocessing_defences: ART postprocessing defence(s).
        """
        if not isinstance(model, keras.Model):
            raise ValueError(f"model must be a keras.Model, got {type(model).__name__}.")
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise ValueError("model must have exactly one input and one output.")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if any(d is None for d in model.input_shape[1:]):
            raise ValueError(f"model input must have a fixed shape, got {model.input_shape}.")
        if output is None:
            output = infer_output_kind(model)
            logger.info("Wrapping model %r for ART: its output is read as %s.", model.name, output)
        if output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {OUTPUT_KINDS}, got {output!r}.")
        if output == "sigmoid" and model.output_shape[-1] != 1:
            raise ValueError("output='sigmoid' needs a model with a single output unit (binary classification).")

        self._keras_model = model
        self._output = output
        self._batch_size = int(batch_size)
        art_model = model
        if output == "sigmoid":
            art_model = keras.Model(model.inputs[0], _SigmoidToTwoClasses(name="two_classes")(model.outputs[0]))
        input_shape = tuple(int(d) for d in model.input_shape[1:])
        super().__init__(
            model=art_model,
            nb_classes=2 if output == "sigmoid" else int(model.output_shape[-1]),
            input_shape=input_shape,
            loss_object=keras.losses.CategoricalCrossentropy(from_logits=output == "logits"),
            optimizer=optimizer if optimizer is not None else getattr(model, "optimizer", None),
            clip_values=clip_values,
            preprocessing=preprocessing,
            preprocessing_defences=preprocessing_defences,
            postprocessing_defences=postprocessing_defences,
        )
        self._per_sample_loss = keras.losses.CategoricalCrossentropy(from_logits=output == "logits", reduction=None)
        self._compiled: dict[tuple[str, bool], Callable] = {}

    @property
    def batch_size(self) -> int:
        """Largest number of images sent through the model at once."""
        return self._batch_size

    @property
    def output(self) -> str:
        """What the wrapped model outputs: ``"softmax"``, ``"logits"`` or ``"sigmoid"``."""
        return self._output

    @property
    def keras_model(self) -> keras.Model:
        """The Keras model as given (``model`` is the two-class view for a sigmoid model)."""
        return self._keras_model

    def _function(self, kind: str, training: bool) -> Callable:
        """The compiled function ``kind`` for ``training`` mode, traced on first use and reused."""
        key = (kind, training)
        if key not in self._compiled:
            self._compiled[key] = self._compile(kind, training)
        return self._compiled[key]

    def _compile(self, kind: str, training: bool) -> Callable:
        model, loss = self._model, self._per_sample_loss
        x_spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        y_spec = tf.TensorSpec((None, self.nb_classes), tf.float32)

        if kind == "forward":
            return tf.function(lambda x: model(x, training=training), input_signature=[x_spec])

        if kind == "loss":
            return tf.function(lambda x, y: loss(y, model(x, training=training)), input_signature=[x_spec, y_spec])

        if kind == "loss_gradient":

            @tf.function(input_signature=[x_spec, y_spec])
            def loss_gradient(x, y):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    total = tf.reduce_sum(loss(y, model(x, training=training)))
                return tape.gradient(total, x)

            return loss_gradient

        if kind == "all_class_gradients":

            @tf.function(input_signature=[x_spec])
            def all_class_gradients(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    outputs = model(x, training=training)
                return tape.batch_jacobian(outputs, x, experimental_use_pfor=True)

            return all_class_gradients

        if kind == "selected_class_gradient":

            @tf.function(input_signature=[x_spec, tf.TensorSpec((None,), tf.int32)])
            def selected_class_gradient(x, labels):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    outputs = model(x, training=training)
                    total = tf.reduce_sum(tf.gather(outputs, labels, axis=1, batch_dims=1))
                return tape.gradient(total, x)

            return selected_class_gradient

        raise ValueError(f"Unknown compiled function {kind!r}.")

    def _check_x(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"Expected images of shape (n, {', '.join(map(str, self.input_shape))}), got {x.shape}.")
        if np.isnan(x).any():
            raise ValueError("x contains NaN values.")
        return x

    def _batches(self, n: int):
        for start in range(0, n, self._batch_size):
            yield slice(start, min(start + self._batch_size, n))

    def _run_batched(self, function: Callable, *arrays: np.ndarray) -> np.ndarray:
        """Apply a compiled function batch by batch and concatenate its results."""
        n = arrays[0].shape[0]
        if n == 0:
            return function(*(a[:1] for a in arrays)).numpy()[:0]
        results = [function(*(a[s] for a in arrays)).numpy() for s in self._batches(n)]
        return np.concatenate(results, axis=0)

    def predict(
        self, x: np.ndarray, batch_size: int | None = None, training_mode: bool = False, **kwargs
    ) -> np.ndarray:
        """Predictions of shape ``(n, nb_classes)``, computed ``batch_size`` images at a time."""
        x = self._check_x(x)
        x_preprocessed, _ = self._apply_preprocessing(x, y=None, fit=False)
        forward = self._function("forward", training_mode)
        batch = batch_size or self._batch_size
        n = x_preprocessed.shape[0]
        parts = [forward(x_preprocessed[s:s + batch]).numpy() for s in range(0, n, batch)]
        predictions = np.concatenate(parts, axis=0) if parts else np.zeros((0, self.nb_classes), np.float32)
        return self._apply_postprocessing(preds=predictions, fit=False)

    def _labels(self, y) -> np.ndarray:
        y = y.numpy() if isinstance(y, tf.Tensor) else np.asarray(y)
        return check_and_transform_label_format(y, nb_classes=self.nb_classes, return_one_hot=True).astype(np.float32)

    def compute_loss(self, x, y, reduction: str = "none", training_mode: bool = False, **kwargs) -> np.ndarray:
        """Cross-entropy per sample (``reduction="none"``), or its ``"mean"`` or ``"sum"``."""
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}.")
        x = self._check_x(x.numpy() if isinstance(x, tf.Tensor) else x)
        y = self._labels(y)
        x_preprocessed, y_preprocessed = self._apply_preprocessing(x, y, fit=False)
        losses = self._run_batched(self._function("loss", training_mode), x_preprocessed, y_preprocessed)
        return {"none": losses, "mean": losses.mean(), "sum": losses.sum()}[reduction]

    def loss_gradient(self, x, y, training_mode: bool = False, **kwargs):
        """Gradient of each sample's cross-entropy w.r.t. its input; a tf.Tensor in, a tf.Tensor out."""
        is_tensor = isinstance(x, tf.Tensor)
        x_np = self._check_x(x.numpy() if is_tensor else x)
        y_np = self._labels(y)
        x_preprocessed, y_preprocessed = self._apply_preprocessing(x_np, y_np, fit=False)
        gradients = self._run_batched(self._function("loss_gradient", training_mode), x_preprocessed, y_preprocessed)
        gradients = self._apply_preprocessing_gradient(x_np, gradients)
        return tf.convert_to_tensor(gradients) if is_tensor else gradients

    def class_gradient(self, x, label=None, training_mode: bool = False, **kwargs) -> np.ndarray:
        """Gradients of the outputs w.r.t. the input: ``(n, nb_classes, ...)`` for ``label=None``, else ``(n, 1, ...)``.

        :param label: None (all classes), one class index for every sample, or one index per sample.
        """
        x = self._check_x(x.numpy() if isinstance(x, tf.Tensor) else x)
        n = x.shape[0]
        if label is not None:
            labels = np.broadcast_to(np.asarray(label), (n,)) if np.ndim(label) == 0 else np.asarray(label)
            if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
                raise ValueError(f"label must be None, an int or {n} integer class indices, got shape {labels.shape}.")
            if labels.size and (labels.min() < 0 or labels.max() >= self.nb_classes):
                raise ValueError(f"label values must lie in [0, {self.nb_classes - 1}].")
        x_preprocessed, _ = self._apply_preprocessing(x, y=None, fit=False)
        if label is None:
            gradients = self._run_batched(self._function("all_class_gradients", training_mode), x_preprocessed)
            per_class = [self._apply_preprocessing_gradient(x, gradients[:, c]) for c in range(self.nb_classes)]
            return np.stack(per_class, axis=1)
        gradients = self._run_batched(
            self._function("selected_class_gradient", training_mode), x_preprocessed, labels.astype(np.int32)
        )
        return self._apply_preprocessing_gradient(x, gradients)[:, None]


def to_art(
    model: keras.Model,
    clip_values: tuple[float, float] | None = (0.0, 255.0),
    batch_size: int = 128,
    preprocessing=None,
    output: str | None = None,
) -> CompiledKerasClassifier:
    """Wrap a Keras model (raw 0-255 pixels in) as an ART classifier with fast, batched gradients.

    :param model: A Keras model; its output is softmax probabilities, logits or one sigmoid probability.
    :param clip_values: Valid pixel range, (0, 255) for this package's models.
    :param batch_size: Images per forward/backward pass in predict and gradients.
    :param preprocessing: Optional ART preprocessing ``(mean, std)`` applied before the model (this
        package's models preprocess inside, so normally None).
    :param output: ``"softmax"``, ``"logits"`` or ``"sigmoid"``; inferred from the last layer when None.
    :return: A :class:`CompiledKerasClassifier` accepted by ART's evasion attacks.
    """
    return CompiledKerasClassifier(
        model, clip_values=clip_values, batch_size=batch_size, output=output, preprocessing=preprocessing
    )
