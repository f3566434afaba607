"""ResNet-18 (He et al. 2016), trained from scratch in study 004; keras.applications has no ResNet-18."""
from __future__ import annotations

import keras

from art_medical.models.layers import check_image_shape
from art_medical.models.weights import WeightsArg, check_weights_arg, load_weights_file


def _basic_block(x: keras.KerasTensor, filters: int, stride: int, name: str) -> keras.KerasTensor:
    """Two 3x3 conv-BN layers with an identity (or 1x1 projection) shortcut, post-activation as in the paper."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj_conv")(x)
        shortcut = keras.layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_proj_bn")(shortcut)
    h = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    h = keras.layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_bn1")(h)
    h = keras.layers.Activation("relu", name=f"{name}_relu1")(h)
    h = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(h)
    h = keras.layers.BatchNormalization(epsilon=1.001e-5, name=f"{name}_bn2")(h)
    h = keras.layers.Add(name=f"{name}_add")([shortcut, h])
    return keras.layers.Activation("relu", name=f"{name}_out")(h)


def ResNet18(
    input_shape: tuple[int, int, int] = (255, 255, 1),
    classes: int = 2,
    weights: WeightsArg = None,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """ResNet-18: 7x7/2 stem, 3x3/2 max pooling, four stages of two basic blocks (64, 128, 256, 512 filters),
    global average pooling and a Dense classifier.

    :param input_shape: ``(height, width, channels)`` of raw 0-255 pixels (rescaled to [0, 1] inside).
    :param classes: Number of classes.
    :param weights: None or the path of a weights file saved from this architecture.
    :param classifier_activation: ``"softmax"`` or ``None`` for logits.
    """
    check_image_shape(input_shape, 32)
    check_weights_arg(weights, allow_imagenet=False)
    inputs = keras.Input(shape=input_shape, name="pixels")
    h = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    h = keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False, name="stem_conv")(h)
    h = keras.layers.BatchNormalization(epsilon=1.001e-5, name="stem_bn")(h)
    h = keras.layers.Activation("relu", name="stem_relu")(h)
    h = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(h)
    for stage, filters in enumerate((64, 128, 256, 512), start=1):
        for block in (1, 2):
            stride = 2 if stage > 1 and block == 1 else 1
            h = _basic_block(h, filters, stride, name=f"stage{stage}_block{block}")
    h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(h)
    outputs = keras.layers.Dense(classes, activation=classifier_activation, dtype="float32", name="predictions")(h)
    model = keras.Model(inputs, outputs, name="resnet18")
    if weights is not None:
        load_weights_file(model, None, weights)
    return model
