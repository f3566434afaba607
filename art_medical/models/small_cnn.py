"""A small CNN for tests, the demo and benchmarks (not from any study)."""
from __future__ import annotations

import keras


def SmallCNN(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    classes: int = 3,
    filters: int = 16,
    classifier_activation: str | None = "softmax",
    name: str = "small_cnn",
) -> keras.Model:
    """Two conv blocks, a dense hidden layer and a classifier.

    Takes raw pixels on 0-255 and rescales to [0, 1] inside the model, so attacks and xi are measured
    on the pixel scale.

    :param input_shape: ``(height, width, channels)``.
    :param classes: Number of outputs; 1 with ``classifier_activation="sigmoid"`` gives a binary model.
    :param filters: Filters of the first block (the second has twice as many).
    :param classifier_activation: ``"softmax"``, ``"sigmoid"`` or ``None`` for logits.
    """
    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    h = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Conv2D(2 * filters, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(32, activation="relu")(h)
    outputs = keras.layers.Dense(classes, activation=classifier_activation)(h)
    return keras.Model(inputs, outputs, name=name)
