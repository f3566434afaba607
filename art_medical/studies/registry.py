"""The studies the project reproduces, and how one is run into a run folder.

``run_study("001", config, out, data_root)`` checks the configuration, checks the data (class names,
folders; no image decoded), opens the run folder (a folder with other settings is refused), runs the grid's
unfinished cells with an engine and writes the study's tables, figures and report.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from art_medical.studies.engine import GridOutcome, run_grid
from art_medical.studies.folder import StudyFolder
from art_medical.studies.protocol import ProtocolRun

CONFIG_FOLDER = Path(__file__).resolve().parents[2] / "experiments" / "configs"
"""The configurations at the papers' values, in the source tree."""


@dataclass(frozen=True)
class StudyDefinition:
    """A study: what it reproduces, its configurations, its protocol and its smoke preset.

    :param id: ``"000"`` ... ``"004"`` (or ``"demo"``, ``"audit"`` for the presets of the same protocols).
    :param title: The paper, short.
    :param reproduces: The tables and figures a run writes.
    :param configs: File names of its configurations in ``experiments/configs/``.
    :param parse: Checks a raw configuration mapping (``base_dir`` resolves relative paths).
    :param protocol: The protocol run class.
    :param smoke: Returns the smoke configuration (small sizes, minutes on 2 CPU cores) and a function that
        writes its phantom data, in the study's on-disk layouts, into a data root.
    :param gpu_time: Expected time of the full preset on one GPU.
    """

    id: str
    title: str
    reproduces: str
    configs: tuple[str, ...]
    parse: Callable[[dict[str, Any], Path | None], Any]
    protocol: type[ProtocolRun]
    smoke: Callable[[], tuple[dict[str, Any], Callable[[Path], None]]] | None = None
    gpu_time: str = ""

    def config_paths(self) -> list[Path]:
        return [CONFIG_FOLDER / name for name in self.configs]


@dataclass(frozen=True)
class StudyResult:
    """What a run did and where its results are."""

    outcome: GridOutcome
    text: str
    out: Path


def run_protocol(
    definition: StudyDefinition,
    raw_config: dict[str, Any],
    out: str | Path,
    data_root: str | Path | None = None,
    base_dir: Path | None = None,
    engine: str = "local",
    progress: bool = True,
    prepare_data: Callable[[Path], None] | None = None,
) -> StudyResult:
    """Check the configuration and the data, then run (or resume) the grid into ``out`` and write the report.

    :param prepare_data: For smoke runs: writes the phantom data once the run folder exists (called with it).
    """
    config = definition.parse(raw_config, base_dir)
    data_root = None if data_root is None else Path(data_root).expanduser().resolve()
    run = definition.protocol(config, data_root, folder=None)
    if prepare_data is None:
        run.check_data()
    folder = StudyFolder(out, {"study": definition.id, "config": config.to_dict(), "data_root": str(data_root)})
    run.folder = folder
    if prepare_data is not None:
        prepare_data(folder.path)
        run.check_data()
    outcome = run_grid(run.cells(), folder, run, engine=engine, progress=progress)
    return StudyResult(outcome, run.report(outcome), folder.path)
