"""NIH ChestX-ray14 as disease vs no finding, with the random split of study 002.

Layout: ``Data_Entry_2017.csv`` (column ``Image Index`` and ``Finding Labels``: ``No Finding`` or
diseases joined by ``|``) and the PNG images anywhere below the root (``images/`` or the
``images_001/images/`` ... ``images_012/images/`` folders of the download). Study 002 labelled every
image with any disease 1 and "No Finding" 0, and split the 112,120 images at random into 95,128
training, 16,792 validation and 200 test images.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.images import Preprocess, list_images
from art_medical.data.pipeline import LoadOptions, OnError, file_source, materialize, report_problem
from art_medical.data.splits import random_split, stratified_holdout

CLASSES: tuple[str, ...] = ("no finding", "disease")
NO_FINDING = "No Finding"
LABELS_CSV = "Data_Entry_2017.csv"
N_VAL: int = 16792
"""Study 002: validation images (training takes the rest: 95,128 of the full set)."""
N_TEST: int = 200
"""Study 002: test images (93 with disease, 107 without in their draw)."""


def read_data_entry(table: Path) -> dict[str, int]:
    """Image file name -> 0 (no finding) or 1 (disease); errors name the file and line."""
    labels: dict[str, int] = {}
    with open(table, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("Image Index", "Finding Labels") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{table}: missing column(s) {missing}.")
        for row in reader:
            image, findings = (row["Image Index"] or "").strip(), (row["Finding Labels"] or "").strip()
            if not image or not findings:
                raise ValueError(f"{table}, line {reader.line_num}: empty 'Image Index' or 'Finding Labels'.")
            if image in labels:
                raise ValueError(f"{table}, line {reader.line_num}: image '{image}' is listed twice.")
            labels[image] = 0 if findings == NO_FINDING else 1
    if not labels:
        raise ValueError(f"{table} lists no images.")
    return labels


def load_chestxray14(
    root: Path | str,
    *,
    size: int = 299,
    channels: int = 1,
    n_train: int | None = None,
    n_val: int = N_VAL,
    n_test: int = N_TEST,
    labels_csv: Path | str | None = None,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """ChestX-ray14 as a binary task (0 no finding, 1 disease), split at random as study 002 did.

    The test set is drawn at random first; validation images are then carved from the rest,
    stratified by label.

    :param root: Folder with ``Data_Entry_2017.csv`` and the images (searched recursively).
    :param size: Output height and width in pixels.
    :param channels: 1 (grayscale, as stored) or 3.
    :param n_train: Training images; ``None`` takes all not used for validation or test (study 002: 95,128).
    :param n_val: Validation images (study 002: 16,792).
    :param n_test: Test images (study 002: 200).
    :param labels_csv: The label table, when not ``root/Data_Entry_2017.csv``.
    :param seed: Seed of the split.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` with one warning: table rows whose
        image is missing (e.g. archives not downloaded), unreadable images.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"Dataset folder not found: {root}")
    table = Path(labels_csv) if labels_csv is not None else root / LABELS_CSV
    if not table.is_file():
        raise FileNotFoundError(f"ChestX-ray14 label table not found: {table}")
    labels_by_name = read_data_entry(table)
    on_disk = {p.name: p for p in list_images(root, recursive=True)}
    skipped: list[tuple[str, str]] = []
    missing = sorted(set(labels_by_name) - set(on_disk))
    if missing and not options.skip:
        raise FileNotFoundError(
            f"{len(missing)} image(s) listed in {table} not found under {root}, e.g. '{missing[0]}'; "
            f"download all image archives or pass on_error='skip'."
        )
    for name in missing:
        report_problem(f"{table}: image '{name}' not found under {root}.", root / name, options, skipped)
    names = sorted(set(labels_by_name) & set(on_disk))
    paths = [on_disk[n] for n in names]
    labels = np.array([labels_by_name[n] for n in names], dtype=np.int64)
    first = random_split(len(names), {"test": n_test, "rest": None}, seed=seed)
    rest = first["rest"]
    kept, held = stratified_holdout(labels[rest], int(n_val), seed=seed + 1)
    train = rest[kept]
    if n_train is not None:
        if n_train > len(train):
            raise ValueError(f"n_train={n_train} exceeds the {len(train)} images left after validation and test.")
        train = train[:n_train]
    plan = {"train": train, "val": rest[held], "test": first["test"]}
    sources = {split: file_source(root, [paths[i] for i in index], labels[index], options, f"ChestX-ray14 {split}")
               for split, index in plan.items()}
    params = {"root": str(root), "labels": str(table), "n_train": n_train, "n_val": n_val, "n_test": n_test}
    used = [paths[i] for index in plan.values() for i in index]
    return materialize("chestxray14", CLASSES, sources, options, params, [table, *used], skipped)
