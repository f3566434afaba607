"""HDF5 cache of prepared datasets.

One file per dataset, image size, channel count and loader parameters, named
``<dataset>_<size>px_<channels>ch_<key>.h5``, holds one group per split (``train``, ``val``, ``test``)
with ``x`` (``uint8``, one chunk per image, Fletcher-32 checksums), ``y`` (``int64``) and ``files``.
Its ``fingerprint`` attribute hashes the loader parameters, the split plan (files and labels) and the
size and modification time of every source file: a cache whose fingerprint differs is stale, one
that cannot be read is corrupt, and both are rebuilt. A cache is written to a temporary file in the
same folder and moved into place with :func:`os.replace`, so an error never leaves a half-written
cache under the final name.
"""
from __future__ import annotations

import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import h5py
import numpy as np


FORMAT_VERSION = 1
"""Bumped whenever the file layout changes, so older caches count as stale."""


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cache_path(cache_dir: Path | str, dataset: str, size: int, channels: int, params: Mapping[str, Any]) -> Path:
    """Where the cache for these loader parameters lives (the file may not exist)."""
    key = _digest({"version": FORMAT_VERSION, **params})[:16]
    return Path(cache_dir) / f"{dataset}_{size}px_{channels}ch_{key}.h5"


def fingerprint(params: Mapping[str, Any], plan: Mapping[str, Any], source_files: Iterable[Path]) -> str:
    """Hash of loader parameters, split plan, and the size and mtime of every source file."""
    stats = []
    for path in sorted({Path(p) for p in source_files}):
        status = path.stat()
        stats.append((str(path), status.st_size, status.st_mtime_ns))
    return _digest({"version": FORMAT_VERSION, "params": params, "plan": plan, "files": stats})


def check(path: Path, expected_fingerprint: str, image_shape: tuple[int, ...]) -> tuple[str, str] | None:
    """Why the cache at ``path`` cannot be used, as ``(kind, detail)`` with kind ``"missing"``,
    ``"stale"`` or ``"corrupt"``; ``None`` when it can."""
    if not path.exists():
        return "missing", ""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format_version") != FORMAT_VERSION or f.attrs.get("fingerprint") != expected_fingerprint:
                return "stale", "source files or parameters changed"
            json.loads(f.attrs["class_names"])
            if f["skipped"].shape[1:] != (2,):
                return "corrupt", "bad list of skipped files"
            for split in json.loads(f.attrs["splits"]):
                x, y, files = f[split]["x"], f[split]["y"], f[split]["files"]
                if x.shape[1:] != tuple(image_shape) or not (len(x) == len(y) == len(files)):
                    return "corrupt", f"split '{split}' has inconsistent shapes"
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError... for damaged files
        return "corrupt", f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def atomic_h5(path: Path) -> Iterator[h5py.File]:
    """Open a temporary HDF5 file next to ``path``; it replaces ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_image_dataset(group: h5py.Group, n_items: int, image_shape: tuple[int, ...]) -> h5py.Dataset:
    """The resizable ``x`` dataset of one split: ``uint8``, chunked per image, with checksums."""
    return group.create_dataset(
        "x",
        shape=(n_items, *image_shape),
        maxshape=(None, *image_shape),
        dtype=np.uint8,
        chunks=(1, *image_shape),
        fletcher32=True,
    )


def write_split_metadata(group: h5py.Group, y: np.ndarray, files: list[str]) -> None:
    """Store labels and source file names of one split."""
    group.create_dataset("y", data=np.asarray(y, dtype=np.int64))
    group.create_dataset("files", data=np.asarray(files, dtype=object), dtype=h5py.string_dtype())


def write_attributes(
    f: h5py.File, fingerprint_: str, dataset: str, class_names: tuple[str, ...], splits: list[str],
    skipped: list[tuple[str, str]],
) -> None:
    """Store what makes the cache valid and what it describes."""
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["fingerprint"] = fingerprint_
    f.attrs["dataset"] = dataset
    f.attrs["class_names"] = json.dumps(list(class_names))
    f.attrs["splits"] = json.dumps(splits)
    rows = np.asarray([list(item) for item in skipped], dtype=object).reshape(-1, 2)
    f.create_dataset("skipped", data=rows, dtype=h5py.string_dtype())


def read_attributes(path: Path) -> dict[str, Any]:
    """Class names, split names and skipped files recorded in a cache."""
    with h5py.File(path, "r") as f:
        return {
            "dataset": str(f.attrs["dataset"]),
            "class_names": tuple(json.loads(f.attrs["class_names"])),
            "splits": json.loads(f.attrs["splits"]),
            "skipped": [tuple(v.decode() for v in row) for row in f["skipped"][...]],
        }
