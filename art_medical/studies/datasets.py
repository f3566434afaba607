"""The datasets a study configuration can name: the loaders of ``art_medical.data`` and built-in phantoms.

``loader: phantoms`` generates synthetic chest X-rays in memory (the demo's data; nothing to download); every
other loader reads a dataset as users have it on disk, below ``--data-root``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from art_medical import data
from art_medical.data import Dataset, Split
from art_medical.data.synthetic import CLASS_NAMES, make_chest_xray_phantoms
from art_medical.studies.config import ConfigError


def load_phantoms(
    n_train_per_class: int = 200,
    n_test_per_class: int = 60,
    size: int = 64,
    channels: int = 1,
    classes: tuple[str, ...] | list[str] = CLASS_NAMES,
    seed: int = 0,
) -> Dataset:
    """Synthetic chest X-ray phantoms (``art_medical.data.synthetic``) as a Dataset: seeded train and test sets."""
    x_train, y_train, names = make_chest_xray_phantoms(n_train_per_class, size, channels, tuple(classes), seed)
    x_test, y_test, _ = make_chest_xray_phantoms(n_test_per_class, size, channels, tuple(classes), seed + 1)
    return Dataset("phantoms", tuple(names), Split(x_train, y_train, tuple(names)), Split(x_test, y_test, tuple(names)))


@dataclass(frozen=True)
class LoaderInfo:
    """A loader usable from a configuration and the options it takes (besides the root and the seed)."""

    function: Callable[..., Dataset]
    options: tuple[str, ...]
    reads_files: bool = True


def _info(function: Callable[..., Dataset], reads_files: bool = True) -> LoaderInfo:
    parameters = inspect.signature(function).parameters
    options = tuple(name for name in parameters if name not in ("root", "seed", "csv_path"))
    return LoaderInfo(function, options, reads_files)


LOADERS: dict[str, LoaderInfo] = {
    name: _info(getattr(data, name)) for name in data.__all__ if name.startswith("load_")
}
LOADERS["phantoms"] = _info(load_phantoms, reads_files=False)


def check_dataset_spec(loader: str, options: dict[str, Any], where: str) -> None:
    """Reject options a loader cannot take (the Section of the options has checked their names)."""
    if options.get("stream"):
        raise ConfigError(f"{where}.stream: the studies hold their images in memory; remove stream.")


def dataset_root(path: str, data_root: Path | None, loader: str, where: str) -> Path | None:
    """The folder a loader reads: ``path`` below the data root (None for built-in data)."""
    if not LOADERS[loader].reads_files:
        return None
    if data_root is None:
        raise ConfigError(f"{where}: the loader {loader} reads a dataset from disk: pass --data-root DIR.")
    root = (data_root / path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{where}: dataset folder not found: {root} (--data-root {data_root}, path {path!r}).")
    return root


def class_names(loader: str, root: Path | None, options: dict[str, Any]) -> tuple[str, ...]:
    """The class names a loader will produce, read without decoding any image."""
    if loader == "phantoms":
        return tuple(options.get("classes", CLASS_NAMES))
    from art_medical.data.catalog import dataset_classes

    return tuple(dataset_classes(loader, root, options))


def load(loader: str, root: Path | None, options: dict[str, Any], seed: int) -> Dataset:
    """Load a dataset: the loader's splits, images on 0-255, integer labels."""
    function = LOADERS[loader].function
    if root is None:
        return function(seed=seed, **options)
    return function(root, seed=seed, **{"verbose": False, **options})
