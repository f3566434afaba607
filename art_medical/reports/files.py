"""Atomic file writes: write to a temporary file in the same folder, then ``os.replace``.

A run interrupted mid-write leaves either the old file or the new one, never half of one, and no
temporary file behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(handle)`` on a temporary file next to ``path`` and move it into place.

    :param path: Destination file; its folder is created if missing.
    :param write: Writes the content into the binary file handle it is given.
    :return: The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_atomic(path, lambda file: file.write(text.encode("utf-8")))


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically; NaN and Inf are rejected (not valid JSON)."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


def read_json(path: str | Path) -> Any:
    """Read a JSON file, naming the file when it is corrupt.

    :raises FileNotFoundError: If the file does not exist.
    :raises ValueError: If the file is not valid JSON.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}); delete it to start the run afresh.") from error
