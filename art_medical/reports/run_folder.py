"""A run folder whose ``results.json`` grows one configuration at a time, so long runs resume.

Each finished configuration is a row with a unique ``key``; the file is rewritten atomically after
every row, so an interrupted run keeps everything finished before the interruption.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from art_medical.reports.files import read_json, write_json_atomic

RESULTS_FILE = "results.json"


class RunFolder:
    """Results of one run on disk.

    :param path: The folder; created if missing. An existing ``results.json`` is loaded.
    :param settings: The run's settings. A folder made with other settings is refused, since its
        rows would not be comparable with new ones.
    """

    def __init__(self, path: str | Path, settings: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        as_json = json.loads(json.dumps(dict(settings)))  # tuples become lists, as they will on disk
        self._data: dict[str, Any] = {"settings": as_json, "info": {}, "rows": []}
        if self.results_path.exists():
            stored = read_json(self.results_path)
            if not isinstance(stored, dict) or not isinstance(stored.get("rows"), list):
                raise ValueError(f"{self.results_path} has no 'rows' list; delete it to start the run afresh.")
            if stored.get("settings") != self._data["settings"]:
                raise ValueError(
                    f"{self.path} holds a run with other settings ({stored.get('settings')}); "
                    "choose another output folder or delete this one."
                )
            self._data = stored
            self._data.setdefault("info", {})

    @property
    def results_path(self) -> Path:
        """The ``results.json`` file."""
        return self.path / RESULTS_FILE

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Finished rows, in the order they were added."""
        return list(self._data["rows"])

    @property
    def info(self) -> dict[str, Any]:
        """Run-level results that are not rows (e.g. the trained model's accuracy)."""
        return dict(self._data["info"])

    def has(self, key: str) -> bool:
        """Whether a row with this key is finished."""
        return any(row["key"] == key for row in self._data["rows"])

    def add_row(self, row: Mapping[str, Any]) -> None:
        """Add (or replace) the row with ``row['key']`` and save."""
        if "key" not in row:
            raise ValueError("A result row needs a 'key'.")
        self._data["rows"] = [r for r in self._data["rows"] if r["key"] != row["key"]] + [dict(row)]
        self.save()

    def set_info(self, name: str, value: Any) -> None:
        """Record a run-level result and save."""
        self._data["info"][name] = value
        self.save()

    def save(self) -> None:
        """Write ``results.json`` atomically."""
        write_json_atomic(self.results_path, self._data)
