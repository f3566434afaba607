"""Plain-text and Markdown tables of attack results, one row per attack configuration."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS: tuple[tuple[str, str], ...] = (
    ("attack", "attack"),
    ("norm", "p"),
    ("zeta", "zeta"),
    ("xi", "xi"),
    ("fooling_rate", "fooling rate"),
    ("targeted_success_rate", "targeted success"),
    ("clean_accuracy", "clean acc"),
    ("adversarial_accuracy", "adv acc"),
)
_PERCENT = {"zeta", "fooling_rate", "targeted_success_rate", "clean_accuracy", "adversarial_accuracy"}


def _cell(key: str, row: Mapping[str, Any]) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key == "attack" and row.get("target"):
        return f"{value} -> {row['target']}"
    if key in _PERCENT:
        return f"{100 * value:.1f}%"
    if key == "xi":
        return f"{value:.2f}"
    return str(value)


def results_table(rows: Sequence[Mapping[str, Any]], markdown: bool = False) -> str:
    """Format result rows as an aligned text table (or a Markdown table).

    Each row is a mapping with the keys of :data:`COLUMNS` (rates as fractions in [0, 1], shown as
    percentages; ``None`` shown as ``-``) and an optional ``target`` class name shown with the attack.

    :param rows: Result rows.
    :param markdown: Give a GitHub-flavoured Markdown table instead of plain text.
    """
    header = [title for _, title in COLUMNS]
    body = [[_cell(key, row) for key, _ in COLUMNS] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines) + "\n"
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]

    def fmt(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first] + [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:])])

    rule = "-" * len(fmt(header))
    return "\n".join([fmt(header), rule] + [fmt(cells) for cells in body]) + "\n"
