"""A short Markdown report for a run folder: settings, the results table and the figures."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from art_medical.reports.tables import results_table


def markdown_report(
    title: str,
    facts: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    figures: Sequence[tuple[str, str]] = (),
    notes: str = "",
) -> str:
    """Render the report as Markdown text.

    :param title: Level-1 heading.
    :param facts: Settings and headline numbers, listed as ``- **key**: value``.
    :param rows: Result rows (see ``tables.results_table``).
    :param figures: ``(caption, relative path)`` pairs, embedded as images.
    :param notes: A closing paragraph (definitions of the rates, caveats).
    """
    lines = [f"# {title}", ""]
    lines += [f"- **{key}**: {value}" for key, value in facts.items()]
    lines += ["", "## Results", "", results_table(rows, markdown=True)]
    if figures:
        lines += ["## Figures", ""]
        for caption, relative_path in figures:
            lines += [f"### {caption}", "", f"![{caption}]({relative_path})", ""]
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines)
