"""The Markdown report of a run folder: facts, tables with captions, figures with captions, notes."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from art_medical.reports.tables import Table


def markdown_report(
    title: str,
    facts: Mapping[str, Any],
    tables: Sequence[Table] = (),
    figures: Sequence[tuple[str, str]] = (),
    notes: Sequence[str] = (),
) -> str:
    """Render the report as Markdown text.

    :param title: Level-1 heading.
    :param facts: Settings and headline numbers, listed as ``- **key**: value``.
    :param tables: Tables, each under its caption, with a link to its CSV file in ``tables/``.
    :param figures: ``(caption, path relative to the report)`` pairs, embedded as images under their captions.
    :param notes: Closing paragraphs (definitions of the rates, caveats, warnings).
    """
    lines = [f"# {title}", ""]
    lines += [f"- **{key}**: {value}" for key, value in facts.items()]
    if tables:
        lines += ["", "## Tables", ""]
        for table in tables:
            lines += [f"**{table.caption}** ([CSV](tables/{table.name}.csv))", "", table.to_markdown()]
    if figures:
        lines += ["## Figures", ""]
        for caption, relative_path in figures:
            lines += [f"![{caption}]({relative_path})", "", f"*{caption}*", ""]
    if notes:
        lines += ["## Notes", ""]
        for note in notes:
            lines += [note, ""]
    return "\n".join(lines)
