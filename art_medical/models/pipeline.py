"""Training data: validation splits, oversampling, per-batch class shares and tf.data input pipelines
(0-255 pixels, integer labels)."""
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


def class_share_batches(
    y: np.ndarray, batch_size: int, share_class: int, share: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """One epoch of index batches where a fixed share of every batch is drawn from ``share_class``.

    COVID-Net's batch re-balancing (repository data.py, ``BalanceCovidDataset``): the images of the other
    classes are shuffled and cut into batches of ``batch_size``; in each batch of ``n``,
    ``max(1, int(share * n))`` random positions are replaced by distinct random images of ``share_class``.

    :param y: Integer labels of the training images.
    :param rng: Source of every random choice.
    :return: Index arrays into ``y``, one per batch, ``ceil(#others / batch_size)`` of them.
    """
    members = np.flatnonzero(y == share_class)
    others = rng.permutation(np.flatnonzero(y != share_class))
    if members.size == 0 or others.size == 0:
        raise ValueError(f"Batch shares need images of class {share_class} and of other classes in the training "
                         f"split; got {members.size} and {others.size}.")
    batches = []
    for start in range(0, others.size, batch_size):
        batch = others[start:start + batch_size].copy()
        count = max(1, int(share * batch.size))
        positions = rng.choice(batch.size, size=count, replace=False)
        batch[positions] = rng.choice(members, size=count, replace=members.size < count)
        batches.append(batch)
    return batches


@keras.saving.register_keras_serializable(package="art_medical")
class RandomIntensityScale(keras.layers.Layer):
    """Multiply each image by a random factor in [1 - ``fraction``, 1 + ``fraction``] (Keras's
    ImageDataGenerator ``brightness_range``, which COVID-Net trains with)."""

    def __init__(self, fraction: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.fraction = fraction
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or not self.fraction:
            return images
        shape = (keras.ops.shape(images)[0], 1, 1, 1)
        factors = keras.random.uniform(shape, 1.0 - self.fraction, 1.0 + self.fraction, seed=self._generator)
        return images * factors

    def get_config(self) -> dict:
        return {**super().get_config(), "fraction": self.fraction, "seed": self.seed}


def augmentation_layers(
    rotation_degrees: float,
    shift_fraction: float,
    seed: int,
    horizontal_flip: bool = False,
    zoom_fraction: float = 0.0,
    brightness_fraction: float = 0.0,
    fill_mode: str = "nearest",
) -> keras.Sequential:
    """Random rotation within +/- ``rotation_degrees`` and shifts of up to ``shift_fraction`` (study 001),
    optionally horizontal flips, independent height / width zoom by up to ``zoom_fraction`` and intensity
    scaling by up to ``brightness_fraction`` (COVID-Net); ``fill_mode`` "nearest" or "constant" (zeros)."""
    layers = [
        keras.layers.RandomRotation(rotation_degrees / 360.0, fill_mode=fill_mode, seed=seed),
        keras.layers.RandomTranslation(shift_fraction, shift_fraction, fill_mode=fill_mode, seed=seed + 1),
    ]
    if horizontal_flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed + 2))
    if zoom_fraction:
        layers.append(keras.layers.RandomZoom((-zoom_fraction, zoom_fraction), (-zoom_fraction, zoom_fraction),
                                              fill_mode=fill_mode, seed=seed + 3))
    if brightness_fraction:
        layers.append(RandomIntensityScale(brightness_fraction, seed=seed + 4))
    return keras.Sequential(layers, name="augmentation")


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
    return _finish(dataset.batch(batch_size), num_classes, augmentation)


def make_class_share_dataset(
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    batch_size: int,
    share_class: int,
    share: float,
    augmentation: keras.Sequential | None = None,
    seed: int = 0,
) -> tf.data.Dataset:
    """Like :func:`make_dataset` for training, with the batches of :func:`class_share_batches`, drawn afresh
    (from one seeded generator) every epoch."""
    if not 0 <= share_class < num_classes:
        raise ValueError(f"share_class must be a class index in [0, {num_classes - 1}], got {share_class}.")
    if not (y == share_class).any() or (y == share_class).all():
        raise ValueError(f"Batch shares need training images of class {share_class} and of other classes.")
    rng = np.random.default_rng(seed)
    x = x.astype(np.float32)
    y = y.astype(np.int64)

    def batches():
        for indices in class_share_batches(y, batch_size, share_class, share, rng):
            yield x[indices], y[indices]

    signature = (tf.TensorSpec((None, *x.shape[1:]), tf.float32), tf.TensorSpec((None,), tf.int64))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    count = -(-int(np.sum(y != share_class)) // batch_size)
    return _finish(dataset.apply(tf.data.experimental.assert_cardinality(count)), num_classes, augmentation)


def _finish(dataset: tf.data.Dataset, num_classes: int, augmentation: keras.Sequential | None) -> tf.data.Dataset:
    """Augment batches (clipped to 0-255), one-hot the labels, prefetch."""
    if augmentation is not None:
        dataset = dataset.map(
            lambda images, labels: (tf.clip_by_value(augmentation(images, training=True), 0.0, 255.0), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.map(lambda images, labels: (images, tf.one_hot(labels, num_classes)))
    return dataset.prefetch(tf.data.AUTOTUNE)
