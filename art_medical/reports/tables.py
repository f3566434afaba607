"""Tables as the papers lay them out, written as CSV and rendered as Markdown or aligned text.

Rates are fractions in [0, 1] and shown as percentages with one decimal, a random control in brackets beside
its UAP's value (``81.7 (2.4)``), as the studies' tables do; a missing value reads ``-``.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from art_medical.reports.files import write_text_atomic


def percent(value: float | None) -> str:
    """``0.817`` -> ``"81.7"``; ``None`` -> ``"-"``."""
    return "-" if value is None else f"{100 * value:.1f}"


def with_control(value: float | None, control: float | None) -> str:
    """A rate with its random control in brackets: ``"81.7 (2.4)"``."""
    if value is None:
        return "-"
    return percent(value) if control is None else f"{percent(value)} ({percent(control)})"


@dataclass(frozen=True)
class Table:
    """A table with a caption, written as ``tables/<name>.csv`` and shown in the report.

    :param name: File stem, e.g. ``"table1_fooling_rates_zeta4"``.
    :param caption: What the table shows, in the paper's words.
    :param header: Column titles.
    :param rows: Cells as text, one list per row, as long as ``header``.
    """

    name: str
    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]

    def __post_init__(self) -> None:
        widths = {len(row) for row in self.rows}
        if widths - {len(self.header)}:
            raise ValueError(f"Table {self.name}: rows of {sorted(widths)} cells under {len(self.header)} columns.")

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue()

    def to_markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(self.header) - 1)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        table = [list(self.header)] + [list(row) for row in self.rows]
        widths = [max(len(line[i]) for line in table) for i in range(len(self.header))]

        def line(cells: list[str]) -> str:
            return "  ".join([cells[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])])

        return "\n".join([line(table[0]), "-" * len(line(table[0]))] + [line(cells) for cells in table[1:]]) + "\n"

    def write_csv(self, folder: str | Path) -> Path:
        """Write ``<folder>/<name>.csv`` atomically."""
        return write_text_atomic(Path(folder) / f"{self.name}.csv", self.to_csv())
