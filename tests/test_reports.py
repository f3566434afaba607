"""Atomic files, tables, figures and Markdown (art_medical.reports)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from art_medical.reports import (
    Table,
    markdown_report,
    percent,
    read_json,
    save_confusion_matrices,
    save_heatmap,
    save_image_strip,
    save_line_panels,
    with_control,
    write_json_atomic,
)

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


def test_tables_render_rates_with_controls_as_csv_markdown_and_text(tmp_path):
    assert (percent(0.8171), percent(None), with_control(0.817, 0.024), with_control(None, 0.5)) == \
        ("81.7", "-", "81.7 (2.4)", "-")
    table = Table("t1", "Table 1: fooling rates.", ["model", "Chest X-ray p=2"],
                  [["Inception V3", with_control(0.817, 0.024)], ["VGG16", "49.8 (2.2)"]])
    assert table.to_csv().splitlines() == ["model,Chest X-ray p=2", "Inception V3,81.7 (2.4)", "VGG16,49.8 (2.2)"]
    assert table.to_markdown().splitlines()[:2] == ["| model | Chest X-ray p=2 |", "|---|---:|"]
    text = table.to_text().splitlines()
    assert len({len(line) for line in text}) == 1 and text[2].endswith("81.7 (2.4)")  # aligned, right-justified
    assert table.write_csv(tmp_path / "tables").read_text() == table.to_csv()
    with pytest.raises(ValueError, match="rows of \\[1\\] cells under 2 columns"):
        Table("bad", "", ["a", "b"], [["only one"]])


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


def test_markdown_report_contains_tables_figures_and_notes():
    table = Table("t1", "Table 1: fooling rates.", ["model", "R_f"], [["VGG16", "49.8 (2.2)"]])
    text = markdown_report("Demo", {"clean test accuracy": "95.0%"}, [table], [("confusion a", "figures/a.png")],
                           ["Rates.", "Warning: near chance."])
    assert text.startswith("# Demo\n")
    assert "- **clean test accuracy**: 95.0%" in text
    assert "**Table 1: fooling rates.** ([CSV](tables/t1.csv))" in text and "| VGG16 | 49.8 (2.2) |" in text
    assert "![confusion a](figures/a.png)" in text and text.rstrip().endswith("Warning: near chance.")


def test_line_panels_and_heatmap_write_pngs(tmp_path):
    panels = [("p = 2", [("R_f", [2, 4], [0.1, None], "o-"), ("random", [2, 4], [0.0, 0.01], "x:")]),
              ("p = inf", [("R_f", [2, 4], [0.3, 0.6], "o-")])]
    with Image.open(save_line_panels(tmp_path / "curves.png", panels, "zeta (%)", "R_f")) as image:
        assert image.size[0] > 1.5 * image.size[1]  # two panels side by side
    matrix = np.array([[0.8, 0.1], [np.nan, 0.7]])
    with Image.open(save_heatmap(tmp_path / "heat.png", matrix, ["A", "B"], ["A", "B"], "t", "x", "y")) as image:
        assert image.format == "PNG"
    with pytest.raises(ValueError, match="for 3 rows"):
        save_heatmap(tmp_path / "bad.png", matrix, ["A", "B", "C"], ["A", "B"], "t", "x", "y")
    assert _leftovers(tmp_path) == []
