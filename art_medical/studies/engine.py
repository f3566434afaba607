"""Engines run a grid of cells into a run folder, skipping finished cells.

The local engine runs the cells one after the other in this process (the default, no extra dependency).
Each finished cell's record is written as soon as it finishes, so an interrupted run loses at most the cell in
progress. A cell that raises is recorded with its error and the grid goes on; the cells that need it are
reported as blocked.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from art_medical.studies.cells import Cell, check_grid
from art_medical.studies.folder import StudyFolder

logger = logging.getLogger(__name__)

ENGINES = ("local",)
CellRunner = Callable[[Cell], dict[str, Any]]
"""Computes one cell: writes its artifacts into its folder and returns its result fields."""


@dataclass
class GridOutcome:
    """What a run of the grid did, by cell key."""

    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every cell of the grid is finished."""
        return not self.failed and not self.blocked

    def summary(self) -> str:
        """One line for the terminal."""
        parts = [f"{len(self.computed)} computed", f"{len(self.skipped)} reused"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.blocked:
            parts.append(f"{len(self.blocked)} blocked by failures")
        return "Cells: " + ", ".join(parts) + "."


def run_grid(
    cells: list[Cell], folder: StudyFolder, run_cell: CellRunner, engine: str = "local", progress: bool = True
) -> GridOutcome:
    """Run every unfinished cell of ``cells`` (in dependency order) into ``folder``.

    :param cells: The grid; every cell's ``needs`` come before it.
    :param folder: The run folder holding the records.
    :param run_cell: Computes one cell.
    :param engine: ``"local"``.
    :param progress: Show one progress bar over the cells, with the running cell.
    """
    check_grid(cells)
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}; choose from {list(ENGINES)}.")
    outcome = GridOutcome()
    unusable: set[str] = set()
    with tqdm(total=len(cells), desc="cells", unit="cell", disable=not progress) as bar:
        for cell in cells:
            if unusable.intersection(cell.needs):
                outcome.blocked.append(cell.key)
                unusable.add(cell.key)
            elif folder.finished(cell):
                outcome.skipped.append(cell.key)
            else:
                bar.set_postfix_str(cell.key, refresh=True)
                if not _run_one(cell, folder, run_cell, outcome):
                    unusable.add(cell.key)
            bar.update()
    return outcome


def _run_one(cell: Cell, folder: StudyFolder, run_cell: CellRunner, outcome: GridOutcome) -> bool:
    """Compute one cell and write its record; record a failure and return False if it raises."""
    started = time.perf_counter()
    try:
        result = run_cell(cell)
    except Exception as error:  # a failed cell is recorded and the grid goes on
        folder.write_failure(cell, error)
        outcome.failed[cell.key] = f"{type(error).__name__}: {error}"
        logger.debug("Cell %s failed", cell.key, exc_info=True)
        tqdm.write(f"cell {cell.key} failed: {type(error).__name__}: {error}")
        return False
    folder.write_record(cell, result, time.perf_counter() - started)
    outcome.computed.append(cell.key)
    return True
