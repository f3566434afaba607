"""Replacing max pooling by average pooling throughout a network (study 002, Asgari Taghanaki et al. 2018).

Study 002 compares Inception-ResNet-v2 and NASNet-Large as published (max pooling) with versions whose
every max-pooling operation is an average pooling of the same window, stride and padding.
"""
from __future__ import annotations

import keras

_MAX_TO_AVERAGE = {
    keras.layers.MaxPooling1D: keras.layers.AveragePooling1D,
    keras.layers.MaxPooling2D: keras.layers.AveragePooling2D,
    keras.layers.MaxPooling3D: keras.layers.AveragePooling3D,
}


def _average_instead_of_max(layer: keras.layers.Layer) -> keras.layers.Layer:
    """clone_function for keras.models.clone_model: a fresh copy of ``layer``, average pooling for max pooling."""
    config = layer.get_config()
    replacement = _MAX_TO_AVERAGE.get(type(layer))
    if replacement is None:
        return layer.__class__.from_config(config)
    return replacement(
        pool_size=config["pool_size"],
        strides=config["strides"],
        padding=config["padding"],
        data_format=config["data_format"],
        name=config["name"].replace("max", "avg") if "max" in config["name"] else f"{config['name']}_avg",
    )


def replace_max_pooling(model: keras.Model) -> keras.Model:
    """Return a copy of ``model`` where every MaxPooling layer is AveragePooling with the same geometry.

    The copy has the same weights as ``model`` (pooling layers have none). Nested models are
    converted recursively. Global max pooling is left alone: study 002 concerns the windowed pooling
    inside the networks.

    :param model: A functional or sequential Keras model.
    :return: A new model; ``model`` is unchanged.
    """

    def clone_function(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.Model):
            return replace_max_pooling(layer)
        return _average_instead_of_max(layer)

    clone = keras.models.clone_model(model, clone_function=clone_function)
    clone.set_weights(model.get_weights())
    return clone


def count_max_pooling(model: keras.Model) -> int:
    """Number of windowed max-pooling layers in ``model``, nested models included."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            count += count_max_pooling(layer)
        elif type(layer) in _MAX_TO_AVERAGE:
            count += 1
    return count
