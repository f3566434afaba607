"""Input adapters that keep every model on the raw 0-255 pixel scale.

The studies' networks take ImageNet-preprocessed RGB input; attacks and xi, however, are measured on
raw pixels. These layers move grayscale-to-RGB conversion and the backbone's own
``keras.applications.<family>.preprocess_input`` inside the model, so a model's input is always the
image as stored (float32, 0-255) and gradients flow through the preprocessing.
"""
from __future__ import annotations

import importlib

import keras

#: The keras.applications module whose ``preprocess_input`` matches each backbone.
PREPROCESSING_MODULES: dict[str, str] = {
    "inception_v3": "keras.applications.inception_v3",
    "inception_resnet_v2": "keras.applications.inception_resnet_v2",
    "nasnet_large": "keras.applications.nasnet",
    "vgg16": "keras.applications.vgg16",
    "vgg19": "keras.applications.vgg19",
    "resnet50": "keras.applications.resnet50",
    "densenet121": "keras.applications.densenet",
    "densenet169": "keras.applications.densenet",
}


@keras.saving.register_keras_serializable(package="art_medical")
class GrayscaleToRGB(keras.layers.Layer):
    """Repeat a single channel three times (channels-last); 3-channel input passes through unchanged."""

    def call(self, inputs):
        if inputs.shape[-1] == 3:
            return inputs
        return keras.ops.repeat(inputs, 3, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (3,)


@keras.saving.register_keras_serializable(package="art_medical")
class ImageNetPreprocessing(keras.layers.Layer):
    """Apply ``keras.applications.<family>.preprocess_input`` of ``backbone`` to 0-255 RGB input.

    :param backbone: A key of :data:`PREPROCESSING_MODULES`, e.g. ``"vgg16"`` (caffe mode: BGR, mean
        subtraction), ``"inception_v3"`` (tf mode: scale to [-1, 1]) or ``"densenet121"`` (torch mode).
    """

    def __init__(self, backbone: str, **kwargs):
        super().__init__(**kwargs)
        if backbone not in PREPROCESSING_MODULES:
            raise ValueError(
                f"Unknown backbone {backbone!r} for ImageNet preprocessing; expected one of "
                f"{sorted(PREPROCESSING_MODULES)}."
            )
        self.backbone = backbone
        self._preprocess_input = importlib.import_module(PREPROCESSING_MODULES[backbone]).preprocess_input

    def call(self, inputs):
        return self._preprocess_input(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "backbone": self.backbone}


def rgb_imagenet_input(input_shape: tuple[int, int, int], backbone: str) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Return ``(inputs, preprocessed)``: a raw-pixel input and its RGB, ImageNet-preprocessed version.

    :param input_shape: ``(height, width, channels)`` with 1 (grayscale) or 3 (RGB) channels.
    :param backbone: The backbone whose ``preprocess_input`` is applied.
    """
    check_image_shape(input_shape)
    inputs = keras.Input(shape=input_shape, name="pixels")
    rgb = GrayscaleToRGB(name="grayscale_to_rgb")(inputs) if input_shape[-1] == 1 else inputs
    return inputs, ImageNetPreprocessing(backbone, name=f"{backbone}_preprocessing")(rgb)


def check_image_shape(input_shape: tuple[int, ...], min_size: int = 1) -> None:
    """Raise ValueError unless ``input_shape`` is ``(height, width, 1 or 3)`` with sides >= ``min_size``."""
    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise ValueError(f"input_shape must be (height, width, channels) with 1 or 3 channels, got {input_shape}.")
    if min(input_shape[:2]) < min_size:
        raise ValueError(f"input_shape {input_shape} is too small: height and width must be at least {min_size}.")
