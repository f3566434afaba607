"""Training a model with a study's recipe: validation split, tf.data pipeline, history, best checkpoint, resume.

A run folder holds::

    history.json, history.csv   one row per completed epoch (1-based ``epoch``, ``learning_rate``, metrics)
    best.keras, best.json       the checkpoint with the best validation metric, and that metric
    backup/                     keras.callbacks.BackupAndRestore state while the run is unfinished

Calling :func:`train` again with the same folder after an interruption resumes after the last
completed epoch (weights, optimizer state and epoch counter restored), instead of restarting.
"""
from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from art_medical.models.art_estimator import infer_output_kind
from art_medical.models.pipeline import (
    augmentation_layers,
    check_training_data,
    make_class_share_dataset,
    make_dataset,
    oversample_indices,
    stratified_split,
)
from art_medical.models.recipes import TrainingRecipe, get_recipe

def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


class RunRecorder(keras.callbacks.Callback):
    """Writes the history after every epoch and keeps the best checkpoint, both atomically and resumably.

    :param run_dir: The run folder.
    :param monitor: Metric in the epoch logs that selects the checkpoint (higher is better for
        accuracy/AUC metrics, lower for losses).
    """

    def __init__(self, run_dir: Path, monitor: str) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.monitor = monitor
        self.mode = "min" if "loss" in monitor else "max"
        self.history: list[dict] = []
        self.best: float | None = None

    def on_train_begin(self, logs=None) -> None:
        history_path = self.run_dir / "history.json"
        self.history = json.loads(history_path.read_text()) if history_path.exists() else []
        best_path = self.run_dir / "best.json"
        self.best = json.loads(best_path.read_text())["value"] if best_path.exists() else None

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = dict(logs or {})
        learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch + 1, "learning_rate": learning_rate}
        row.update({key: float(value) for key, value in logs.items() if key != "learning_rate"})
        # A resumed run repeats nothing before its restored epoch; drop rows of an epoch done twice.
        self.history = [r for r in self.history if r["epoch"] < row["epoch"]] + [row]
        if self.monitor not in row:
            raise ValueError(f"Monitored metric {self.monitor!r} is not among the epoch logs {sorted(row)}.")
        value = row[self.monitor]
        if math.isfinite(value) and self._improved(value):
            self.best = value
            fd, tmp = tempfile.mkstemp(dir=self.run_dir, prefix=".best.", suffix=".keras")
            os.close(fd)
            self.model.save(tmp)
            os.replace(tmp, self.run_dir / "best.keras")
            _atomic_write_text(
                self.run_dir / "best.json", json.dumps({"monitor": self.monitor, "value": value, "epoch": epoch + 1})
            )
        _atomic_write_text(self.run_dir / "history.json", json.dumps(self.history, indent=1))
        columns = list(dict.fromkeys(key for r in self.history for key in r))
        fd, tmp = tempfile.mkstemp(dir=self.run_dir, prefix=".history.", suffix=".csv")
        with os.fdopen(fd, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.history)
        os.replace(tmp, self.run_dir / "history.csv")


def distribution_strategy() -> tf.distribute.Strategy:
    """``MirroredStrategy`` over all GPUs when more than one is visible, else the default strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _build(
    model_or_builder: keras.Model | Callable[[], keras.Model], mixed_precision: bool
) -> tuple[keras.Model, tf.distribute.Strategy]:
    """The model and the strategy to compile it in; a builder runs inside :func:`distribution_strategy`'s
    scope, with the ``mixed_float16`` policy when requested and a GPU is visible."""
    if isinstance(model_or_builder, keras.Model):
        return model_or_builder, tf.distribute.get_strategy()
    strategy = distribution_strategy()
    previous = keras.config.dtype_policy()
    if mixed_precision and tf.config.list_logical_devices("GPU"):
        keras.config.set_dtype_policy("mixed_float16")
    try:
        with strategy.scope():
            return model_or_builder(), strategy
    finally:
        keras.config.set_dtype_policy(previous)


def train(
    model_or_builder: keras.Model | Callable[[], keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    recipe: TrainingRecipe | str,
    run_dir: str | os.PathLike,
    seed: int = 0,
    mixed_precision: bool = False,
    verbose: int = 1,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, list[dict]]:
    """Train with a study's recipe on (x, y), holding out a stratified validation split; resumable.

    :param model_or_builder: A Keras model, or a zero-argument function building one (built inside a
        MirroredStrategy scope when several GPUs are visible, and with mixed precision if requested).
    :param x: Training images, ``(n, H, W, C)`` float pixels on 0-255.
    :param y: Integer class labels, ``(n,)``.
    :param recipe: A :class:`TrainingRecipe` or a recipe name (``"study001"`` ...).
    :param run_dir: Folder for history, best checkpoint and resume state; reusing it resumes the run.
    :param seed: Seed of the split, oversampling, shuffling and augmentation.
    :param mixed_precision: Use the ``mixed_float16`` policy on a GPU (builders only).
    :param verbose: Keras progress output (0, 1 or 2).
    :param extra_callbacks: More Keras callbacks, run after the run's own.
    :return: The trained model (last epoch's weights) and the history rows (one per epoch).
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    model, strategy = _build(model_or_builder, mixed_precision)
    num_classes = int(model.output_shape[-1])
    check_training_data(x, y, num_classes)
    if x.shape[1:] != tuple(model.input_shape[1:]):
        raise ValueError(f"Images of shape {x.shape[1:]} do not fit the model input {model.input_shape[1:]}.")
    output = infer_output_kind(model)
    if output == "sigmoid":
        raise ValueError("train() uses categorical cross-entropy: build the model with a softmax or logits output.")
    if recipe.class_weights is not None and len(recipe.class_weights) != num_classes:
        raise ValueError(f"The recipe has {len(recipe.class_weights)} class weights for a model with {num_classes} "
                         "classes.")

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_val, y_val = stratified_split(x, y, recipe.validation_fraction, seed)
    if recipe.oversample:
        order = oversample_indices(y_train, seed)
        x_train, y_train = x_train[order], y_train[order]
    augmentation = None
    if recipe.augment:
        augmentation = augmentation_layers(
            recipe.rotation_degrees, recipe.shift_fraction, seed, recipe.horizontal_flip, recipe.zoom_fraction,
            recipe.brightness_fraction, recipe.fill_mode,
        )
    if recipe.batch_share_class is not None:
        train_data = make_class_share_dataset(x_train, y_train, num_classes, recipe.batch_size,
                                              recipe.batch_share_class, recipe.batch_share, augmentation, seed)
    else:
        train_data = make_dataset(x_train, y_train, num_classes, recipe.batch_size, True, augmentation, seed)
    val_data = make_dataset(x_val, y_val, num_classes, recipe.batch_size)

    with strategy.scope():
        model.compile(
            optimizer=recipe.make_optimizer(),
            loss=keras.losses.CategoricalCrossentropy(from_logits=output == "logits"),
            metrics=["accuracy"],
        )
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(run_dir / "recipe.json", json.dumps(recipe.to_dict(), indent=1))
    recorder = RunRecorder(run_dir, recipe.monitor)
    callbacks: list[keras.callbacks.Callback] = [keras.callbacks.BackupAndRestore(str(run_dir / "backup"))]
    if recipe.schedule is not None:
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, _: recipe.learning_rate_at(epoch + 1)))
    callbacks.append(recorder)  # records the rate the epoch ran with, before a plateau reduction
    if recipe.plateau_factor is not None:
        callbacks.append(keras.callbacks.ReduceLROnPlateau("val_loss", recipe.plateau_factor, recipe.plateau_patience))
    callbacks.extend(extra_callbacks or [])
    class_weight = dict(enumerate(recipe.class_weights)) if recipe.class_weights is not None else None
    model.fit(
        train_data, validation_data=val_data, epochs=recipe.epochs, callbacks=callbacks, verbose=verbose,
        class_weight=class_weight,
    )
    return model, recorder.history
