"""COVIDx chest X-rays (normal / pneumonia / COVID-19) from their split files, as in study 000.

Layout: split files (``train_COVIDx*.txt``, ``test_COVIDx*.txt``) with one line per image,
``patientid filename label`` or, in later versions, ``patientid filename label source``; images under
``train/`` and ``test/``. File names may contain spaces, so a line is parsed as: first token the
patient id, the label the last token (or the one before it, when a source column follows), and the
file name everything in between.

The COVID-Net preprocessing of study 000 crops the top sixth of every image and resizes it to
224x224x3 (their division by 255 is left to the model: images stay on 0-255).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.images import Preprocess
from art_medical.data.pipeline import LoadOptions, OnError, file_source, materialize, report_problem
from art_medical.data.splits import carve_validation

CLASSES: tuple[str, ...] = ("normal", "pneumonia", "COVID-19")
"""Label order of COVID-Net."""
CROP_TOP: float = 1 / 6
"""Study 000 (COVID-Net): the top h/6 rows of every image are removed before resizing."""
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class SplitLine:
    """One parsed line of a COVIDx split file."""

    patient_id: str
    filename: str
    label: str
    source: str | None


def parse_split_line(line: str, classes: Sequence[str] = CLASSES) -> SplitLine | None:
    """Parse ``patientid filename label [source]``; ``None`` if the line does not parse.

    Labels match ``classes`` case-insensitively and come back spelled as in ``classes``.
    """
    tokens = list(_TOKEN.finditer(line))
    canonical = {c.lower(): c for c in classes}
    if len(tokens) < 3:
        return None
    for label_position in (len(tokens) - 1, len(tokens) - 2):
        if label_position >= 2 and tokens[label_position].group().lower() in canonical:
            filename = line[tokens[0].end() : tokens[label_position].start()].strip()
            source = tokens[-1].group() if label_position == len(tokens) - 2 else None
            label = canonical[tokens[label_position].group().lower()]
            return SplitLine(tokens[0].group(), filename, label, source)
    return None


def read_split_file(path: Path, classes: Sequence[str] = CLASSES) -> list[SplitLine]:
    """All lines of a split file (blank lines ignored).

    :raises ValueError: A line that does not parse, naming the file and line number.
    """
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            entry = parse_split_line(line.rstrip("\r\n"), classes)
            if entry is None:
                raise ValueError(
                    f"{path}, line {number}: cannot parse {line.strip()!r}; expected "
                    f"'patientid filename label [source]' with label one of {', '.join(classes)}."
                )
            entries.append(entry)
    if not entries:
        raise ValueError(f"Split file {path} lists no images.")
    return entries


def _find_split_file(root: Path, split: str, given: Path | str | None) -> Path:
    if given is not None:
        path = Path(given)
        if not path.is_absolute() and not path.exists():
            path = root / path
        if not path.is_file():
            raise FileNotFoundError(f"COVIDx {split} split file not found: {path}")
        return path
    if not root.is_dir():
        raise FileNotFoundError(f"Dataset folder not found: {root}")
    found = sorted(p for p in root.glob(f"{split}*.txt") if p.is_file())
    if len(found) != 1:
        raise FileNotFoundError(
            f"Expected one COVIDx {split} split file ({split}*.txt) in {root}, found "
            f"{[p.name for p in found]}; pass {split}_file=..."
        )
    return found[0]


def load_covidx(
    root: Path | str,
    *,
    size: int = 224,
    channels: int = 3,
    train_file: Path | str | None = None,
    test_file: Path | str | None = None,
    classes: Sequence[str] = CLASSES,
    crop_top: float = CROP_TOP,
    val_fraction: float = 0.0,
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """COVIDx train and test sets from their split files, with the COVID-Net preprocessing.

    :param root: Folder holding ``train/``, ``test/`` and the split files.
    :param size: Output height and width in pixels (study 000: 224).
    :param channels: 3 (as COVID-Net reads images) or 1.
    :param train_file: Training split file (default: the one ``train*.txt`` in ``root``).
    :param test_file: Test split file (default: the one ``test*.txt`` in ``root``).
    :param classes: Labels in label order; later COVIDx versions use ``("negative", "positive")``.
    :param crop_top: Fraction of the height removed from the top (study 000: 1/6).
    :param val_fraction: Share of the training images held out for validation, stratified.
    :param seed: Seed of the validation split.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` listed images that are missing or
        unreadable, with one warning. Lines that do not parse always raise.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset` with ``class_names == tuple(classes)``.
    """
    options = LoadOptions(Preprocess(size, channels, crop_top), seed, cache_dir, stream, on_error, workers, verbose)
    root = Path(root).expanduser().resolve()
    split_files = {"train": _find_split_file(root, "train", train_file),
                   "test": _find_split_file(root, "test", test_file)}
    classes = tuple(classes)
    skipped: list[tuple[str, str]] = []
    paths: dict[str, list[Path]] = {}
    labels: dict[str, np.ndarray] = {}
    for split, split_file in split_files.items():
        image_folder = root / split
        if not image_folder.is_dir():
            raise FileNotFoundError(f"COVIDx image folder not found: {image_folder}")
        present, present_labels = [], []
        for entry in read_split_file(split_file, classes):
            image = image_folder / entry.filename
            if image.is_file():
                present.append(image)
                present_labels.append(classes.index(entry.label))
            else:
                report_problem(f"{split_file}: listed image '{entry.filename}' not found in {image_folder}.",
                               image, options, skipped, FileNotFoundError)
        paths[split], labels[split] = present, np.asarray(present_labels, dtype=np.int64)
    all_paths = paths["train"] + paths["test"]
    all_labels = np.concatenate([labels["train"], labels["test"]])
    plan = {"train": np.arange(len(paths["train"])), "test": len(paths["train"]) + np.arange(len(paths["test"]))}
    plan = carve_validation(plan, all_labels, float(val_fraction), seed=seed)
    sources = {split: file_source(root, [all_paths[i] for i in index], all_labels[index], options, f"COVIDx {split}")
               for split, index in plan.items()}
    params = {"root": str(root), "split_files": {k: str(v) for k, v in split_files.items()}, "classes": classes,
              "val_fraction": val_fraction}
    return materialize("covidx", classes, sources, options, params, [*split_files.values(), *all_paths], skipped)
