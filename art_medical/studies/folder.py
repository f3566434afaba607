"""The run folder of a study, the same layout for every study, the demo and the audit::

    study.json          what was run: the study, its validated config, the data root, library versions
    cells/<key>/        one folder per cell: record.json (its JSON record) and its artifacts (model, noise ...)
    tables/*.csv        one CSV per paper table
    figures/*.png       the figures, rebuilt when missing
    report.md           tables and figures with captions

Everything is written atomically. Running again into the same folder resumes: finished cells are skipped. A
folder made with other settings is refused with the settings that differ named.
"""
from __future__ import annotations

import json
import logging
import platform
import traceback
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from art_medical.reports.files import read_json, write_json_atomic
from art_medical.studies.cells import Cell, canonical

logger = logging.getLogger(__name__)

MANIFEST = "study.json"
RECORD = "record.json"


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that determine the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("art_medical", "adversarial-robustness-toolbox", "tensorflow", "keras", "numpy"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def settings_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Human-readable differences between two JSON values: ``"uap.max_iter: 15 in the folder, 5 now"``."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in new:
                lines.append(f"{name}: {json.dumps(old[key])} in the folder, absent now")
            elif key not in old:
                lines.append(f"{name}: absent in the folder, {json.dumps(new[key])} now")
            else:
                lines += settings_diff(old[key], new[key], name)
        return lines
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (a, b) in enumerate(zip(old, new)) for line in settings_diff(a, b, f"{prefix}[{i}]")]
    if old != new:
        return [f"{prefix or 'settings'}: {json.dumps(old)} in the folder, {json.dumps(new)} now"]
    return []


class StudyFolder:
    """A study's run folder (see the module docstring).

    :param path: The folder; created if missing.
    :param settings: What determines the results (study, config, data root); stored in ``study.json`` and
        compared with the stored settings when the folder already holds a run.
    :raises ValueError: ``path`` is a file, a non-empty folder that is not a run folder, or a run folder
        with other settings (the message lists them).
    """

    def __init__(self, path: str | Path, settings: dict[str, Any]) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {self.path} is a file; give a folder for the run.")
        settings = canonical(settings)
        manifest = self.path / MANIFEST
        if manifest.exists():
            stored = read_json(manifest)
            differences = settings_diff(stored.get("settings"), settings)
            if differences:
                raise ValueError(
                    f"{self.path} holds a run with other settings:\n  " + "\n  ".join(differences)
                    + "\nChoose another --out folder, or delete this one to start afresh."
                )
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise ValueError(
                f"{self.path} is not empty and holds no {MANIFEST}: it is not an art-medical run folder. "
                "Choose a new or empty --out folder."
            )
        else:
            write_json_atomic(manifest, {
                "settings": settings,
                "created": _now(),
                "versions": library_versions(),
            })
        self.settings = settings

    def cell_dir(self, key: str) -> Path:
        """The folder of a cell's record and artifacts (created on demand)."""
        folder = self.path / "cells" / key
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def record(self, key: str) -> dict[str, Any] | None:
        """The record of a cell, or None when it has none (or an unreadable one, which is then redone)."""
        path = self.path / "cells" / key / RECORD
        if not path.exists():
            return None
        try:
            return read_json(path)
        except ValueError as error:
            logger.warning("%s; the cell will be computed again.", error)
            return None

    def finished(self, cell: Cell) -> bool:
        """Whether the cell's record says done and holds the cell's params."""
        record = self.record(cell.key)
        return record is not None and record.get("status") == "done" and record.get("params") == cell.params

    def write_record(self, cell: Cell, result: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Write the record of a finished cell: its identity, its result fields, time and versions."""
        record = {
            "key": cell.key,
            "kind": cell.kind,
            "status": "done",
            **result,
            "seconds": round(seconds, 3),
            "finished": _now(),
            "params": cell.params,
            "needs": list(cell.needs),
            "versions": library_versions(),
        }
        write_json_atomic(self.cell_dir(cell.key) / RECORD, canonical(record))
        return record

    def write_failure(self, cell: Cell, error: BaseException) -> dict[str, Any]:
        """Record a cell that raised: its error and traceback; it runs again on the next attempt."""
        record = {
            "key": cell.key,
            "kind": cell.kind,
            "status": "failed",
            "error": f"{type(error).__name__}: {error}",
            "traceback": "".join(traceback.format_exception(error)),
            "finished": _now(),
            "params": cell.params,
            "versions": library_versions(),
        }
        write_json_atomic(self.cell_dir(cell.key) / RECORD, canonical(record))
        return record

    def records(self, cells: list[Cell]) -> dict[str, dict[str, Any]]:
        """The finished records of ``cells``, by key."""
        return {cell.key: self.record(cell.key) for cell in cells if self.finished(cell)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
