"""Run folders, atomic files, tables, figures and Markdown (art_medical.reports)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from art_medical.reports import (
    RunFolder,
    markdown_report,
    read_json,
    results_table,
    save_confusion_matrices,
    save_image_strip,
    write_json_atomic,
)

ROWS = [
    {"key": "a", "attack": "uap", "norm": "inf", "zeta": 0.02, "xi": 4.567, "target": None,
     "fooling_rate": 0.875, "targeted_success_rate": None, "clean_accuracy": 0.95, "adversarial_accuracy": 0.1},
    {"key": "b", "attack": "targeted_uap", "norm": "2", "zeta": 0.04, "xi": 250.0, "target": "covid",
     "fooling_rate": 0.5, "targeted_success_rate": 0.75, "clean_accuracy": 0.95, "adversarial_accuracy": 0.4},
]


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_write_json_atomic_round_trip_and_no_temp_files(tmp_path):
    path = write_json_atomic(tmp_path / "sub" / "r.json", {"x": [1, 2.5], "y": None})
    assert json.loads(path.read_text()) == {"x": [1, 2.5], "y": None}
    assert _leftovers(path.parent) == []


def test_write_json_atomic_keeps_old_file_when_writing_fails(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"ok": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"bad": float("nan")})  # NaN is not valid JSON
    assert read_json(path) == {"ok": 1}
    assert _leftovers(tmp_path) == []


def test_read_json_names_corrupt_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"rows": [')
    with pytest.raises(ValueError, match="results.json is not valid JSON"):
        read_json(path)
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "missing.json")


def test_results_table_text_and_markdown():
    text = results_table(ROWS)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["attack", "p", "zeta", "xi"]
    assert "87.5%" in lines[2] and "4.57" in lines[2] and lines[2].split()[5] == "-"
    assert lines[3].startswith("targeted_uap -> covid") and "75.0%" in lines[3] and "250.00" in lines[3]
    assert len({len(line) for line in lines}) == 1  # aligned columns
    markdown = results_table(ROWS, markdown=True).splitlines()
    assert markdown[0].startswith("| attack | p | zeta |") and markdown[1].startswith("|---|---:")
    assert len(markdown) == 4


def test_run_folder_adds_rows_and_reloads(tmp_path):
    folder = RunFolder(tmp_path / "run", {"seed": 0, "zetas": (0.02, 0.04)})
    folder.add_row(ROWS[0])
    folder.set_info("model", {"test_accuracy": 0.9})
    reloaded = RunFolder(tmp_path / "run", {"seed": 0, "zetas": (0.02, 0.04)})
    assert reloaded.has("a") and not reloaded.has("b")
    assert reloaded.rows == [ROWS[0]]
    assert reloaded.info == {"model": {"test_accuracy": 0.9}}
    reloaded.add_row({**ROWS[0], "fooling_rate": 0.5})  # same key replaces the row
    assert [row["fooling_rate"] for row in RunFolder(tmp_path / "run", {"seed": 0, "zetas": [0.02, 0.04]}).rows] == [0.5]
    assert _leftovers(tmp_path / "run") == []


def test_run_folder_refuses_other_settings_and_rows_without_key(tmp_path):
    folder = RunFolder(tmp_path, {"seed": 0})
    with pytest.raises(ValueError, match="needs a 'key'"):
        folder.add_row({"attack": "uap"})
    folder.add_row(ROWS[0])
    with pytest.raises(ValueError, match="other settings"):
        RunFolder(tmp_path, {"seed": 1})


def test_save_confusion_matrices_writes_png(tmp_path):
    clean = np.eye(3)
    adversarial = np.array([[0.1, 0.0, 0.9], [0.0, 0.2, 0.8], [0.0, 0.0, 1.0]])
    path = save_confusion_matrices(tmp_path / "cm.png", clean, adversarial, ["normal", "pneumonia", "covid"])
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width > 2 * height > 0  # two square panels side by side
    assert _leftovers(tmp_path) == []
    with pytest.raises(ValueError, match="expected \\(2, 2\\)"):
        save_confusion_matrices(tmp_path / "bad.png", clean, adversarial, ["a", "b"])


@pytest.mark.parametrize("channels", [1, 3])
def test_save_image_strip_writes_one_row_per_image(tmp_path, channels):
    rng = np.random.default_rng(0)
    clean = rng.uniform(0, 255, (3, 16, 16, channels)).astype(np.float32)
    noise = rng.uniform(-4, 4, (1, 16, 16, channels)).astype(np.float32)
    adversarial = np.clip(clean + noise, 0, 255)
    path = save_image_strip(
        tmp_path / "strip.png", clean, noise, adversarial, [0, 1, 2], [0, 1, 2], [2, 2, 2], ["n", "p", "c"], title="t"
    )
    with Image.open(path) as image:
        width, height = image.size
    assert height > width > 0  # three rows of three panels plus titles
    with pytest.raises(ValueError, match="same images"):
        save_image_strip(tmp_path / "bad.png", clean, noise, adversarial[:2], [0, 1, 2], [0, 1, 2], [2, 2, 2], "npc")


def test_markdown_report_contains_table_and_figures():
    text = markdown_report("Demo", {"clean test accuracy": "95.0%"}, ROWS, [("confusion a", "figures/a.png")], "Rates.")
    assert text.startswith("# Demo\n")
    assert "- **clean test accuracy**: 95.0%" in text
    assert "| targeted_uap -> covid | 2 | 4.0% | 250.00 | 50.0% | 75.0% | 95.0% | 40.0% |" in text
    assert "![confusion a](figures/a.png)" in text and text.rstrip().endswith("Rates.")
