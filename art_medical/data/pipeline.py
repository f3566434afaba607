"""From a split plan (which files, which labels, which split) to a :class:`Dataset`.

Every loader scans its layout, plans its splits and hands them here. Without ``cache_dir`` the images
are decoded into memory; with it they are decoded chunk by chunk into the HDF5 cache (so memory
stays bounded) and read from there, and a later call with the same parameters and unchanged files
reads the cache without decoding anything. Files that cannot be used raise a clear error, or, under
``on_error="skip"``, are left out and counted in one :class:`SkippedFilesWarning`.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Sequence

import h5py
import numpy as np

from art_medical.data import cache
from art_medical.data.dataset import Dataset, SkippedFilesWarning, Split
from art_medical.data.images import DecodedChunk, Preprocess, decode_files
from art_medical.data.stream import StreamingSplit

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
SPLIT_ORDER = ("train", "val", "test")


@dataclass(frozen=True)
class LoadOptions:
    """The options every loader takes.

    :param prep: Output size, channels and cropping.
    :param seed: Seed of every random split.
    :param cache_dir: Folder of the HDF5 cache, or ``None`` to decode into memory each time.
    :param stream: Return :class:`StreamingSplit` objects reading the cache (needs ``cache_dir``).
    :param on_error: ``"raise"`` on the first bad file, or ``"skip"`` bad files with a warning.
    :param workers: Decoding threads (default: one per core).
    :param verbose: Show progress bars.
    """

    prep: Preprocess
    seed: int = 0
    cache_dir: Path | str | None = None
    stream: bool = False
    on_error: OnError = "raise"
    workers: int | None = None
    verbose: bool = True

    def __post_init__(self) -> None:
        if self.on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {self.on_error!r}.")
        if self.stream and self.cache_dir is None:
            raise ValueError("stream=True reads batches from the HDF5 cache: pass cache_dir as well.")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be a positive integer, got {self.workers}.")

    @property
    def skip(self) -> bool:
        return self.on_error == "skip"


@dataclass(frozen=True)
class SplitSource:
    """The items of one planned split and how to read them.

    :param names: Per item, the name recorded in :attr:`Split.files` (path relative to the root).
    :param labels: Per item, its label (``(n,)`` ints, or ``(n, k)`` 0/1 for multi-label sets).
    :param chunks: Yields the prepared images chunk by chunk (see :class:`DecodedChunk`).
    """

    names: tuple[str, ...]
    labels: np.ndarray
    chunks: Callable[[], Iterator[DecodedChunk]]


def file_source(root: Path, paths: Sequence[Path], labels: np.ndarray, options: LoadOptions, desc: str) -> SplitSource:
    """A :class:`SplitSource` decoding image files under ``root``."""
    paths = list(paths)
    names = tuple(relative_name(root, p) for p in paths)
    return SplitSource(
        names,
        np.asarray(labels, dtype=np.int64),
        lambda: decode_files(paths, options.prep, skip_errors=options.skip, workers=options.workers,
                             desc=desc, verbose=options.verbose),
    )


def relative_name(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (the path itself when outside ``root``)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def report_problem(message: str, problem_file: Path | str, options: LoadOptions, skipped: list[tuple[str, str]],
                   error: type[Exception] = ValueError) -> None:
    """Raise ``error(message)``, or record ``(file, message)`` as skipped under ``on_error="skip"``."""
    if not options.skip:
        raise error(message)
    skipped.append((str(problem_file), message))


def _fill(sink: np.ndarray | h5py.Dataset, source: SplitSource) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Write the readable images of ``source`` contiguously into ``sink``; return kept indices and failures."""
    kept, failures, written = [], [], 0
    for chunk in source.chunks():
        if len(chunk.images):
            sink[written : written + len(chunk.images)] = chunk.images
            written += len(chunk.images)
        kept.append(chunk.index)
        failures.extend((source.names[i], reason) for i, reason in chunk.failures)
    kept_index = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    return kept_index, failures


def _warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, attributing the warning to the first caller outside this package."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == package_dir:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _warn_skipped(dataset: str, skipped: Sequence[tuple[str, str]]) -> None:
    if not skipped:
        return
    first_file, first_reason = skipped[0]
    _warn(f"{dataset}: skipped {len(skipped)} file(s) that could not be used (on_error='skip'); "
          f"first: {first_file}: {first_reason}", SkippedFilesWarning)


def _in_memory(sources: dict[str, SplitSource], options: LoadOptions, class_names: tuple[str, ...]):
    splits, failures = {}, []
    for name, source in sources.items():
        buffer = np.empty((len(source.names), *options.prep.shape), dtype=np.uint8)
        kept, split_failures = _fill(buffer, source)
        failures.extend(split_failures)
        x = buffer[: len(kept)].astype(np.float32)
        splits[name] = Split(x, source.labels[kept], class_names, tuple(source.names[i] for i in kept))
    return splits, failures


def _build_cache(path: Path, fingerprint: str, dataset: str, sources: dict[str, SplitSource],
                 options: LoadOptions, class_names: tuple[str, ...], skipped: list[tuple[str, str]]) -> None:
    failures: list[tuple[str, str]] = []
    with cache.atomic_h5(path) as f:
        for name, source in sources.items():
            group = f.create_group(name)
            images = cache.create_image_dataset(group, len(source.names), options.prep.shape)
            kept, split_failures = _fill(images, source)
            images.resize(len(kept), axis=0)
            failures.extend(split_failures)
            cache.write_split_metadata(group, source.labels[kept], [source.names[i] for i in kept])
        cache.write_attributes(f, fingerprint, dataset, class_names, list(sources), skipped + failures)
    logger.info("Wrote dataset cache %s", path)


def _read_cache(path: Path, splits: list[str], stream: bool) -> dict[str, Split | StreamingSplit]:
    streaming = {name: StreamingSplit(path, name) for name in splits}
    if stream:
        return streaming
    try:
        return {name: split.load() for name, split in streaming.items()}
    finally:
        for split in streaming.values():
            split.close()


def materialize(
    dataset: str,
    class_names: Sequence[str],
    sources: dict[str, SplitSource],
    options: LoadOptions,
    params: dict[str, Any],
    source_files: Sequence[Path],
    skipped: list[tuple[str, str]],
) -> Dataset:
    """Decode (or read from the cache) the planned splits and return the :class:`Dataset`.

    :param params: Everything besides the files that decides the result (root, split sizes, seed...).
    :param source_files: Every file the result depends on (images, label tables, split files).
    :param skipped: Problems already met while scanning the layout under ``on_error="skip"``.
    """
    class_names = tuple(class_names)
    sources = {name: sources[name] for name in SPLIT_ORDER if name in sources}
    splits: dict[str, Split | StreamingSplit]
    cache_file = None
    if options.cache_dir is None:
        splits, failures = _in_memory(sources, options, class_names)
        skipped = skipped + failures
    else:
        prep = options.prep
        key_params = {**params, "dataset": dataset, "crop_top": prep.crop_top, "seed": options.seed,
                      "on_error": options.on_error}
        cache_file = cache.cache_path(options.cache_dir, dataset, prep.size, prep.channels, key_params)
        plan = {name: {"names": list(s.names), "labels": s.labels.tolist()} for name, s in sources.items()}
        fingerprint = cache.fingerprint(key_params, plan, source_files)
        problem = cache.check(cache_file, fingerprint, prep.shape)
        if problem is None:
            logger.info("Reading dataset cache %s", cache_file)
        else:
            kind, detail = problem
            if kind != "missing":
                _warn(f"Rebuilding {kind} dataset cache {cache_file} ({detail}).")
            _build_cache(cache_file, fingerprint, dataset, sources, options, class_names, skipped)
        try:
            splits = _read_cache(cache_file, list(sources), options.stream)
        except OSError as exc:  # a checksum failed while reading: the file is damaged
            _warn(f"Rebuilding corrupt dataset cache {cache_file} ({exc}).")
            _build_cache(cache_file, fingerprint, dataset, sources, options, class_names, skipped)
            splits = _read_cache(cache_file, list(sources), options.stream)
        skipped = cache.read_attributes(cache_file)["skipped"]
    _warn_skipped(dataset, skipped)
    return Dataset(
        name=dataset,
        class_names=class_names,
        train=splits["train"],
        test=splits["test"],
        val=splits.get("val"),
        skipped=tuple(tuple(item) for item in skipped),
        cache_file=cache_file,
    )
