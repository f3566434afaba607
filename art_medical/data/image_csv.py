"""Image sets listed in a CSV of ``file,label`` rows, split train / test stratified and seeded.

Layout: a CSV with a header row naming a file column (``file``, ``filename`` or ``path``) and a
label column (``label`` or ``class``), matched case-insensitively; other columns are ignored. File
paths are relative to the CSV's folder (or to ``root``), or absolute; labels are class names. The
split is that of :func:`~art_medical.data.folders.load_image_folders` (studies 003 / 004: 80:20).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from art_medical.data.dataset import Dataset
from art_medical.data.folders import TEST_FRACTION, split_labelled_files
from art_medical.data.images import Preprocess
from art_medical.data.pipeline import LoadOptions, OnError, report_problem

FILE_COLUMNS: tuple[str, ...] = ("file", "filename", "path")
"""Accepted names of the file column (any case)."""
LABEL_COLUMNS: tuple[str, ...] = ("label", "class")
"""Accepted names of the label column (any case)."""


@dataclass(frozen=True)
class CsvEntry:
    """One row of an image list: its line number in the CSV, the file as written, the class name."""

    line: int
    file: str
    label: str


def _column(table: Path, header: list[str], accepted: tuple[str, ...], kind: str) -> str:
    found = [name for name in header if name.strip().lower() in accepted]
    if not found:
        raise ValueError(f"{table}: missing a {kind} column (one of {', '.join(accepted)}); header is {header}.")
    if len(found) > 1:
        raise ValueError(f"{table}: several {kind} columns {found}; keep one of {', '.join(accepted)}.")
    return found[0]


def read_image_csv(table: Path | str) -> list[CsvEntry]:
    """The rows of an image list, in file order; errors name the CSV and line.

    :raises FileNotFoundError: The CSV is missing.
    :raises ValueError: The CSV is empty, lacks a file or label column (or has two), has a row with an
        empty file or label, or lists a file twice.
    """
    table = Path(table).expanduser()
    if not table.is_file():
        raise FileNotFoundError(f"Image list CSV not found: {table}")
    entries: list[CsvEntry] = []
    first_line: dict[str, int] = {}
    with open(table, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        if not header:
            raise ValueError(f"{table} is empty: expected a header row 'file,label' and one row per image.")
        file_column = _column(table, header, FILE_COLUMNS, "file")
        label_column = _column(table, header, LABEL_COLUMNS, "label")
        for row in reader:
            line = reader.line_num
            if not any((value or "").strip() for value in row.values() if not isinstance(value, list)):
                continue  # a line of empty cells
            file, label = (row.get(file_column) or "").strip(), (row.get(label_column) or "").strip()
            if not file or not label:
                raise ValueError(f"{table}, line {line}: empty '{file_column}' or '{label_column}'.")
            if file in first_line:
                raise ValueError(f"{table}, line {line}: file '{file}' is listed twice (first on line {first_line[file]}).")
            first_line[file] = line
            entries.append(CsvEntry(line, file, label))
    if not entries:
        raise ValueError(f"{table} lists no images.")
    return entries


def csv_class_names(
    table: Path | str, classes: Sequence[str] | None = None, entries: list[CsvEntry] | None = None
) -> tuple[str, ...]:
    """The class names :func:`load_image_csv` gives this CSV: ``classes``, or its sorted unique labels.

    Reads only the CSV (no image), so a configuration can be checked before any image is decoded.

    :param entries: The rows, when already read with :func:`read_image_csv`.
    :raises ValueError: A label not in ``classes`` (naming the line), or a class of ``classes`` no row has.
    """
    entries = read_image_csv(table) if entries is None else entries
    if classes is None:
        return tuple(sorted({entry.label for entry in entries}))
    classes = tuple(classes)
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"classes must be distinct names, at least one, got {classes}.")
    for entry in entries:
        if entry.label not in classes:
            raise ValueError(f"{table}, line {entry.line}: unknown class '{entry.label}'; classes are {list(classes)}.")
    empty = sorted(set(classes) - {entry.label for entry in entries})
    if empty:
        raise ValueError(f"{table}: no row has class(es) {empty}.")
    return classes


def load_image_csv(
    csv_path: Path | str,
    *,
    root: Path | str | None = None,
    classes: Sequence[str] | None = None,
    size: int = 224,
    channels: int = 3,
    test_fraction: float = TEST_FRACTION,
    val_fraction: float = 0.0,
    name: str = "image_csv",
    seed: int = 0,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    on_error: OnError = "raise",
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Load the images listed in a ``file,label`` CSV, split train / test stratified and seeded.

    :param csv_path: The CSV (header ``file,label``; also ``filename`` / ``path`` and ``class``, any case).
    :param root: Folder the relative file paths start from (default: the CSV's folder).
    :param classes: Class names in label order; every label must be one of them (default: the sorted
        unique labels).
    :param size: Output height and width in pixels.
    :param channels: 1 (grayscale) or 3 (RGB).
    :param test_fraction: Share of each class held out for testing (studies 003 / 004: 0.2).
    :param val_fraction: Share of the training images held out for validation, stratified.
    :param name: Dataset name used in cache file names and messages.
    :param seed: Seed of the splits.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` listed files that are missing or
        unreadable, with one warning. Problems of the table itself always raise.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset`: float32 images ``(n, size, size, channels)`` on 0-255, int64 labels;
        ``files`` are relative to ``root`` (or the CSV's folder).
    :raises FileNotFoundError: The CSV or a listed image is missing (naming it and its line).
    :raises ValueError: See :func:`read_image_csv` and :func:`csv_class_names`.
    """
    options = LoadOptions(Preprocess(size, channels), seed, cache_dir, stream, on_error, workers, verbose)
    table = Path(csv_path).expanduser().resolve()
    base = Path(root).expanduser().resolve() if root is not None else table.parent
    if not base.is_dir():
        raise FileNotFoundError(f"Dataset folder not found: {base}")
    entries = read_image_csv(table)
    class_names = csv_class_names(table, classes, entries)
    skipped: list[tuple[str, str]] = []
    paths: list[Path] = []
    labels: list[int] = []
    for entry in entries:
        path = base / entry.file
        if not path.is_file():
            report_problem(f"{table}, line {entry.line}: image '{entry.file}' not found ({path}).", path, options,
                           skipped, FileNotFoundError)
            continue
        paths.append(path)
        labels.append(class_names.index(entry.label))
    params = {"csv": str(table), "root": str(base), "classes": class_names}
    return split_labelled_files(name, base, paths, np.asarray(labels, dtype=np.int64), class_names, test_fraction,
                                val_fraction, options, params, [table], skipped)
