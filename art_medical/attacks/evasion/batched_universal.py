"""Batched universal adversarial perturbation (SGD-UAP), targeted and non-targeted, p = 2 and inf.

The exact iterative algorithm (Moosavi-Dezfooli et al.; Hirano & Takemoto, studies 000-001) visits the
images one at a time. SGD-UAP (Shafahi et al., AAAI 2020) instead takes one step on the shared
perturbation ``v`` per mini-batch: the gradient of the summed (clamped) cross-entropy of the batch at
``clip(x + v)`` with respect to ``v``, a sign step (p = inf) or a normalised step (p = 2), then a
projection onto the ball ``||v||_p <= eps``. Non-targeted, the cross-entropy of each sample is clamped
at ``loss_clamp``: samples already fooled that far stop pulling ``v``. Targeted, ``v`` descends the
cross-entropy towards the target classes.

Images come as an array, as an array-like read in batches (an ``h5py.Dataset``: never loaded whole), or
as a stream of batches, so data larger than memory works. After every pass over the data the rate
(fooling rate against the clean predictions, or targeted success rate) is measured on all images and
the best perturbation seen is kept.

| Paper link: https://arxiv.org/abs/1811.11304
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from art.attacks.attack import EvasionAttack
from art.estimators.classification.classifier import ClassifierMixin
from art.estimators.estimator import BaseEstimator, LossGradientsMixin
from art.utils import projection
from tqdm.auto import trange

from art_medical.attacks._compiled import is_plain_keras_classifier
from art_medical.attacks._inputs import check_images
from art_medical.attacks._labels import (
    is_single_output,
    to_class_indices,
    to_estimator_labels,
)
from art_medical.metrics import lp_norms, to_labels

logger = logging.getLogger(__name__)

Batch = tuple[np.ndarray, Any]
BatchStream = Callable[[], Iterable[Batch]] | Iterable[Batch]

_PROB_EPSILON = 1e-7  # Keras' clip of probabilities inside its cross-entropy


class _IndexableSource:
    """Contiguous blocks of ``batch_size`` rows of an array or array-like (``h5py.Dataset``), read one at a
    time; with ``shuffle`` the order of the blocks is drawn from ``rng`` each pass."""

    def __init__(self, x: Any, y: Any, batch_size: int) -> None:
        if not hasattr(x, "shape") or len(x.shape) < 2:
            raise ValueError("`x` must have a shape (n, ...) holding a batch of images.")
        self.length = int(x.shape[0])
        if self.length == 0:
            raise ValueError("`x` is empty.")
        if y is not None and len(y) != self.length:
            raise ValueError(f"`x` has {self.length} samples but `y` has {len(y)}.")
        self._x = x
        self._y = None if y is None else np.asarray(y)
        self._starts = np.arange(0, self.length, batch_size)
        self._batch_size = batch_size

    def batches(self, rng: np.random.Generator | None) -> Iterator[tuple[int, np.ndarray, Any]]:
        starts = self._starts if rng is None else rng.permutation(self._starts)
        for start in starts:
            stop = min(int(start) + self._batch_size, self.length)
            y = None if self._y is None else self._y[start:stop]
            yield int(start), np.asarray(self._x[start:stop], dtype=np.float32), y


class _StreamSource:
    """Batches ``(x_batch, y_batch)`` from a zero-argument callable returning a fresh iterable each pass,
    or from a re-iterable object (a list of batches, a ``keras.utils.PyDataset``). Each pass must yield
    the same samples in the same order; ``rng`` is ignored (shuffling is the stream's own business)."""

    def __init__(self, stream: BatchStream) -> None:
        if not callable(stream) and iter(stream) is stream:
            raise ValueError(
                "A one-shot iterator (e.g. a generator object) cannot be replayed for several passes: pass a "
                "zero-argument callable that returns a fresh iterator of (x_batch, y_batch) each time."
            )
        self._stream = stream
        self.length: int | None = None
        self._batch_sizes: dict[int, int] = {}

    def batches(self, rng: np.random.Generator | None) -> Iterator[tuple[int, np.ndarray, Any]]:
        first_pass = self.length is None
        position = 0
        for item in self._stream() if callable(self._stream) else self._stream:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise ValueError("Each item of the stream must be a pair (x_batch, y_batch); y_batch may be None.")
            x_batch, y_batch = item
            x_batch = np.asarray(x_batch, dtype=np.float32)
            if y_batch is not None and len(y_batch) != len(x_batch):
                raise ValueError(
                    f"Stream batch at sample {position} has {len(x_batch)} images but {len(y_batch)} labels."
                )
            if first_pass:
                self._batch_sizes[position] = len(x_batch)
            elif self._batch_sizes.get(position) != len(x_batch):
                raise self._changed()
            yield position, x_batch, y_batch
            position += len(x_batch)
        if first_pass:
            if position == 0:
                raise ValueError("The stream yielded no images.")
            self.length = position
        elif position != self.length:
            raise self._changed()

    @staticmethod
    def _changed() -> ValueError:
        return ValueError("The stream changed between passes: it must yield the same batches every pass.")


def _cross_entropy(outputs: np.ndarray, labels: np.ndarray, from_logits: bool) -> np.ndarray:
    """Per-sample cross-entropy of model outputs (probabilities or logits) against class indices."""
    outputs = outputs.astype(np.float64)
    if outputs.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-outputs[:, 0])) if from_logits else outputs[:, 0]
        p = np.clip(p, _PROB_EPSILON, 1.0 - _PROB_EPSILON)
        return -np.where(labels == 1, np.log(p), np.log(1.0 - p))
    if from_logits:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(labels)), labels]
    return -np.log(np.clip(outputs[np.arange(len(labels)), labels], _PROB_EPSILON, 1.0))


def universal_step(
    noise: np.ndarray, direction: np.ndarray, step_size: float, eps: float, norm: int | float | str
) -> np.ndarray:
    """One ascent step on a shared perturbation, projected back onto the ball ``||v||_p <= eps``.

    p = inf: ``v + step_size * sign(direction)``; p = 2: ``v + step_size * direction / ||direction||_2``.
    """
    if norm in (np.inf, "inf"):
        noise = noise + step_size * np.sign(direction)
    else:
        length = float(np.linalg.norm(direction))
        if length > 0.0:
            noise = noise + step_size * direction / length
    return projection(noise, eps, norm).astype(np.float32)


class BatchedUniversalPerturbation(EvasionAttack):
    """SGD-UAP: a universal perturbation updated from the loss gradients of whole mini-batches.

    Works with any ART classifier with loss gradients (binary single-sigmoid-output models included);
    a ``KerasClassifier`` without preprocessing takes a compiled TensorFlow step (``compiled=True``).
    Results are read from the properties ``noise``, ``fooling_rate``, ``targeted_success_rate``,
    ``converged`` and ``history`` after :meth:`generate` or :meth:`compute_noise`.

    | Paper link: https://arxiv.org/abs/1811.11304
    """

    attack_params = EvasionAttack.attack_params + [
        "eps",
        "norm",
        "targeted",
        "step_size",
        "batch_size",
        "max_iter",
        "target_rate",
        "time_budget",
        "loss_clamp",
        "shuffle",
        "compiled",
        "seed",
        "verbose",
    ]
    _estimator_requirements = (BaseEstimator, LossGradientsMixin, ClassifierMixin)

    def __init__(
        self,
        classifier,
        eps: float = 10.0,
        norm: int | float | str = np.inf,
        targeted: bool = False,
        step_size: float | None = None,
        batch_size: int = 32,
        max_iter: int = 20,
        target_rate: float = 0.8,
        time_budget: float | None = None,
        loss_clamp: float | None = 9.0,
        shuffle: bool = True,
        compiled: bool = True,
        seed: int = 0,
        verbose: bool = True,
    ) -> None:
        """
        :param classifier: A trained ART classifier with loss gradients.
        :param eps: Radius xi of the Lp ball of the perturbation, on the classifier's pixel scale (0-255).
        :param norm: 2 or ``np.inf`` (``"inf"``).
        :param targeted: Push every image towards its target class (``y`` holds the targets) instead of
            away from its label.
        :param step_size: Step on the perturbation per mini-batch (L-inf: per pixel; L2: length of the
            step); ``None`` uses ``eps / 10``.
        :param batch_size: Images per mini-batch (one update of the perturbation each).
        :param max_iter: Maximum number of passes over the data.
        :param target_rate: Stop once the rate (targeted success rate if targeted, else fooling rate)
            measured after a pass reaches this value.
        :param time_budget: Stop after this many seconds (checked after every mini-batch; the pass in
            progress is then measured); ``None`` for no limit.
        :param loss_clamp: Non-targeted only: samples whose cross-entropy exceeds this value (already
            fooled) add nothing to the step; ``None`` disables the clamp.
        :param shuffle: Arrays and array-likes: visit the mini-batches (contiguous blocks of
            ``batch_size`` rows) in a new random order each pass. Streams keep their own order.
        :param compiled: Use the compiled TensorFlow step when the classifier is a ``KerasClassifier``
            without preprocessing; ``False`` always goes through ``classifier.loss_gradient``.
        :param seed: Seed of the batch order; the same seed gives the same perturbation.
        :param verbose: Show a progress bar over the passes.
        """
        if not isinstance(classifier, LossGradientsMixin):
            raise ValueError(
                f"{type(classifier).__name__} provides no loss gradients (LossGradientsMixin); "
                "BatchedUniversalPerturbation needs them."
            )
        super().__init__(estimator=classifier)
        self.eps = eps
        self.norm = norm
        self.targeted = targeted
        self.step_size = step_size
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.target_rate = target_rate
        self.time_budget = time_budget
        self.loss_clamp = loss_clamp
        self.shuffle = shuffle
        self.compiled = compiled
        self.seed = seed
        self.verbose = verbose
        self._check_params()
        self._noise: np.ndarray | None = None
        self._fooling_rate: float | None = None
        self._targeted_success_rate: float | None = None
        self._converged: bool | None = None
        self._history: list[dict[str, Any]] = []
        self._compiled_step: tuple[tuple, Callable] | None = None
        self._single_output = False
        self._compiled_forward: Callable | None = None
        self._forward: Callable | None = None

    @property
    def noise(self) -> np.ndarray | None:
        """The best perturbation found, shape ``(1,) + image shape``."""
        return self._noise

    @property
    def fooling_rate(self) -> float | None:
        """Fraction of images whose prediction under ``noise`` differs from the clean prediction."""
        return self._fooling_rate

    @property
    def targeted_success_rate(self) -> float | None:
        """Targeted only: fraction of images classified as their target under ``noise``; else ``None``."""
        return self._targeted_success_rate

    @property
    def converged(self) -> bool | None:
        """Whether the rate of ``noise`` reached ``target_rate``."""
        return self._converged

    @property
    def history(self) -> list[dict[str, Any]]:
        """One dict per pass: ``pass``, ``fooling_rate``, ``targeted_success_rate``, ``noise_norm`` (Lp norm
        of the perturbation after the pass) and ``seconds`` (since the attack started)."""
        return list(self._history)

    def generate(self, x: np.ndarray, y: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """Compute a universal perturbation on ``x`` and return ``clip(x + noise)``.

        :param x: Images, an array of shape ``(n, ...)`` on the classifier's pixel scale. For data that
            does not fit in memory use :meth:`compute_noise`.
        :param y: Targeted: target classes (indices ``(n,)`` or one-hot). Non-targeted: true labels, used
            in the loss (optional; the clean predictions otherwise). The fooling rate always compares with
            the clean predictions.
        :return: The adversarial images.
        """
        if not isinstance(x, np.ndarray):
            raise ValueError(
                f"generate takes the images as a numpy array, got {type(x).__name__}; use compute_noise for "
                "array-likes (h5py) and streams, then add `noise` batch by batch."
            )
        noise = self.compute_noise(x, y)
        x_adv = x + noise
        if self.estimator.clip_values is not None:
            np.clip(x_adv, self.estimator.clip_values[0], self.estimator.clip_values[1], out=x_adv)
        return x_adv.astype(np.float32)

    def compute_noise(self, x: np.ndarray | Any | BatchStream, y: Any = None) -> np.ndarray:
        """Compute the universal perturbation from an array, an array-like or a stream of batches.

        :param x: One of

            - a numpy array ``(n, ...)``;
            - an array-like with ``shape`` and slicing, e.g. an ``h5py.Dataset``: read ``batch_size`` rows
              at a time, never loaded whole;
            - a stream: a zero-argument callable returning a fresh iterable of ``(x_batch, y_batch)``
              pairs each pass (or a re-iterable such as a list of pairs). Every pass must yield the same
              images in the same order; ``y_batch`` holds targets (targeted) or true labels / ``None``
              (non-targeted), like ``y``. A generator object is refused: it cannot be replayed.
        :param y: Labels for an array or array-like ``x`` (see :meth:`generate`); must be ``None`` for a
            stream, whose batches carry their labels.
        :return: The perturbation, shape ``(1,) + image shape``; also stored in ``noise``.
        """
        if hasattr(x, "shape") and hasattr(x, "__getitem__"):
            source: _IndexableSource | _StreamSource = _IndexableSource(x, y, self.batch_size)
        elif callable(x) or isinstance(x, Iterable):
            if y is not None:
                raise ValueError("For a stream, `y` must be None: each batch carries its labels (x_batch, y_batch).")
            source = _StreamSource(x)
        else:
            raise ValueError(
                f"`x` must be an array, an array-like such as h5py.Dataset, or a stream of batches; got {type(x).__name__}."
            )
        return self._run(source)

    def _run(self, source: _IndexableSource | _StreamSource) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        self._single_output = is_single_output(self.estimator)
        compiled = self._use_compiled()
        step_fn = self._compiled_direction if compiled else self._estimator_direction
        if compiled and self._compiled_forward is None:
            self._compiled_forward = self._build_compiled_forward()
        self._forward = self._compiled_forward if compiled else None
        clean_labels: dict[int, np.ndarray] = {}
        checked: set[int] = set()
        noise = np.zeros((1,) + tuple(self.estimator.input_shape), dtype=np.float32)
        best_noise, best_rate = noise, -1.0
        self._history = []
        start_time = time.perf_counter()
        out_of_time = False

        for pass_index in trange(1, self.max_iter + 1, desc="Batched UAP passes", disable=not self.verbose):
            for position, x_batch, y_batch in source.batches(rng if self.shuffle else None):
                self._check_batch(position, x_batch, checked)
                labels = self._loss_labels(position, x_batch, y_batch, clean_labels)
                direction = step_fn(x_batch, noise, labels)
                noise = self._step(noise, direction)
                if self.time_budget is not None and time.perf_counter() - start_time >= self.time_budget:
                    out_of_time = True
                    break
            fooling, success = self._rates(source, noise, clean_labels, checked)
            rate = success if self.targeted else fooling
            self._history.append(
                {
                    "pass": pass_index,
                    "fooling_rate": fooling,
                    "targeted_success_rate": success,
                    "noise_norm": float(lp_norms(noise, self.norm)[0]),
                    "seconds": time.perf_counter() - start_time,
                }
            )
            logger.info("Pass %d: rate %.4f, noise norm %.3f", pass_index, rate, self._history[-1]["noise_norm"])
            if rate > best_rate:
                best_noise, best_rate = noise, rate
                self._fooling_rate, self._targeted_success_rate = fooling, success
            if best_rate >= self.target_rate or out_of_time:
                break

        self._noise = best_noise
        self._converged = best_rate >= self.target_rate
        return best_noise

    def _check_batch(self, position: int, x_batch: np.ndarray, checked: set[int]) -> None:
        """Validate each batch once: shape, NaN / Inf, pixels inside clip_values."""
        if position in checked:
            return
        name = f"x[{position}:{position + len(x_batch)}]"
        if tuple(x_batch.shape[1:]) != tuple(self.estimator.input_shape):
            raise ValueError(
                f"{name} has image shape {x_batch.shape[1:]}, the classifier takes {tuple(self.estimator.input_shape)}."
            )
        check_images(x_batch, self.estimator.clip_values, name=name)
        checked.add(position)

    def _clean(self, position: int, x_batch: np.ndarray, clean_labels: dict[int, np.ndarray]) -> np.ndarray:
        """Clean predictions of a batch, computed once and cached by the batch's first sample index."""
        if position not in clean_labels:
            clean_labels[position] = to_labels(self._predict(x_batch))
        return clean_labels[position]

    def _loss_labels(
        self, position: int, x_batch: np.ndarray, y_batch: Any, clean_labels: dict[int, np.ndarray]
    ) -> np.ndarray:
        """Targets (targeted) or true labels, else clean predictions (non-targeted), as class indices."""
        clean = self._clean(position, x_batch, clean_labels)
        if y_batch is None:
            if self.targeted:
                raise ValueError("A targeted attack needs target classes `y` (or y_batch in every stream batch).")
            return clean
        return to_class_indices(y_batch, self.estimator.nb_classes, name="targets" if self.targeted else "y")

    def _estimator_labels(self, labels: np.ndarray) -> np.ndarray:
        return to_estimator_labels(labels, self.estimator.nb_classes, self._single_output)

    def _adversarial(self, x_batch: np.ndarray, noise: np.ndarray) -> np.ndarray:
        x_adv = x_batch + noise
        if self.estimator.clip_values is not None:
            np.clip(x_adv, self.estimator.clip_values[0], self.estimator.clip_values[1], out=x_adv)
        return x_adv

    def _estimator_direction(self, x_batch: np.ndarray, noise: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Ascent direction on the perturbation through ``classifier.loss_gradient`` (any framework)."""
        x_adv = self._adversarial(x_batch, noise)
        gradients = self.estimator.loss_gradient(x_adv, self._estimator_labels(labels))
        if not self.targeted and self.loss_clamp is not None:
            outputs = self.estimator.predict(x_adv, batch_size=len(x_adv))
            losses = _cross_entropy(outputs, labels, bool(getattr(self.estimator, "use_logits", False)))
            gradients = gradients[losses <= self.loss_clamp]
        direction = gradients.sum(axis=0, keepdims=True)
        return -direction if self.targeted else direction

    def _use_compiled(self) -> bool:
        """The compiled step applies to a plain KerasClassifier (see :func:`is_plain_keras_classifier`)."""
        return self.compiled and is_plain_keras_classifier(self.estimator)

    def _compiled_direction(self, x_batch: np.ndarray, noise: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Ascent direction on the perturbation in one compiled TensorFlow forward and backward pass."""
        key = (self.targeted, self.loss_clamp)
        if self._compiled_step is None or self._compiled_step[0] != key:
            self._compiled_step = (key, self._build_compiled_step())
        return self._compiled_step[1](x_batch, noise, self._estimator_labels(labels)).numpy()

    def _predict(self, x_batch: np.ndarray) -> np.ndarray:
        """Model outputs for one batch: the compiled forward pass, or ``classifier.predict``."""
        if self._forward is not None:
            return self._forward(x_batch).numpy()
        return self.estimator.predict(x_batch, batch_size=len(x_batch))

    def _build_compiled_forward(self) -> Callable:
        import tensorflow as tf

        model = self.estimator.model
        return tf.function(lambda x_batch: model(x_batch, training=False), reduce_retracing=True)

    def _build_compiled_step(self) -> Callable:
        import tensorflow as tf

        model = self.estimator.model
        from_logits = bool(self.estimator.use_logits)
        clip_values = self.estimator.clip_values
        clamp = None if self.targeted else self.loss_clamp
        sign = -1.0 if self.targeted else 1.0

        def cross_entropy(labels, outputs):
            if outputs.shape[-1] == 1:
                if from_logits:
                    return tf.nn.sigmoid_cross_entropy_with_logits(labels, outputs)[:, 0]
                p = tf.clip_by_value(outputs, _PROB_EPSILON, 1.0 - _PROB_EPSILON)
                return -(labels * tf.math.log(p) + (1.0 - labels) * tf.math.log(1.0 - p))[:, 0]
            if from_logits:
                return tf.nn.softmax_cross_entropy_with_logits(labels, outputs)
            p = tf.clip_by_value(tf.reduce_sum(labels * outputs, axis=1), _PROB_EPSILON, 1.0)
            return -tf.math.log(p)

        @tf.function(reduce_retracing=True)
        def direction(x_batch, noise, labels):
            x_adv = x_batch + noise
            if clip_values is not None:
                x_adv = tf.clip_by_value(x_adv, float(np.min(clip_values[0])), float(np.max(clip_values[1])))
            with tf.GradientTape() as tape:
                tape.watch(x_adv)
                losses = cross_entropy(labels, model(x_adv, training=False))
                if clamp is not None:
                    losses = losses * tf.cast(losses <= clamp, losses.dtype)
                total = tf.reduce_sum(losses)
            return sign * tf.reduce_sum(tape.gradient(total, x_adv), axis=0, keepdims=True)

        return direction

    def _step(self, noise: np.ndarray, direction: np.ndarray) -> np.ndarray:
        step_size = self.eps / 10.0 if self.step_size is None else self.step_size
        return universal_step(noise, direction, step_size, self.eps, self.norm)

    def _rates(
        self,
        source: _IndexableSource | _StreamSource,
        noise: np.ndarray,
        clean_labels: dict[int, np.ndarray],
        checked: set[int],
    ) -> tuple[float, float | None]:
        """Fooling rate against the clean predictions and targeted success rate over all images."""
        fooled = hits = total = 0
        for position, x_batch, y_batch in source.batches(None):
            self._check_batch(position, x_batch, checked)
            clean = self._clean(position, x_batch, clean_labels)
            outputs = self._predict(self._adversarial(x_batch, noise))
            adversarial = to_labels(outputs)
            fooled += int(np.sum(adversarial != clean))
            if self.targeted:
                targets = self._loss_labels(position, x_batch, y_batch, clean_labels)
                hits += int(np.sum(adversarial == targets))
            total += len(x_batch)
        return fooled / total, (hits / total if self.targeted else None)

    def _check_params(self) -> None:
        if not isinstance(self.eps, (int, float)) or not np.isfinite(self.eps) or self.eps <= 0:
            raise ValueError(f"eps must be a positive finite number on the pixel scale, got {self.eps!r}.")
        if self.norm not in (2, 2.0, np.inf, "inf"):
            raise ValueError(f"norm must be 2 or np.inf ('inf'), got {self.norm!r}.")
        if not isinstance(self.targeted, bool):
            raise ValueError(f"targeted must be a bool, got {self.targeted!r}.")
        if self.step_size is not None and (not np.isfinite(self.step_size) or self.step_size <= 0):
            raise ValueError(f"step_size must be positive (or None for eps / 10), got {self.step_size!r}.")
        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}.")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer (passes), got {self.max_iter!r}.")
        if not 0.0 < self.target_rate <= 1.0:
            raise ValueError(f"target_rate must be in (0, 1], got {self.target_rate!r}.")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ValueError(f"time_budget must be positive seconds or None, got {self.time_budget!r}.")
        if self.loss_clamp is not None and not self.loss_clamp > 0:
            raise ValueError(f"loss_clamp must be positive or None, got {self.loss_clamp!r}.")
        for name in ("shuffle", "compiled", "verbose"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}.")
        if not isinstance(self.seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {self.seed!r}.")
