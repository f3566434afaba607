"""Training data: validation splits, oversampling and tf.data input pipelines (0-255 pixels, integer labels)."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split


def check_training_data(x: np.ndarray, y: np.ndarray, num_classes: int) -> None:
    """Raise ValueError for images that are not (n, H, W, C) finite 0-255 pixels or labels outside the classes."""
    if x.ndim != 4:
        raise ValueError(f"x must have shape (n, height, width, channels), got {x.shape}.")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must hold one integer label per image, shape ({x.shape[0]},), got {y.shape}.")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}.")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values.")
    if x.size and (x.min() < 0.0 or x.max() > 255.0):
        raise ValueError(f"x must hold pixels on the 0-255 scale, got values in [{x.min()}, {x.max()}].")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"Labels must lie in [0, {num_classes - 1}], got values in [{y.min()}, {y.max()}].")


def stratified_split(
    x: np.ndarray, y: np.ndarray, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Carve a stratified, seeded validation split from training data: ``(x_train, y_train, x_val, y_val)``.

    Model selection uses this split, never the test set (study 001's code chose its checkpoint on the
    test set).
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}.")
    counts = np.bincount(y)
    if counts[counts > 0].min() < 2:
        raise ValueError("Every class needs at least 2 training images for a stratified validation split.")
    try:
        x_train, x_val, y_train, y_val = train_test_split(
            x, y, test_size=validation_fraction, stratify=y, random_state=seed
        )
    except ValueError as error:
        raise ValueError(f"Cannot carve a stratified {validation_fraction:.0%} validation split: {error}") from error
    return x_train, y_train, x_val, y_val


def oversample_indices(y: np.ndarray, seed: int) -> np.ndarray:
    """Indices that randomly oversample every class to the size of the largest one, shuffled."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    target = counts.max()
    indices = [
        np.concatenate([members, rng.choice(members, target - members.size, replace=True)])
        for members in (np.flatnonzero(y == c) for c in classes)
    ]
    return rng.permutation(np.concatenate(indices))


def augmentation_layers(rotation_degrees: float, shift_fraction: float, seed: int) -> keras.Sequential:
    """Random rotation within +/- ``rotation_degrees`` and shifts of up to ``shift_fraction`` (study 001)."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation_degrees / 360.0, fill_mode="nearest", seed=seed),
            keras.layers.RandomTranslation(shift_fraction, shift_fraction, fill_mode="nearest", seed=seed + 1),
        ],
        name="augmentation",
    )


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    batch_size: int,
    shuffle: bool = False,
    augmentation: keras.Sequential | None = None,
    seed: int = 0,
) -> tf.data.Dataset:
    """A batched, prefetched ``tf.data`` pipeline of (0-255 images, one-hot labels).

    :param shuffle: Reshuffle every epoch (training); validation data keep their order.
    :param augmentation: Keras preprocessing layers applied per batch on the fly.
    """
    dataset = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.int64)))
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmentation is not None:
        dataset = dataset.map(
            lambda images, labels: (tf.clip_by_value(augmentation(images, training=True), 0.0, 255.0), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.map(lambda images, labels: (images, tf.one_hot(labels, num_classes)))
    return dataset.prefetch(tf.data.AUTOTUNE)
