"""One entry point for every architecture the studies attack: ``build_model(name, num_classes, input_shape)``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import keras

from art_medical.models.covidnet import COVIDNet
from art_medical.models.resnet import ResNet18, ResNet50
from art_medical.models.scratch import ScratchApplication
from art_medical.models.small_cnn import SmallCNN
from art_medical.models.transfer import (
    BACKBONES,
    InceptionV3Dense1024,
    PoolingStudyClassifier,
    TransferClassifier,
    VGG16Dense64,
)
from art_medical.models.weights import WeightsArg
from art_medical.models.wide_resnet import WideResNet


@dataclass(frozen=True)
class ModelEntry:
    """A registered architecture: its builder ``(input_shape, classes, weights, **options)``, study and paper input."""

    builder: Callable[..., keras.Model]
    study: str
    description: str
    paper_input_shape: tuple[int, int, int]


def _small_cnn(input_shape, classes, weights, **options) -> keras.Model:
    if weights is not None:
        raise ValueError("small_cnn has no pretrained weights: weights must be None.")
    return SmallCNN(input_shape=input_shape, classes=classes, **options)


def _entries() -> dict[str, ModelEntry]:
    covidnet_sizes = {"small": "117.4 M parameters, 2.25 G MACs", "large": "126.2 M parameters, 3.58 G MACs"}
    entries = {
        f"covidnet_cxr_{variant}": ModelEntry(
            partial(COVIDNet, variant),
            "000",
            f"COVID-Net PEPX design sized like the released COVIDNet-CXR {variant.capitalize()} ({size}); "
            "options width_multiplier, max_modules_per_stage for tiny test models",
            (224, 224, 3),
        )
        for variant, size in covidnet_sizes.items()
    }
    study001 = ("inception_v3", "vgg16", "vgg19", "resnet50", "inception_resnet_v2", "densenet121", "densenet169")
    entries |= {
        f"{backbone}_transfer": ModelEntry(
            partial(TransferClassifier, backbone),
            "001",
            f"{backbone} without top + global average pooling + Dense softmax, all layers trainable",
            (299, 299, 1),
        )
        for backbone in study001
    }
    for backbone in ("inception_resnet_v2", "nasnet_large"):
        size = BACKBONES[backbone].paper_size
        entries[f"{backbone}_pooling"] = ModelEntry(
            partial(PoolingStudyClassifier, backbone),
            "002",
            f"{backbone} + global average pooling + Dense softmax; option pooling='max' (published) or 'avg' "
            "(every max pooling replaced by average pooling)",
            (size, size, 1),
        )
    entries["vgg16_dense64"] = ModelEntry(
        VGG16Dense64, "003", "VGG16 + global average pooling + Dense(64, relu) + Dropout(0.5) + softmax; options "
        "freeze_backbone, pool_size=4 for the Keras template's head", (224, 224, 3),
    )
    entries["inception_v3_dense1024"] = ModelEntry(
        InceptionV3Dense1024, "003",
        "Inception-v3 with frozen backbone + global average pooling + Dense(1024, relu) + Dropout(0.4) + softmax",
        (224, 224, 3),
    )
    entries["resnet18"] = ModelEntry(
        ResNet18, "004", "ResNet-18 from scratch, projection shortcut in every stage (Table I: 11,185,218)",
        (255, 255, 1),
    )
    entries["resnet50_scratch"] = ModelEntry(
        ResNet50, "004", "ResNet-50 from scratch, convolutions without biases (Table I: 23,558,978)", (255, 255, 1),
    )
    entries["wrn_16_8"] = ModelEntry(
        partial(WideResNet, 16, 8), "004",
        "WRN-16-8 from scratch, convolution biases, 8x8 average pooling + flatten (Table I: 11,033,186)",
        (255, 255, 1),
    )
    for architecture in ("vgg19", "inception_v3"):
        entries[f"{architecture}_scratch"] = ModelEntry(
            partial(ScratchApplication, architecture), "004",
            f"keras.applications {architecture} with its own top (include_top=True), from scratch (Table I count)",
            (255, 255, 1),
        )
    entries["small_cnn"] = ModelEntry(
        _small_cnn, "tests", "two conv blocks + Dense(32) + classifier, for tests, the demo and benchmarks",
        (64, 64, 1),
    )
    return entries


MODELS: dict[str, ModelEntry] = _entries()


def available_models() -> dict[str, str]:
    """Registered names mapped to ``"study NNN: description (paper input HxWxC)"``."""
    return {
        name: f"study {entry.study}: {entry.description} (paper input {'x'.join(map(str, entry.paper_input_shape))})"
        for name, entry in MODELS.items()
    }


def build_model(
    name: str,
    num_classes: int,
    input_shape: tuple[int, int, int] | None = None,
    weights: WeightsArg = None,
    **options,
) -> keras.Model:
    """Build a registered architecture taking raw 0-255 pixels.

    :param name: A key of :func:`available_models`.
    :param num_classes: Number of output classes.
    :param input_shape: ``(height, width, channels)``; defaults to the study's input size.
    :param weights: None, ``"imagenet"`` (transfer models) or the path of a weights file.
    :param options: Builder-specific options, e.g. ``pooling="avg"`` for study 002 or
        ``classifier_activation=None`` for logits.
    """
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; available: {sorted(MODELS)}.")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}.")
    entry = MODELS[name]
    shape = tuple(input_shape) if input_shape is not None else entry.paper_input_shape
    return entry.builder(input_shape=shape, classes=num_classes, weights=weights, **options)
