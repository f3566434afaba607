"""Model size: multiply-accumulate operations (MACs) of one forward pass.

Papers report network cost as MACs (multiply-adds) of the convolutions and dense layers, e.g. COVID-Net
(Wang et al. 2020, https://arxiv.org/abs/2003.09871, repository docs/models.md) gives 2.26 and 3.59 G MACs
for COVIDNet-CXR Small and Large, and MobileNet (Howard et al. 2017, https://arxiv.org/abs/1704.04861) 569 M
for 1.0 MobileNet-224. :func:`count_macs` counts these layers the same way: one MAC per weight
use of a convolution or dense kernel; biases, batch normalization, activations, pooling and additions are
not counted.
"""
from __future__ import annotations

import math

import keras


def _spatial_positions(layer: keras.layers.Layer) -> int:
    shape = layer.output.shape
    if any(d is None for d in shape[1:-1]):
        raise ValueError(f"Layer {layer.name!r} has an output of unknown size {shape}: build the model with a fixed "
                         "input shape to count its MACs.")
    return math.prod(shape[1:-1])


def layer_macs(layer: keras.layers.Layer) -> int:
    """MACs of one image through ``layer`` (0 for layers other than convolutions and dense layers)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return _spatial_positions(layer) * math.prod(layer.kernel_size) * layer.input.shape[-1] * layer.depth_multiplier
    if isinstance(layer, keras.layers.SeparableConv2D):
        channels = layer.input.shape[-1]
        positions = _spatial_positions(layer)
        depthwise = positions * math.prod(layer.kernel_size) * channels * layer.depth_multiplier
        return depthwise + positions * channels * layer.depth_multiplier * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        kernel = math.prod(layer.kernel_size) * (layer.input.shape[-1] // layer.groups) * layer.filters
        return _spatial_positions(layer) * kernel
    if isinstance(layer, keras.layers.Dense):
        positions = math.prod(d for d in layer.input.shape[1:-1]) if len(layer.input.shape) > 2 else 1
        return positions * layer.input.shape[-1] * layer.units
    return 0


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulate operations of one image through ``model``, nested models included.

    :param model: A built Keras model with a fixed input shape.
    :return: The sum of :func:`layer_macs` over every layer.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"model must be a keras.Model, got {type(model).__name__}.")
    return sum(count_macs(layer) if isinstance(layer, keras.Model) else layer_macs(layer) for layer in model.layers)
