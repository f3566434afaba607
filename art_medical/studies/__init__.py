"""The studies' protocols as grids of resumable cells, one run folder layout for all.

- :mod:`~art_medical.studies.cells`, :mod:`~art_medical.studies.engine`, :mod:`~art_medical.studies.folder`:
  cells (stable key, inputs, JSON record), the engine that runs the unfinished ones, the run folder.
- :mod:`~art_medical.studies.uap`: the UAP protocol of studies 000 and 001 (also the demo and the audit).
- ``STUDIES``: every study by id; ``art-medical study --list`` shows them.
"""
from __future__ import annotations

from art_medical.studies.cells import Cell, make_key
from art_medical.studies.config import ConfigError, read_config
from art_medical.studies.engine import GridOutcome, run_grid
from art_medical.studies.folder import StudyFolder
from art_medical.studies.registry import CONFIG_FOLDER, StudyDefinition, StudyResult, run_protocol
from art_medical.studies.study000 import DEFINITION as STUDY_000
from art_medical.studies.study001 import DEFINITION as STUDY_001

STUDIES: dict[str, StudyDefinition] = {definition.id: definition for definition in (STUDY_000, STUDY_001)}

__all__ = [
    "CONFIG_FOLDER",
    "Cell",
    "ConfigError",
    "GridOutcome",
    "STUDIES",
    "StudyDefinition",
    "StudyFolder",
    "StudyResult",
    "make_key",
    "read_config",
    "run_grid",
    "run_protocol",
]
