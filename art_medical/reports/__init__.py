"""Human-readable results: run folders with resumable JSON, text tables, PNG figures, Markdown reports."""
from art_medical.reports.figures import save_confusion_matrices, save_image_strip
from art_medical.reports.files import read_json, write_atomic, write_json_atomic, write_text_atomic
from art_medical.reports.markdown import markdown_report
from art_medical.reports.run_folder import RunFolder
from art_medical.reports.tables import results_table

__all__ = [
    "RunFolder",
    "markdown_report",
    "read_json",
    "results_table",
    "save_confusion_matrices",
    "save_image_strip",
    "write_atomic",
    "write_json_atomic",
    "write_text_atomic",
]
