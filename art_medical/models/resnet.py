"""Residual networks ResNet-18/34/50 (He et al. 2016, https://arxiv.org/abs/1512.03385), trained from scratch
in study 004.

Study 004's Table I gives 11,185,218 parameters for its ResNet-18 and 23,558,978 for its ResNet-50 (255x255x1
input, 2 classes, trainable and non-trainable). Both counts are those of the keras-resnet layout
(github.com/broadinstitute/keras-resnet), the defaults here: convolutions without biases, each followed by
batch normalization, and a 1x1 projection shortcut (conv + batch normalization) in the first block of every
stage, including the first stage of ResNet-18 where He et al. use an identity (``first_stage_projection=False``
gives their 11,180,866). ``use_bias=True`` gives the keras.applications ResNet50 (23,585,538).
"""
from __future__ import annotations

import keras

from art_medical.models.layers import check_image_shape
from art_medical.models.weights import WeightsArg, check_weights_arg, load_weights_file

#: Blocks per stage, and whether the blocks are bottlenecks (1x1, 3x3, 1x1 with 4x expansion).
ARCHITECTURES: dict[int, tuple[tuple[int, ...], bool]] = {
    18: ((2, 2, 2, 2), False),
    34: ((3, 4, 6, 3), False),
    50: ((3, 4, 6, 3), True),
}
_BN_EPSILON = 1.001e-5


def _conv_bn(x, filters: int, kernel: int, stride: int, use_bias: bool, name: str, relu: bool = True):
    h = keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=use_bias, name=f"{name}_conv")(x)
    h = keras.layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}_bn")(h)
    return keras.layers.Activation("relu", name=f"{name}_relu")(h) if relu else h


def _block(x, filters: int, stride: int, bottleneck: bool, projection: bool, use_bias: bool, name: str):
    """A post-activation residual block: two 3x3 convs (basic) or 1x1-3x3-1x1 with the stride on the first
    1x1 (bottleneck, as keras.applications), plus an identity or 1x1 projection shortcut."""
    out_filters = 4 * filters if bottleneck else filters
    shortcut = x
    if projection:
        shortcut = _conv_bn(x, out_filters, 1, stride, use_bias, f"{name}_proj", relu=False)
    if bottleneck:
        h = _conv_bn(x, filters, 1, stride, use_bias, f"{name}_1")
        h = _conv_bn(h, filters, 3, 1, use_bias, f"{name}_2")
        h = _conv_bn(h, out_filters, 1, 1, use_bias, f"{name}_3", relu=False)
    else:
        h = _conv_bn(x, filters, 3, stride, use_bias, f"{name}_1")
        h = _conv_bn(h, filters, 3, 1, use_bias, f"{name}_2", relu=False)
    h = keras.layers.Add(name=f"{name}_add")([shortcut, h])
    return keras.layers.Activation("relu", name=f"{name}_out")(h)


def ResNet(
    depth: int = 18,
    input_shape: tuple[int, int, int] = (255, 255, 1),
    classes: int = 2,
    weights: WeightsArg = None,
    use_bias: bool = False,
    first_stage_projection: bool = True,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """ResNet-``depth``: 7x7/2 stem with 64 filters, 3x3/2 max pooling, four stages (64, 128, 256, 512 filters,
    x4 for bottlenecks; stride 2 from the second stage), global average pooling and a Dense classifier.

    :param depth: 18, 34 or 50.
    :param input_shape: ``(height, width, channels)`` of raw 0-255 pixels (rescaled to [0, 1] inside).
    :param classes: Number of classes.
    :param weights: None or the path of a weights file saved from this architecture.
    :param use_bias: Give every convolution a bias (keras.applications does; keras-resnet and study 004 do not).
    :param first_stage_projection: Use a 1x1 projection shortcut in the first block of the first stage even
        where its shape allows an identity (keras-resnet, study 004); bottleneck networks always project there.
    :param classifier_activation: ``"softmax"`` or ``None`` for logits.
    """
    if depth not in ARCHITECTURES:
        raise ValueError(f"ResNet depth must be one of {sorted(ARCHITECTURES)}, got {depth!r}.")
    check_image_shape(input_shape, 32)
    check_weights_arg(weights, allow_imagenet=False)
    blocks, bottleneck = ARCHITECTURES[depth]
    inputs = keras.Input(shape=input_shape, name="pixels")
    h = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    h = _conv_bn(h, 64, 7, 2, use_bias, "stem")
    h = keras.layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(h)
    for stage, (count, filters) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for block in range(1, count + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            projection = block == 1 and (stage > 1 or bottleneck or first_stage_projection)
            h = _block(h, filters, stride, bottleneck, projection, use_bias, name=f"stage{stage}_block{block}")
    h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(h)
    outputs = keras.layers.Dense(classes, activation=classifier_activation, dtype="float32", name="predictions")(h)
    model = keras.Model(inputs, outputs, name=f"resnet{depth}")
    if weights is not None:
        load_weights_file(model, None, weights)
    return model


def ResNet18(
    input_shape: tuple[int, int, int] = (255, 255, 1), classes: int = 2, weights: WeightsArg = None, **options
) -> keras.Model:
    """ResNet-18 as study 004 counts it (:func:`ResNet` with ``depth=18``)."""
    return ResNet(18, input_shape, classes, weights, **options)


def ResNet50(
    input_shape: tuple[int, int, int] = (255, 255, 1), classes: int = 2, weights: WeightsArg = None, **options
) -> keras.Model:
    """ResNet-50 as study 004 counts it (:func:`ResNet` with ``depth=50``, no convolution biases)."""
    return ResNet(50, input_shape, classes, weights, **options)
