"""What every study protocol provides to the engine and the CLI.

A protocol run holds a checked configuration, the data root and the run folder. It lists its grid of cells,
computes any one of them (``run(cell)`` dispatches on the cell's kind to a method ``cell_<kind>``), and writes
the study's tables, figures and report from the finished records. It is picklable, so that an engine can
compute cells in other processes; the datasets and models it loads are cached per process.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from art_medical.data import Dataset
from art_medical.studies import datasets
from art_medical.studies.cells import Cell
from art_medical.studies.engine import GridOutcome
from art_medical.studies.folder import StudyFolder


class ProtocolRun(ABC):
    """Base class of a study protocol's run (see the module docstring).

    :param config: The checked configuration (a frozen dataclass with ``seed`` and ``datasets``).
    :param data_root: The folder datasets are read below (None for built-in data only).
    :param folder: The run folder (set once the configuration and the data are checked).
    """

    def __init__(self, config: Any, data_root: Path | None, folder: StudyFolder | None) -> None:
        self.config = config
        self.data_root = None if data_root is None else Path(data_root)
        self.folder = folder
        self._cache: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": {}}

    @abstractmethod
    def cells(self) -> list[Cell]:
        """The grid, in dependency order."""

    def check_data(self) -> None:
        """Checks that need the data root but load no image (class names, folders); raise before any work."""

    @abstractmethod
    def report(self, outcome: GridOutcome) -> str:
        """Write tables, figures and ``report.md`` from the finished records; return the text to print."""

    def __call__(self, cell: Cell) -> dict[str, Any]:
        """Compute one cell: write its artifacts into its folder and return its result fields."""
        return getattr(self, f"cell_{cell.kind}")(cell)

    def cached(self, key: Any, build: Any) -> Any:
        """``build()`` once per process for ``key``."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def dataset(self, name: str) -> Dataset:
        """The dataset ``name`` of the configuration, loaded once per process."""
        spec = self.config.dataset(name)

        def build() -> Dataset:
            root = datasets.dataset_root(spec.path, self.data_root, spec.loader, f"datasets.{name}")
            return datasets.load(spec.loader, root, spec.options, self.config.seed)

        return self.cached(("dataset", name), build)

    def artifact(self, key: str, name: str) -> Path:
        """The path of the artifact ``name`` of the cell ``key``."""
        return self.folder.cell_dir(key) / name
