"""Transfer-learning classifiers on keras.applications backbones (studies 001, 002 and 003).

Every model takes raw pixels (0-255, grayscale or RGB); grayscale-to-RGB conversion and the backbone's
own ImageNet preprocessing happen inside the model (:mod:`art_medical.models.layers`). The backbone is
a nested model named ``"backbone"``.

- Study 001 (Hirano, Minagi & Takemoto 2021): backbone without top, global average pooling, a new
  Dense softmax layer, all layers trainable, 299x299 -> :func:`TransferClassifier`.
- Study 002 (Asgari Taghanaki et al. 2018): Inception-ResNet-v2 and NASNet-Large with max pooling or
  with every max pooling replaced by average pooling -> :func:`PoolingStudyClassifier`.
- Study 003 (Appl. Sci. 2021, 11, 4233, secs. 2.3-2.4), 224x224x3: VGG16 + average pooling + Dense(64, relu)
  + Dropout(0.5) + softmax -> :func:`VGG16Dense64` (options for the Keras template's frozen backbone and 4x4
  pooling); Inception-v3 with a frozen backbone ("all the layers except FC") + Dense(1024, relu) +
  Dropout(0.4) + softmax -> :func:`InceptionV3Dense1024` (the paper does not name its pooling; global
  average pooling here).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from art_medical.models.layers import check_image_shape, rgb_imagenet_input
from art_medical.models.pooling import replace_max_pooling
from art_medical.models.weights import WeightsArg, build_imagenet_backbone, check_weights_arg, load_weights_file


@dataclass(frozen=True)
class BackboneSpec:
    """A keras.applications backbone: its constructor, the input side of its paper and the smallest it takes."""

    constructor: Callable[..., keras.Model]
    paper_size: int
    min_size: int


BACKBONES: dict[str, BackboneSpec] = {
    "inception_v3": BackboneSpec(keras.applications.InceptionV3, 299, 75),
    "vgg16": BackboneSpec(keras.applications.VGG16, 224, 32),
    "vgg19": BackboneSpec(keras.applications.VGG19, 224, 32),
    "resnet50": BackboneSpec(keras.applications.ResNet50, 224, 32),
    "inception_resnet_v2": BackboneSpec(keras.applications.InceptionResNetV2, 299, 75),
    "densenet121": BackboneSpec(keras.applications.DenseNet121, 224, 32),
    "densenet169": BackboneSpec(keras.applications.DenseNet169, 224, 32),
    "nasnet_large": BackboneSpec(keras.applications.NASNetLarge, 331, 32),
}


def _backbone(backbone: str, input_shape: tuple[int, int, int], weights: WeightsArg) -> keras.Model:
    """The backbone without top on 3-channel input, with ImageNet weights when ``weights == "imagenet"``."""
    spec = BACKBONES[backbone]
    kwargs = {"include_top": False, "input_shape": (*input_shape[:2], 3)}
    if weights == "imagenet":
        model = build_imagenet_backbone(spec.constructor, backbone, **kwargs)
    else:
        model = spec.constructor(weights=None, **kwargs)
    return keras.Model(model.inputs[0], model.outputs[0], name="backbone")


def TransferClassifier(
    backbone: str = "inception_v3",
    input_shape: tuple[int, int, int] = (299, 299, 1),
    classes: int = 2,
    weights: WeightsArg = None,
    freeze_backbone: bool = False,
    hidden_units: int | None = None,
    dropout: float = 0.0,
    average_pooling_only: bool = False,
    pool_size: int | None = None,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """A keras.applications backbone with global average pooling and a new classifier (study 001 by default).

    :param backbone: A key of :data:`BACKBONES`.
    :param input_shape: ``(height, width, 1 or 3)`` of raw 0-255 pixels; sides at least the backbone's minimum.
    :param classes: Number of classes.
    :param weights: None (random init), ``"imagenet"`` (backbone weights from Keras) or the path of a weights
        file for the whole model or for the backbone.
    :param freeze_backbone: Make the backbone non-trainable (study 003's Inception-v3); study 001 trains all layers.
    :param hidden_units: Units of an optional Dense(relu) layer between pooling and classifier (study 003).
    :param dropout: Dropout rate after the hidden layer (only with ``hidden_units``).
    :param average_pooling_only: Replace every max pooling in the backbone by average pooling (study 002).
    :param pool_size: None for global average pooling; an integer for ``AveragePooling2D(pool_size)`` and
        flatten instead (the Keras COVID-19 template study 003 follows uses 4 on VGG16's 7x7 map).
    :param classifier_activation: ``"softmax"`` or ``None`` for logits.
    :param name: Model name; defaults to ``"<backbone>_transfer"``.
    """
    if backbone not in BACKBONES:
        raise ValueError(f"Unknown backbone {backbone!r}; expected one of {sorted(BACKBONES)}.")
    check_image_shape(input_shape, BACKBONES[backbone].min_size)
    check_weights_arg(weights)
    if classes < 2:
        raise ValueError(f"classes must be at least 2, got {classes}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    if dropout and hidden_units is None:
        raise ValueError("dropout applies after the hidden layer: give hidden_units as well.")
    if pool_size is not None and (not isinstance(pool_size, int) or pool_size < 1):
        raise ValueError(f"pool_size must be a positive integer or None, got {pool_size!r}.")

    inputs, preprocessed = rgb_imagenet_input(input_shape, backbone)
    base = _backbone(backbone, input_shape, weights)
    if average_pooling_only:
        base = replace_max_pooling(base)
    base.trainable = not freeze_backbone
    features = base(preprocessed, training=False if freeze_backbone else None)
    if pool_size is None:
        h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(features)
    elif min(features.shape[1:3]) < pool_size:
        raise ValueError(f"pool_size {pool_size} exceeds the backbone's {features.shape[1]}x{features.shape[2]} "
                         f"feature map at input {input_shape}.")
    else:
        h = keras.layers.AveragePooling2D(pool_size, name="avg_pool")(features)
        h = keras.layers.Flatten(name="flatten")(h)
    if hidden_units is not None:
        h = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout")(h)
    outputs = keras.layers.Dense(classes, activation=classifier_activation, dtype="float32", name="predictions")(h)
    model = keras.Model(inputs, outputs, name=name or f"{backbone}_transfer")
    if weights not in (None, "imagenet"):
        load_weights_file(model, base, weights)
    return model


def PoolingStudyClassifier(
    backbone: str = "inception_resnet_v2",
    input_shape: tuple[int, int, int] | None = None,
    classes: int = 2,
    weights: WeightsArg = None,
    pooling: str = "max",
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """Inception-ResNet-v2 or NASNet-Large as published (``pooling="max"``) or all-average-pooling (study 002).

    :param backbone: ``"inception_resnet_v2"`` (299x299) or ``"nasnet_large"`` (331x331).
    :param input_shape: Defaults to the paper's size with one channel.
    :param pooling: ``"max"`` keeps the network's max pooling; ``"avg"`` replaces every MaxPooling layer by
        AveragePooling with the same pool size, strides and padding.
    """
    if backbone not in ("inception_resnet_v2", "nasnet_large"):
        raise ValueError(f"Study 002 uses 'inception_resnet_v2' or 'nasnet_large', got {backbone!r}.")
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}.")
    size = BACKBONES[backbone].paper_size
    return TransferClassifier(
        backbone,
        input_shape or (size, size, 1),
        classes,
        weights,
        average_pooling_only=pooling == "avg",
        classifier_activation=classifier_activation,
        name=f"{backbone}_{pooling}pool",
    )


def VGG16Dense64(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 2,
    weights: WeightsArg = None,
    freeze_backbone: bool = False,
    pool_size: int | None = None,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """Study 003: VGG16 + average pooling + Dense(64, relu) + Dropout(0.5) + softmax.

    The paper states neither whether VGG16 was frozen nor the pooling window; the Keras COVID-19 template
    whose head it describes freezes the backbone and pools with a 4x4 window (``freeze_backbone=True,
    pool_size=4``), which on the 7x7 map of a 224x224 image averages only its top-left 4x4 corner.
    """
    return TransferClassifier(
        "vgg16", input_shape, classes, weights, freeze_backbone=freeze_backbone, hidden_units=64, dropout=0.5,
        pool_size=pool_size, classifier_activation=classifier_activation, name="vgg16_dense64",
    )


def InceptionV3Dense1024(
    input_shape: tuple[int, int, int] = (224, 224, 3),
    classes: int = 2,
    weights: WeightsArg = None,
    freeze_backbone: bool = True,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """Study 003: Inception-v3 with a frozen backbone + Dense(1024, relu) + Dropout(0.4) + softmax."""
    return TransferClassifier(
        "inception_v3", input_shape, classes, weights, freeze_backbone=freeze_backbone, hidden_units=1024,
        dropout=0.4, classifier_activation=classifier_activation, name="inception_v3_dense1024",
    )
