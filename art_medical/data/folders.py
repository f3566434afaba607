"""Datasets stored as one folder of images per class: COVID-CT and the curated COVID-19 X-ray set.

- COVID-CT (study 003): ``CT_COVID/`` (349 images) and ``CT_NonCOVID/`` (397), possibly inside
  ``Images-processed/``; study 003 resized to 224x224x3 and split 80:20.
- Curated COVID-19 X-ray set (study 004): ``COVID-19/``, ``Normal/``, ``Pneumonia-Bacterial/``,
  ``Pneumonia-Viral/``; study 004 trained on COVID-19 vs Normal (4,551 images, 3,640 train / 911 test,
  10% of training held out for validation) at 255x255x1.

Class folders are matched case-insensitively; ``class_names`` keep the spelling given here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.images import Preprocess, list_images
from art_medical.data.pipeline import LoadOptions, OnError, file_source, materialize, report_problem
from art_medical.data.splits import carve_validation, stratified_holdout

COVID_CT_CLASSES: tuple[str, ...] = ("CT_COVID", "CT_NonCOVID")
CURATED_XRAY_CLASSES: tuple[str, ...] = ("COVID-19", "Normal", "Pneumonia-Bacterial", "Pneumonia-Viral")
STUDY_004_CLASSES: tuple[str, ...] = ("COVID-19", "Normal")
"""The binary task of study 004."""
TEST_FRACTION: float = 0.2
"""The 80:20 train / test split of studies 003 and 004."""
STUDY_004_VAL_FRACTION: float = 0.1
"""Study 004 held out 10% of the training images for validation."""


def _subfolders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"Dataset folder not found: {folder}")
    return sorted((d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)


def class_folder_names(folder: Path | str) -> tuple[str, ...]:
    """The class names :func:`load_image_folders` finds in ``folder`` by default: its subfolders, sorted.

    Reads only the folder listing, so a configuration can be checked before any image is decoded.

    :raises FileNotFoundError: ``folder`` is missing or has no subfolders.
    """
    folder = Path(folder).expanduser().resolve()
    names = tuple(d.name for d in _subfolders(folder))
    if not names:
        raise FileNotFoundError(f"No class folders found in {folder}.")
    return names


def split_labelled_files(
    name: str, root: Path, paths: Sequence[Path], labels: np.ndarray, class_names: tuple[str, ...],
    test_fraction: float, val_fraction: float, options: LoadOptions, params: dict[str, Any],
    source_files: Sequence[Path], skipped: list[tuple[str, str]],
) -> Dataset:
    """Split labelled image files train / test (and validation) stratified and seeded, then load them.

    :param root: Folder the recorded file names are relative to.
    :param params: Loader parameters that decide the result besides the files (for the cache key).
    :param source_files: Files the result depends on besides the images (label tables).
    """
    train, test = stratified_holdout(labels, float(test_fraction), seed=options.seed)
    plan = carve_validation({"train": train, "test": test}, labels, float(val_fraction), seed=options.seed)
    sources = {split: file_source(root, [paths[i] for i in index], labels[index], options, f"{name} {split}")
               for split, index in plan.items()}
    params = {**params, "test_fraction": test_fraction, "val_fraction": val_fraction}
    return materialize(name, class_names, sources, options, params, [*source_files, *paths], skipped)


def scan_class_folders(
    folder: Path,
    classes: Sequence[str] | None,
    options: LoadOptions,
    skipped: list[tuple[str, str]],
    unknown_is_error: bool = False,
) -> tuple[list[Path], np.ndarray, tuple[str, ...]]:
    """Image paths and labels of a folder-per-class layout.

    :param classes: Class folders to read, in label order; ``None`` takes every subfolder, sorted.
    :param unknown_is_error: Treat subfolders not in ``classes`` as bad input (a fixed class set).
    :raises FileNotFoundError: ``folder`` or a class folder is missing.
    :raises ValueError: A class folder holds no images, or (``unknown_is_error``) an unknown class folder.
    """
    subfolders = _subfolders(folder)
    classes = tuple(d.name for d in subfolders) if classes is None else tuple(classes)
    if not classes:
        raise FileNotFoundError(f"No class folders found in {folder}.")
    by_name = {d.name.lower(): d for d in subfolders}
    wanted = {c.lower() for c in classes}
    if unknown_is_error:
        for unknown in (d for d in subfolders if d.name.lower() not in wanted):
            message = f"Unknown class folder {unknown}: expected only {', '.join(classes)}."
            report_problem(message, unknown, options, skipped)
    paths: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        class_folder = by_name.get(name.lower())
        if class_folder is None:
            raise FileNotFoundError(f"Class folder '{name}' not found in {folder}; found {[d.name for d in subfolders]}.")
        images = list_images(class_folder)
        if not images:
            report_problem(f"Class folder {class_folder} holds no images.", class_folder, options, skipped)
        paths.extend(images)
        labels.extend([label] * len(images))
    return paths, np.asarray(labels, dtype=np.int64), classes


def load_image_folders(
    root: Path | str,
    *,
    classes: Sequence[str] | None = None,
    size: int = 224,
    channels: int = 3,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = 0.0,
    name: str = "folders",
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Load any folder-per-class image set, split train / test stratified and seeded.

    :param root: Folder holding one subfolder of images per class.
    :param classes: Class folders in label order (others are ignored); default all, sorted by name.
    :param size: Output height and width in pixels.
    :param channels: 1 (grayscale) or 3 (RGB).
    :param test_fraction: Share of each class held out for testing (studies 003 / 004: 0.2).
    :param val_fraction: Share of the training images held out for validation, stratified.
    :param name: Dataset name used in cache file names and messages.
    :param seed: Seed of the splits.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` bad files with one warning.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset`: float32 images ``(n, size, size, channels)`` on 0-255, int64 labels.
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    root = Path(root).expanduser().resolve()
    skipped: list[tuple[str, str]] = []
    paths, labels, class_names = scan_class_folders(root, classes, options, skipped)
    return split_labelled_files(name, root, paths, labels, class_names, test_fraction, val_fraction, options,
                                {"root": str(root), "classes": class_names}, [], skipped)


def load_covid_ct(
    root: Path | str,
    *,
    size: int = 224,
    channels: int = 3,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = 0.0,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Load COVID-CT (``CT_COVID/``, ``CT_NonCOVID/``) as study 003 did: 224x224x3, 80:20 split.

    ``root`` may also be the folder that holds ``Images-processed/``. Other parameters as in
    :func:`load_image_folders`.
    """
    root = Path(root).expanduser()
    if not (root / COVID_CT_CLASSES[0]).is_dir() and (root / "Images-processed" / COVID_CT_CLASSES[0]).is_dir():
        root = root / "Images-processed"
    return load_image_folders(
        root, classes=COVID_CT_CLASSES, size=size, channels=channels, test_fraction=test_fraction,
        val_fraction=val_fraction, name="covid_ct", seed=seed, cache_dir=cache_dir, stream=stream,
        on_error=on_error, workers=workers, verbose=verbose,
    )


def load_covid19_xray(
    root: Path | str,
    *,
    classes: Sequence[str] = STUDY_004_CLASSES,
    size: int = 255,
    channels: int = 1,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = STUDY_004_VAL_FRACTION,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Load the curated COVID-19 X-ray set as study 004 did: COVID-19 vs Normal, 255x255x1, 80:20.

    Pass ``classes=CURATED_XRAY_CLASSES`` for all four classes. Other parameters as in
    :func:`load_image_folders`.
    """
    return load_image_folders(
        root, classes=classes, size=size, channels=channels, test_fraction=test_fraction,
        val_fraction=val_fraction, name="covid19_xray", seed=seed, cache_dir=cache_dir, stream=stream,
        on_error=on_error, workers=workers, verbose=verbose,
    )
