"""Wide residual networks WRN-d-k (Zagoruyko & Komodakis 2016, https://arxiv.org/abs/1605.07146); study 004
trains WRN-16-8 from scratch.

Study 004's Table I gives 11,033,186 parameters for WRN-16-8 at 255x255x1 with 2 classes. That is the count
of the common Keras CIFAR code run at that size, the defaults here: every convolution has a bias, and the
head is an 8x8 average pooling (the final map of a 32x32 CIFAR image) followed by flatten, which on a
64x64 final map keeps an 8x8x512 grid (32768 features) instead of pooling globally. ``use_bias=False,
pool_size=None`` gives the paper's network with global average pooling (10,964,178).
"""
from __future__ import annotations

import keras

from art_medical.models.layers import check_image_shape
from art_medical.models.weights import WeightsArg, check_weights_arg, load_weights_file


def _wide_block(
    x: keras.KerasTensor, filters: int, stride: int, dropout: float, use_bias: bool, name: str
) -> keras.KerasTensor:
    """Pre-activation block: BN-ReLU-conv3x3-(dropout)-BN-ReLU-conv3x3 plus a (projected) shortcut."""
    pre = keras.layers.BatchNormalization(name=f"{name}_bn1")(x)
    pre = keras.layers.Activation("relu", name=f"{name}_relu1")(pre)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=use_bias, name=f"{name}_proj")(pre)
    h = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=use_bias, name=f"{name}_conv1")(pre)
    h = keras.layers.BatchNormalization(name=f"{name}_bn2")(h)
    h = keras.layers.Activation("relu", name=f"{name}_relu2")(h)
    if dropout:
        h = keras.layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = keras.layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=f"{name}_conv2")(h)
    return keras.layers.Add(name=f"{name}_add")([shortcut, h])


def WideResNet(
    depth: int = 16,
    width: int = 8,
    input_shape: tuple[int, int, int] = (255, 255, 1),
    classes: int = 2,
    weights: WeightsArg = None,
    dropout: float = 0.0,
    use_bias: bool = True,
    pool_size: int | None = 8,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """WRN-depth-width: a 3x3 conv with 16 filters, three groups of (depth - 4) / 6 wide blocks with
    16k, 32k and 64k filters (strides 1, 2, 2), BN-ReLU, average pooling and a Dense classifier.

    :param depth: Total depth; ``depth - 4`` must be divisible by 6 (16 gives two blocks per group).
    :param width: Widening factor k (8 for WRN-16-8).
    :param input_shape: ``(height, width, channels)`` of raw 0-255 pixels (rescaled to [0, 1] inside).
    :param classes: Number of classes.
    :param weights: None or the path of a weights file saved from this architecture.
    :param dropout: Dropout rate between the convolutions of each block (the paper's optional 0.3).
    :param use_bias: Give every convolution a bias (study 004's count).
    :param pool_size: Average pooling window (and stride) before flatten, 8 as in CIFAR code (study 004's
        count); None for global average pooling.
    :param classifier_activation: ``"softmax"`` or ``None`` for logits.
    """
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"WRN depth must be 6n + 4 with n >= 1, got {depth}.")
    if width < 1:
        raise ValueError(f"WRN width must be a positive integer, got {width}.")
    check_image_shape(input_shape, 8)
    if pool_size is not None and (not isinstance(pool_size, int) or pool_size < 1):
        raise ValueError(f"pool_size must be a positive integer or None, got {pool_size!r}.")
    final_side = -(-min(input_shape[:2]) // 4)  # two stride-2 groups with 'same' padding
    if pool_size is not None and final_side < pool_size:
        raise ValueError(f"input_shape {input_shape} is too small for pool_size {pool_size}: the final feature map "
                         f"is {final_side} pixels wide; use sides of at least {4 * pool_size - 3} or pool_size=None.")
    check_weights_arg(weights, allow_imagenet=False)
    blocks_per_group = (depth - 4) // 6
    inputs = keras.Input(shape=input_shape, name="pixels")
    h = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    h = keras.layers.Conv2D(16, 3, padding="same", use_bias=use_bias, name="stem_conv")(h)
    for group, (filters, stride) in enumerate(((16 * width, 1), (32 * width, 2), (64 * width, 2)), start=1):
        for block in range(1, blocks_per_group + 1):
            stride_here = stride if block == 1 else 1
            h = _wide_block(h, filters, stride_here, dropout, use_bias, name=f"group{group}_block{block}")
    h = keras.layers.BatchNormalization(name="final_bn")(h)
    h = keras.layers.Activation("relu", name="final_relu")(h)
    if pool_size is None:
        h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(h)
    else:
        h = keras.layers.AveragePooling2D(pool_size, name="avg_pool")(h)
        h = keras.layers.Flatten(name="flatten")(h)
    outputs = keras.layers.Dense(classes, activation=classifier_activation, dtype="float32", name="predictions")(h)
    model = keras.Model(inputs, outputs, name=f"wrn_{depth}_{width}")
    if weights is not None:
        load_weights_file(model, None, weights)
    return model
