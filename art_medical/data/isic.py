"""ISIC 2018 task 3 (skin lesions, 7 classes) with the random 7,000 / 3,015 split of study 001.

Layout: ``ISIC2018_Task3_Training_Input/*.jpg`` and the ground truth
``ISIC2018_Task3_Training_GroundTruth.csv`` (at the root or inside
``ISIC2018_Task3_Training_GroundTruth/``), with columns ``image, MEL, NV, BCC, AKIEC, BKL, DF, VASC``
one-hot encoded. Study 001 resized the RGB images to 299x299.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.images import Preprocess, list_images
from art_medical.data.pipeline import LoadOptions, OnError, file_source, materialize, report_problem
from art_medical.data.splits import carve_validation, random_split

CLASSES: tuple[str, ...] = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")
N_TRAIN: int = 7000
"""Study 001: training images drawn at random from the 10,015; the other 3,015 are the test set."""
N_TEST: int = 3015
IMAGES_FOLDER = "ISIC2018_Task3_Training_Input"
LABELS_CSV = "ISIC2018_Task3_Training_GroundTruth.csv"


def _find(root: Path, images_dir: Path | str | None, labels_csv: Path | str | None) -> tuple[Path, Path]:
    images = Path(images_dir) if images_dir is not None else root / IMAGES_FOLDER
    if labels_csv is not None:
        table = Path(labels_csv)
    else:
        options = [root / LABELS_CSV, root / LABELS_CSV.removesuffix(".csv") / LABELS_CSV]
        table = next((p for p in options if p.is_file()), options[0])
    if not images.is_dir():
        raise FileNotFoundError(f"ISIC 2018 image folder not found: {images}")
    if not table.is_file():
        raise FileNotFoundError(f"ISIC 2018 ground-truth CSV not found: {table}")
    return images, table


def read_ground_truth(table: Path) -> dict[str, int]:
    """Image id -> class index from the one-hot ground-truth CSV; errors name the file and line."""
    labels: dict[str, int] = {}
    with open(table, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in ("image", *CLASSES) if c not in header]
        if missing:
            raise ValueError(f"{table}: missing column(s) {missing}; expected image, {', '.join(CLASSES)}.")
        for row in reader:
            line = reader.line_num
            try:
                values = np.array([float(row[c]) for c in CLASSES])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{table}, line {line}: label values must be numbers ({exc}).") from exc
            if not (np.isin(values, (0.0, 1.0)).all() and values.sum() == 1.0):
                raise ValueError(f"{table}, line {line}: labels must be one-hot over {CLASSES}, got {values.tolist()}.")
            image_id = row["image"].strip()
            if image_id in labels:
                raise ValueError(f"{table}, line {line}: image '{image_id}' is listed twice.")
            labels[image_id] = int(values.argmax())
    if not labels:
        raise ValueError(f"{table} lists no images.")
    return labels


def load_isic2018(
    root: Path | str,
    *,
    size: int = 299,
    channels: int = 3,
    n_train: int = N_TRAIN,
    n_test: int | None = None,
    val_fraction: float = 0.0,
    images_dir: Path | str | None = None,
    labels_csv: Path | str | None = None,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """ISIC 2018 task 3 with the random split of study 001 (7,000 train, the rest, 3,015, test).

    :param root: Folder holding the image folder and the ground-truth CSV (or its folder).
    :param size: Output height and width in pixels (study 001: 299).
    :param channels: 3 (RGB, as in the studies) or 1.
    :param n_train: Training images drawn at random (study 001: 7,000).
    :param n_test: Test images; ``None`` takes all the others (study 001: 3,015).
    :param val_fraction: Share of the training images held out for validation, stratified.
    :param images_dir: Image folder, when not ``root/ISIC2018_Task3_Training_Input``.
    :param labels_csv: Ground-truth CSV, when not found under ``root``.
    :param seed: Seed of the split.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` with one warning: CSV rows whose
        image is missing, images without a CSV row, unreadable images.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset`: float32 images on 0-255, int64 labels in the order of :data:`CLASSES`.
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    root = Path(root).expanduser().resolve()
    images_folder, table = _find(root, images_dir, labels_csv)
    ground_truth = read_ground_truth(table)
    on_disk = {p.stem: p for p in list_images(images_folder)}
    skipped: list[tuple[str, str]] = []
    for image_id in sorted(set(ground_truth) - set(on_disk)):
        report_problem(f"{table}: row for image '{image_id}' has no image file in {images_folder}.",
                       images_folder / f"{image_id}.jpg", options, skipped, FileNotFoundError)
    for image_id in sorted(set(on_disk) - set(ground_truth)):
        report_problem(f"Image {on_disk[image_id]} has no label in {table}.", on_disk[image_id], options, skipped)
    ids = sorted(set(ground_truth) & set(on_disk))
    paths = [on_disk[i] for i in ids]
    labels = np.array([ground_truth[i] for i in ids], dtype=np.int64)
    plan = random_split(len(ids), {"train": n_train, "test": n_test}, seed=seed)
    plan = carve_validation(plan, labels, float(val_fraction), seed=seed)
    sources = {split: file_source(root, [paths[i] for i in index], labels[index], options, f"ISIC 2018 {split}")
               for split, index in plan.items()}
    params = {"root": str(root), "images": str(images_folder), "labels": str(table), "n_train": n_train,
              "n_test": n_test, "val_fraction": val_fraction}
    return materialize("isic2018", CLASSES, sources, options, params, [table, *paths], skipped)
