"""Human-readable results: atomic files, tables in the papers' layouts, PNG figures, Markdown reports."""
from art_medical.reports.figures import save_confusion_matrices, save_heatmap, save_image_strip, save_line_panels
from art_medical.reports.files import read_json, write_atomic, write_json_atomic, write_text_atomic
from art_medical.reports.markdown import markdown_report
from art_medical.reports.tables import Table, percent, with_control

__all__ = [
    "Table",
    "markdown_report",
    "percent",
    "read_json",
    "save_confusion_matrices",
    "save_heatmap",
    "save_image_strip",
    "save_line_panels",
    "with_control",
    "write_atomic",
    "write_json_atomic",
    "write_text_atomic",
]
