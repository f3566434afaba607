"""Kermany et al. chest X-ray and OCT images (Mendeley rscbjbr9sj) with the study 001 splits.

Layout: ``CellData/chest_xray/{train,test}/{NORMAL,PNEUMONIA}/*.jpeg`` and
``CellData/OCT/{train,test}/{CNV,DME,DRUSEN,NORMAL}/*.jpeg`` (the Kaggle copy adds ``val/``).
``root`` may be the ``chest_xray`` / ``OCT`` folder itself, or a folder above it (``CellData`` or its
parent).

Study 001 pooled the images of every split folder and drew class-balanced training and test sets
without duplicates: 900 / 270 images per class for chest X-ray, 1,960 / 840 per class for OCT, at
299x299 pixels (grayscale; the models convert to RGB).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.folders import scan_class_folders
from art_medical.data.images import Preprocess
from art_medical.data.pipeline import LoadOptions, OnError, file_source, materialize
from art_medical.data.splits import balanced_draw, carve_validation

CHEST_XRAY_CLASSES: tuple[str, ...] = ("NORMAL", "PNEUMONIA")
OCT_CLASSES: tuple[str, ...] = ("CNV", "DME", "DRUSEN", "NORMAL")
CHEST_XRAY_PER_CLASS: dict[str, int] = {"train": 900, "test": 270}
"""Study 001: images per class drawn for training and testing (1,800 / 540 in all)."""
OCT_PER_CLASS: dict[str, int] = {"train": 1960, "test": 840}
"""Study 001: images per class drawn for training and testing (7,840 / 3,360 in all)."""
SPLIT_FOLDERS: tuple[str, ...] = ("train", "val", "test")


def _find_layout_root(root: Path, modality_folder: str) -> Path:
    candidates = [root, root / modality_folder, root / "CellData" / modality_folder]
    for candidate in candidates:
        if any((candidate / split).is_dir() for split in SPLIT_FOLDERS):
            return candidate
    if not root.exists():
        raise FileNotFoundError(f"Dataset folder not found: {root}")
    raise FileNotFoundError(
        f"No Kermany {modality_folder} layout under {root}: expected train/ and test/ folders in one of "
        f"{[str(c) for c in candidates]}."
    )


def _load_kermany(
    name: str, root: Path | str, modality_folder: str, classes: Sequence[str], n_train_per_class: int,
    n_test_per_class: int, val_fraction: float, pool_folders: bool, options: LoadOptions,
) -> Dataset:
    root = _find_layout_root(Path(root).expanduser().resolve(), modality_folder)
    skipped: list[tuple[str, str]] = []
    by_folder = {
        split: scan_class_folders(root / split, classes, options, skipped, unknown_is_error=True)[:2]
        for split in SPLIT_FOLDERS
        if (root / split).is_dir()
    }
    paths = [p for folder_paths, _ in by_folder.values() for p in folder_paths]
    labels = np.concatenate([folder_labels for _, folder_labels in by_folder.values()])
    if pool_folders:
        plan = balanced_draw(labels, {"train": n_train_per_class, "test": n_test_per_class},
                             seed=options.seed, class_names=tuple(classes))
    else:
        if "train" not in by_folder or "test" not in by_folder:
            raise FileNotFoundError(f"pool_folders=False needs both train/ and test/ folders in {root}.")
        offsets, start = {}, 0
        for split, (folder_paths, _) in by_folder.items():
            offsets[split] = np.arange(start, start + len(folder_paths))
            start += len(folder_paths)
        train_pool = np.concatenate([offsets[s] for s in ("train", "val") if s in offsets])
        test_pool = offsets["test"]
        train = balanced_draw(labels[train_pool], {"train": n_train_per_class}, options.seed, tuple(classes))
        test = balanced_draw(labels[test_pool], {"test": n_test_per_class}, options.seed, tuple(classes))
        plan = {"train": train_pool[train["train"]], "test": test_pool[test["test"]]}
    plan = carve_validation(plan, labels, float(val_fraction), seed=options.seed)
    sources = {split: file_source(root, [paths[i] for i in index], labels[index], options, f"{name} {split}")
               for split, index in plan.items()}
    params = {"root": str(root), "n_train_per_class": n_train_per_class, "n_test_per_class": n_test_per_class,
              "val_fraction": val_fraction, "pool_folders": pool_folders}
    return materialize(name, classes, sources, options, params, [paths[i] for idx in plan.values() for i in idx],
                       skipped)


def load_kermany_chest_xray(
    root: Path | str,
    *,
    size: int = 299,
    channels: int = 1,
    n_train_per_class: int = CHEST_XRAY_PER_CLASS["train"],
    n_test_per_class: int = CHEST_XRAY_PER_CLASS["test"],
    val_fraction: float = 0.0,
    pool_folders: bool = True,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Kermany chest X-rays (NORMAL / PNEUMONIA) with the class-balanced split of study 001.

    :param root: The ``chest_xray`` folder, or ``CellData`` or its parent.
    :param size: Output height and width in pixels (study 001: 299).
    :param channels: 1 (grayscale) or 3 (RGB).
    :param n_train_per_class: Training images drawn per class (study 001: 900).
    :param n_test_per_class: Test images drawn per class (study 001: 270).
    :param val_fraction: Share of the drawn training images held out for validation, stratified.
        Study 001 chose checkpoints on the test set; hold out a validation split instead.
    :param pool_folders: Draw from the images of all split folders together, as study 001 did;
        ``False`` draws training images from ``train/`` (and ``val/``) and test images from ``test/``.
    :param seed: Seed of the draws.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` bad files with one warning.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset`: float32 images ``(n, size, size, channels)`` on 0-255, int64 labels,
        ``class_names == ("NORMAL", "PNEUMONIA")``.
    :raises FileNotFoundError: No ``train/`` / ``test/`` layout under ``root``, or a class folder missing.
    :raises ValueError: An unknown class folder, an empty class, a class with too few images, or an
        unreadable image (unless ``on_error="skip"``).
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    return _load_kermany("kermany_chest_xray", root, "chest_xray", CHEST_XRAY_CLASSES, n_train_per_class,
                         n_test_per_class, val_fraction, pool_folders, options)


def load_kermany_oct(
    root: Path | str,
    *,
    size: int = 299,
    channels: int = 1,
    n_train_per_class: int = OCT_PER_CLASS["train"],
    n_test_per_class: int = OCT_PER_CLASS["test"],
    val_fraction: float = 0.0,
    pool_folders: bool = True,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Kermany retinal OCT (CNV / DME / DRUSEN / NORMAL) with the class-balanced split of study 001.

    ``root`` is the ``OCT`` folder, or ``CellData`` or its parent; study 001 drew 1,960 training and
    840 test images per class. Other parameters as in :func:`load_kermany_chest_xray`.
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    return _load_kermany("kermany_oct", root, "OCT", OCT_CLASSES, n_train_per_class, n_test_per_class,
                         val_fraction, pool_folders, options)
