"""The datasets a study configuration can name: the loaders of ``art_medical.data.catalog`` and built-in phantoms.

``loader: phantoms`` generates synthetic chest X-rays in memory (the demo's data; nothing to download); every
other loader reads a dataset as users have it on disk, below ``--data-root``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from art_medical.data import Dataset, Split, catalog
from art_medical.data.synthetic import CLASS_NAMES, make_chest_xray_phantoms
from art_medical.studies.config import ConfigError

PHANTOMS = "phantoms"


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
    return Dataset(PHANTOMS, tuple(names), Split(x_train, y_train, tuple(names)), Split(x_test, y_test, tuple(names)))


LOADERS: dict[str, tuple[str, ...]] = {
    **{name: tuple(o for o in catalog.get_loader(name).options if o != "seed") for name in catalog.available_loaders()},
    PHANTOMS: ("n_train_per_class", "n_test_per_class", "size", "channels", "classes"),
}
"""Loader name -> the options a configuration may give it (the seed is the configuration's)."""


def check_dataset_spec(loader: str, options: dict[str, Any], where: str) -> None:
    """Reject options the studies cannot use (the option names are checked against :data:`LOADERS`)."""
    if options.get("stream"):
        raise ConfigError(f"{where}.stream: the studies hold their images in memory; remove stream.")


def dataset_root(path: str, data_root: Path | None, loader: str, where: str) -> Path | None:
    """The folder (or file) a loader reads: ``path`` below the data root; None for built-in data."""
    if loader == PHANTOMS:
        return None
    if data_root is None:
        raise ConfigError(f"{where}: the loader {loader} reads a dataset from disk: pass --data-root DIR.")
    root = (data_root / path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"{where}: dataset folder not found: {root} (--data-root {data_root}, path {path!r}).")
    return root


def class_names(loader: str, root: Path | None, options: dict[str, Any]) -> tuple[str, ...]:
    """The class names a loader will produce, read without decoding any image."""
    if loader == PHANTOMS:
        return tuple(options.get("classes", CLASS_NAMES))
    return catalog.dataset_classes(loader, root, options)


def load(loader: str, root: Path | None, options: dict[str, Any], seed: int) -> Dataset:
    """Load a dataset: the loader's splits, images on 0-255, integer labels."""
    if loader == PHANTOMS:
        return load_phantoms(seed=seed, **options)
    return catalog.load_dataset(loader, root, {"verbose": False, **options, "seed": seed})
