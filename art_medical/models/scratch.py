"""keras.applications architectures with their own classifier top, trained from scratch (study 004).

Study 004 trains VGG-19 and Inception v3 (besides ResNet-18, ResNet-50 and WRN-16-8, see
:mod:`art_medical.models.resnet` and :mod:`art_medical.models.wide_resnet`) from scratch on 255x255x1 chest
X-rays with two classes. These builders use ``keras.applications`` with ``include_top=True, weights=None``
and rescale raw 0-255 pixels to [0, 1] inside the model; their parameter counts equal Table I's
(139,577,282 and 21,806,306).
"""
from __future__ import annotations

from collections.abc import Callable

import keras

from art_medical.models.layers import check_image_shape
from art_medical.models.weights import WeightsArg, check_weights_arg, load_weights_file

#: Architecture name -> (keras.applications constructor, smallest input side it accepts).
SCRATCH_ARCHITECTURES: dict[str, tuple[Callable[..., keras.Model], int]] = {
    "vgg19": (keras.applications.VGG19, 32),
    "inception_v3": (keras.applications.InceptionV3, 75),
}


def ScratchApplication(
    architecture: str = "vgg19",
    input_shape: tuple[int, int, int] = (255, 255, 1),
    classes: int = 2,
    weights: WeightsArg = None,
    classifier_activation: str | None = "softmax",
) -> keras.Model:
    """A keras.applications network with its standard top for ``classes`` classes, randomly initialised.

    :param architecture: ``"vgg19"`` or ``"inception_v3"``.
    :param input_shape: ``(height, width, channels)`` of raw 0-255 pixels (rescaled to [0, 1] inside).
    :param classes: Number of classes.
    :param weights: None or the path of a weights file saved from this model.
    :param classifier_activation: ``"softmax"`` or ``None`` for logits.
    """
    if architecture not in SCRATCH_ARCHITECTURES:
        raise ValueError(f"Unknown architecture {architecture!r}; expected one of {sorted(SCRATCH_ARCHITECTURES)}.")
    constructor, min_size = SCRATCH_ARCHITECTURES[architecture]
    check_image_shape(input_shape, min_size)
    check_weights_arg(weights, allow_imagenet=False)
    inputs = keras.Input(shape=input_shape, name="pixels")
    scaled = keras.layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    network = constructor(
        include_top=True, weights=None, input_shape=input_shape, classes=classes,
        classifier_activation=classifier_activation,
    )
    model = keras.Model(inputs, network(scaled), name=f"{architecture}_scratch")
    if weights is not None:
        load_weights_file(model, network, weights)
    return model
