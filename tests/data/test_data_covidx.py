"""COVIDx split files (names with spaces, optional source column) and the COVID-Net crop."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from art_medical.data import SkippedFilesWarning, load_covidx, parse_split_line
from art_medical.data import covidx

QUIET = {"verbose": False, "workers": 2}


@pytest.mark.parametrize("line,expected", [
    ("3 a.png normal", ("3", "a.png", "normal", None)),
    ("3 my scan 01.jpeg pneumonia", ("3", "my scan 01.jpeg", "pneumonia", None)),
    ("p7 my  scan.png COVID-19 cohen", ("p7", "my  scan.png", "COVID-19", "cohen")),
    ("p7 x normal.png covid-19 sirm", ("p7", "x normal.png", "COVID-19", "sirm")),
    ("12\tfile name.png\tnormal\trsna", ("12", "file name.png", "normal", "rsna")),
])
def test_parse_split_line(line, expected):
    entry = parse_split_line(line)
    assert (entry.patient_id, entry.filename, entry.label, entry.source) == expected


@pytest.mark.parametrize("line", ["3 a.png", "3 a.png healthy", "3 normal", "3 a.png b.png c.png d"])
def test_unparsable_lines(line):
    assert parse_split_line(line) is None


def test_paper_preprocessing_is_the_default():
    params = inspect.signature(load_covidx).parameters
    assert params["crop_top"].default == pytest.approx(1 / 6) and covidx.CROP_TOP == pytest.approx(1 / 6)
    assert (params["size"].default, params["channels"].default) == (224, 3)
    assert covidx.CLASSES == ("normal", "pneumonia", "COVID-19")


def test_load_parses_both_formats_and_crops_the_top(covidx_root):
    data = load_covidx(covidx_root, size=6, **QUIET)
    assert data.class_names == ("normal", "pneumonia", "COVID-19")
    assert data.train.x.shape == (9, 6, 6, 3) and data.test.x.shape == (6, 6, 6, 3)
    assert data.train.y.tolist() == [0, 1, 2] * 3 and data.test.y.tolist() == [0, 1, 2] * 2
    assert "train/img 0 of set.png" in data.train.files
    assert data.train.x.min() == 255.0, "the black top sixth must be cropped away"
    uncropped = load_covidx(covidx_root, size=6, crop_top=0.0, **QUIET)
    assert uncropped.train.x[:, 0].max() < 255.0


def test_validation_carved_from_training(covidx_root):
    data = load_covidx(covidx_root, size=4, val_fraction=1 / 3, **QUIET)
    assert np.bincount(data.val.y).tolist() == [1, 1, 1] and len(data.train) == 6 and len(data.test) == 6


def test_unparsable_line_names_file_and_line_number(covidx_root):
    split_file = covidx_root / "test_COVIDx.txt"
    lines = split_file.read_text().splitlines()
    lines.insert(2, "P9 scan.png unknownclass")
    split_file.write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"test_COVIDx.txt, line 3: cannot parse 'P9 scan.png unknownclass'"):
        load_covidx(covidx_root, **QUIET)


def test_listed_image_missing(covidx_root):
    (covidx_root / "train" / "img 3 of set.png").unlink()
    with pytest.raises(FileNotFoundError, match="listed image 'img 3 of set.png' not found"):
        load_covidx(covidx_root, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_covidx(covidx_root, size=4, on_error="skip", **QUIET)
    assert len(data.train) == 8


def test_split_file_discovery_errors(covidx_root):
    (covidx_root / "train_COVIDx_v2.txt").write_text("1 img1.png pneumonia\n")
    with pytest.raises(FileNotFoundError, match=r"Expected one COVIDx train split file .*train_COVIDx.txt"):
        load_covidx(covidx_root, **QUIET)
    data = load_covidx(covidx_root, size=4, train_file="train_COVIDx_v2.txt", **QUIET)
    assert data.train.files == ("train/img1.png",) and data.train.y.tolist() == [1]
    with pytest.raises(FileNotFoundError, match="split file not found"):
        load_covidx(covidx_root, train_file="absent.txt", **QUIET)


def test_binary_labels_of_later_versions(covidx_root):
    (covidx_root / "train_COVIDx.txt").write_text("1 img1.png positive rsna\n2 img2.png negative rsna\n")
    (covidx_root / "test_COVIDx.txt").write_text("3 test 0.png negative bimcv\n")
    data = load_covidx(covidx_root, size=4, classes=("negative", "positive"), **QUIET)
    assert data.train.y.tolist() == [1, 0] and data.class_names == ("negative", "positive")
