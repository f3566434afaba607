"""Cells: the resumable units of a study grid.

A study grid is a list of cells in dependency order (train a model -> its clean predictions -> its UAPs ->
transferability cells that need two models). A cell is a pure function of its ``params`` and the artifacts of
the cells it ``needs``: running it writes its artifacts into its own folder and returns a flat record, which
the engine writes last and atomically. A finished cell is one whose record exists, says ``done`` and holds
the same params; it is never computed again (the rule of Snakemake and Luigi targets). A cell that raised is
recorded as ``failed`` with its error and runs again on the next attempt; cells that need it are ``blocked``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


def slug(value: Any) -> str:
    """A key segment from a name or number: ``"COVID-19"`` stays, ``"no finding"`` -> ``"no_finding"``."""
    text = _UNSAFE.sub("_", f"{value:g}" if isinstance(value, float) else str(value)).strip("_")
    if not text:
        raise ValueError(f"{value!r} gives an empty key segment.")
    return text


def make_key(*segments: Any) -> str:
    """A cell key from its segments, e.g. ``make_key("uap", "chest_xray", "vgg16", "p2", "zeta0.04")``."""
    return "/".join(slug(segment) for segment in segments)


def canonical(params: Any) -> Any:
    """``params`` as it reads back from JSON (tuples become lists), so stored and new params compare equal."""
    return json.loads(json.dumps(params, allow_nan=False))


@dataclass(frozen=True)
class Cell:
    """One resumable unit of a study grid.

    :param key: Stable, readable key: ``/``-separated segments of letters, digits and ``._+=-``; also the
        cell's folder below ``cells/`` in the run folder.
    :param kind: Name of the function that computes it (a key of the study's cell functions).
    :param params: Everything besides its inputs that determines its result (JSON values).
    :param needs: Keys of the cells whose artifacts it reads; they come earlier in the grid.
    :param gpu: Whether it benefits from a GPU (training, attacks); engines that place cells on a cluster
        give such cells one.
    """

    key: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    gpu: bool = False

    def __post_init__(self) -> None:
        if not all(_SEGMENT.match(segment) for segment in self.key.split("/")):
            raise ValueError(f"Invalid cell key {self.key!r}: use '/'-separated segments of letters, digits, ._+=-")
        object.__setattr__(self, "params", canonical(self.params))
        object.__setattr__(self, "needs", tuple(self.needs))


def check_grid(cells: list[Cell]) -> None:
    """Raise ValueError on duplicate keys or a cell that needs a cell not earlier in the list."""
    seen: set[str] = set()
    for cell in cells:
        if cell.key in seen:
            raise ValueError(f"Two cells share the key {cell.key!r}.")
        missing = [need for need in cell.needs if need not in seen]
        if missing:
            raise ValueError(f"Cell {cell.key!r} needs {missing}, which do not come before it in the grid.")
        seen.add(cell.key)
