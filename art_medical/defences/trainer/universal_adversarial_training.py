"""Universal adversarial training: one shared perturbation and the weights updated together.

Shafahi et al., "Universal adversarial training", AAAI 2020 (Algorithm 2). For every mini-batch the
perturbed batch ``clip(x + delta)`` gives both updates: ``delta`` takes an ascent step on the loss
(sign step for p = inf, normalised step for p = 2) and is projected onto ``||delta||_p <= eps``; the
weights take a descent step on the same perturbed batch. Targeted, ``delta`` descends the loss towards
``target_class`` instead, hardening the model against targeted UAPs.

| Paper link: https://arxiv.org/abs/1811.11304
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from art.defences.trainer.trainer import Trainer
from tqdm.auto import trange

from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._labels import is_single_output, predict_labels, to_class_indices, to_estimator_labels
from art_medical.attacks.evasion.batched_universal import universal_step
from art_medical.defences.trainer._checkpoint import RoundCheckpoint
from art_medical.defences.trainer._keras_model import keras_model, model_labels
from art_medical.metrics import accuracy, fooling_rate, lp_norms, targeted_success_rate

logger = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict[str, Any]], None]


class UniversalAdversarialTrainer(Trainer):
    """Train a classifier against universal perturbations (Shafahi et al. 2020).

    The perturbation's gradient comes from the classifier's ``loss_gradient``; the weights are updated
    by the compiled Keras model's ``train_on_batch``. ``history`` holds one record per epoch:
    ``epoch``, ``loss``, ``fooling_rate`` and ``targeted_success_rate`` of the shared perturbation,
    ``clean_accuracy`` (on ``x_test`` if given, else on the training images), ``noise_norm`` and
    ``seconds``. With ``checkpoint_dir`` every finished epoch is saved (weights, optimizer, perturbation,
    history, random state) and a later ``fit`` continues after the last one.

    | Paper link: https://arxiv.org/abs/1811.11304
    """

    def __init__(
        self,
        classifier,
        eps: float = 10.0,
        norm: int | float | str = np.inf,
        step_size: float | None = None,
        target_class: int | None = None,
        nb_epochs: int = 5,
        batch_size: int = 32,
        seed: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        verbose: bool = True,
    ) -> None:
        """
        :param classifier: ART ``KerasClassifier`` with loss gradients whose model is compiled.
        :param eps: Radius xi of the shared perturbation's Lp ball, on the pixel scale (0-255).
        :param norm: 2 or ``np.inf`` (``"inf"``).
        :param step_size: Step on the perturbation per mini-batch; ``None`` uses ``eps / 10``.
        :param target_class: Train against UAPs towards this class; ``None`` for non-targeted UAPs.
        :param nb_epochs: Epochs of training.
        :param batch_size: Images per mini-batch.
        :param seed: Seed of the batch order and of Keras's random state.
        :param checkpoint_dir: Folder of the resumable checkpoint; ``None`` saves nothing.
        :param verbose: Show a progress bar over the epochs.
        """
        super().__init__(classifier)
        self._model = keras_model(classifier)
        self.eps = eps
        self.norm = norm
        self.step_size = step_size
        self.target_class = target_class
        self.nb_epochs = nb_epochs
        self.batch_size = batch_size
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self._check_params()
        self._history: list[dict[str, Any]] = []
        self._noise: np.ndarray | None = None

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-epoch records."""
        return list(self._history)

    @property
    def noise(self) -> np.ndarray | None:
        """The shared perturbation after the last epoch, shape ``(1,) + image shape``."""
        return self._noise

    def fit(  # pylint: disable=arguments-differ
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        callback: EpochCallback | None = None,
        **kwargs,
    ) -> None:
        """Train for the epochs not finished yet.

        :param x: Training images on the classifier's pixel scale.
        :param y: Their labels (class indices or one-hot).
        :param x_test: Images on which each epoch's record is measured (default: the training images).
        :param y_test: Their labels.
        :param callback: Called as ``callback(epoch, record)`` after each epoch is recorded and saved.
        """
        nb_classes = self.classifier.nb_classes
        check_images(x, self.classifier.clip_values, name="x")
        check_same_length(x, y)
        y = to_class_indices(y, nb_classes, name="y")
        if x_test is None:
            x_test, y_test = x, y
        else:
            check_images(x_test, self.classifier.clip_values, name="x_test")
            if y_test is None:
                raise ValueError("y_test is required with x_test.")
            check_same_length(x_test, y_test, y_name="y_test")
            y_test = to_class_indices(y_test, nb_classes, name="y_test")

        checkpoint = RoundCheckpoint(self.checkpoint_dir, self._config(len(x)))
        rng = np.random.default_rng(self.seed)
        start, self._history, rng_state, extra = checkpoint.load(self._model)
        if rng_state is not None:
            rng.bit_generator.state = rng_state
            logger.info("Resuming after epoch %d from %s", start, self.checkpoint_dir)
        noise = extra.get("noise", np.zeros((1,) + x.shape[1:], dtype=np.float32))
        single_output = is_single_output(self.classifier)
        # Targeted: the perturbation pushes towards target_class; the weights still learn the true labels.
        attack_labels = y if self.target_class is None else np.full(len(y), self.target_class, dtype=np.int64)
        attack_labels = to_estimator_labels(attack_labels, nb_classes, single_output)
        train_labels = model_labels(self._model, y, nb_classes)
        step_size = self.eps / 10.0 if self.step_size is None else self.step_size
        sign = 1.0 if self.target_class is None else -1.0

        for epoch in trange(start + 1, self.nb_epochs + 1, desc="Universal adversarial training", disable=not self.verbose):
            started = time.perf_counter()
            keras.utils.set_random_seed(int(rng.integers(2**31)))
            losses = []
            for batch in np.array_split(rng.permutation(len(x)), max(1, int(np.ceil(len(x) / self.batch_size)))):
                x_adv = self._perturb(x[batch], noise)
                gradients = self.classifier.loss_gradient(x_adv, attack_labels[batch])
                losses.append(float(np.ravel(self._model.train_on_batch(x_adv, train_labels[batch]))[0]))
                noise = universal_step(noise, sign * gradients.sum(axis=0, keepdims=True), step_size, self.eps, self.norm)
            record = self._evaluate(epoch, float(np.mean(losses)), noise, x_test, y_test, started)
            self._history.append(record)
            checkpoint.save(self._model, epoch, self._history, rng, extra={"noise": noise})
            logger.info("Epoch %d: %s", epoch, record)
            if callback is not None:
                callback(epoch, record)
        self._noise = noise

    def _perturb(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        x_adv = x + noise
        if self.classifier.clip_values is not None:
            np.clip(x_adv, self.classifier.clip_values[0], self.classifier.clip_values[1], out=x_adv)
        return x_adv.astype(np.float32)

    def _evaluate(
        self, epoch: int, loss: float, noise: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, started: float
    ) -> dict[str, Any]:
        clean = predict_labels(self.classifier, x_test, self.batch_size)
        adversarial = predict_labels(self.classifier, self._perturb(x_test, noise), self.batch_size)
        return {
            "epoch": epoch,
            "loss": loss,
            "fooling_rate": fooling_rate(clean, adversarial),
            "targeted_success_rate": (
                None if self.target_class is None else targeted_success_rate(adversarial, self.target_class)
            ),
            "clean_accuracy": accuracy(y_test, clean),
            "noise_norm": float(lp_norms(noise, self.norm)[0]),
            "seconds": time.perf_counter() - started,
        }

    def _config(self, nb_samples: int) -> dict[str, Any]:
        """Settings a checkpoint must share to be resumed (``nb_epochs`` may grow)."""
        return {
            "trainer": type(self).__name__,
            "eps": float(self.eps),
            "norm": "inf" if self.norm in (np.inf, "inf") else float(self.norm),
            "step_size": self.step_size,
            "target_class": self.target_class,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "nb_samples": nb_samples,
        }

    def _check_params(self) -> None:
        if not isinstance(self.eps, (int, float)) or not np.isfinite(self.eps) or self.eps <= 0:
            raise ValueError(f"eps must be a positive finite number on the pixel scale, got {self.eps!r}.")
        if self.norm not in (2, 2.0, np.inf, "inf"):
            raise ValueError(f"norm must be 2 or np.inf ('inf'), got {self.norm!r}.")
        if self.step_size is not None and not self.step_size > 0:
            raise ValueError(f"step_size must be positive (or None for eps / 10), got {self.step_size!r}.")
        nb_classes = self.classifier.nb_classes
        if self.target_class is not None and not (
            isinstance(self.target_class, (int, np.integer)) and 0 <= self.target_class < nb_classes
        ):
            raise ValueError(f"target_class must be a class index in 0..{nb_classes - 1} or None, got {self.target_class!r}.")
        for name in ("nb_epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
