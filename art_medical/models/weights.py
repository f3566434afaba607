"""Resolving the ``weights`` argument of the builders: None, ``"imagenet"`` or a local weights file."""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import keras

WeightsArg = str | os.PathLike | None


def check_weights_arg(weights: WeightsArg, allow_imagenet: bool = True) -> None:
    """Raise a clear error for a weights argument that is neither None, "imagenet" nor an existing file."""
    if weights is None:
        return
    if weights == "imagenet":
        if not allow_imagenet:
            raise ValueError(
                "This architecture is trained from scratch (study 004): weights must be None or a path to a "
                "weights file, not 'imagenet'."
            )
        return
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"weights must be None, 'imagenet' or a path to a weights file, got {weights!r}.")
    if not os.path.isfile(weights):
        raise FileNotFoundError(f"Weights file not found: {os.fspath(weights)!r}.")
    if not os.fspath(weights).endswith((".h5", ".keras")):
        raise ValueError(f"Weights file must be a .h5, .weights.h5 or .keras file, got {os.fspath(weights)!r}.")


def build_imagenet_backbone(constructor: Callable[..., keras.Model], backbone: str, **kwargs) -> keras.Model:
    """Call a ``keras.applications`` constructor with ``weights="imagenet"``, explaining offline failures.

    Keras downloads ImageNet weights on first use; without internet access the download fails and the
    error says how to pass a local file instead.
    """
    try:
        return constructor(weights="imagenet", **kwargs)
    except Exception as error:  # keras.utils.get_file raises a bare Exception on fetch failures
        raise OSError(
            f"Could not obtain ImageNet weights for {backbone} (downloading them needs internet access: {error}). "
            f"Download the 'no top' weights file of keras.applications for {backbone} on a connected machine and "
            "pass its local path as weights='/path/to/file.h5', or place it in ~/.keras/models/."
        ) from error


def load_weights_file(model: keras.Model, backbone: keras.Model | None, path: WeightsArg) -> None:
    """Load a weights file into the full ``model``, or, if it does not fit, into its ``backbone``.

    A file saved from a model built by this package fits the full model; a ``keras.applications``
    "no top" file fits the backbone.
    """
    check_weights_arg(path)
    try:
        with warnings.catch_warnings():  # Keras warns about every group a non-matching file lacks
            warnings.simplefilter("ignore", UserWarning)
            model.load_weights(path)
        return
    except (ValueError, KeyError) as full_model_error:
        if backbone is None:
            raise ValueError(f"Weights file {os.fspath(path)!r} does not fit model {model.name!r}: "
                             f"{full_model_error}") from full_model_error
        try:
            backbone.load_weights(path)
        except (ValueError, KeyError) as backbone_error:
            raise ValueError(
                f"Weights file {os.fspath(path)!r} fits neither model {model.name!r} ({full_model_error}) nor its "
                f"backbone {backbone.name!r} ({backbone_error})."
            ) from backbone_error
