"""Folder-per-class sets: COVID-CT (study 003) and the curated COVID-19 X-rays (study 004)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from data_trees import make_class_folders

from art_medical.data import load_covid19_xray, load_covid_ct, load_image_folders
from art_medical.data import folders

QUIET = {"verbose": False, "workers": 2}


def test_paper_defaults():
    assert folders.TEST_FRACTION == 0.2 and folders.STUDY_004_VAL_FRACTION == 0.1
    ct = inspect.signature(load_covid_ct).parameters
    assert (ct["size"].default, ct["channels"].default, ct["test_fraction"].default) == (224, 3, 0.2)
    xray = inspect.signature(load_covid19_xray).parameters
    assert (xray["size"].default, xray["channels"].default) == (255, 1)
    assert xray["classes"].default == ("COVID-19", "Normal") and xray["val_fraction"].default == 0.1


def test_study_004_binary_split(curated_root, book):
    data = load_covid19_xray(curated_root, size=7, **QUIET)
    assert data.class_names == ("COVID-19", "Normal")
    assert (len(data.train), len(data.val), len(data.test)) == (14, 2, 4)  # 80:20, then 10% of training
    assert data.train.x.shape == (14, 7, 7, 1)
    for split in data.splits.values():
        book.check(split)
        assert np.bincount(split.y).tolist() == [len(split) // 2] * 2
        assert all(name.split("/")[0] == data.class_names[y] for name, y in zip(split.files, split.y))


def test_all_four_curated_classes(curated_root):
    data = load_covid19_xray(curated_root, classes=folders.CURATED_XRAY_CLASSES, size=4, val_fraction=0.0, **QUIET)
    assert data.class_names == folders.CURATED_XRAY_CLASSES
    assert np.bincount(data.test.y).tolist() == [2, 2, 2, 2] and len(data.train) == 32


def test_covid_ct_inside_images_processed(covid_ct_root, book):
    data = load_covid_ct(covid_ct_root, size=5, **QUIET)
    assert data.class_names == ("CT_COVID", "CT_NonCOVID")
    assert data.train.x.shape == (16, 5, 5, 3) and len(data.test) == 4 and data.val is None
    book.check(data.test)


def test_generic_folders_default_to_sorted_subfolders(tmp_path, book):
    root = make_class_folders(tmp_path / "set", book, ("b_class", "a_class"), n_per_class=5)
    data = load_image_folders(root, size=4, test_fraction=0.4, seed=3, **QUIET)
    assert data.class_names == ("a_class", "b_class") and len(data.test) == 4
    again = load_image_folders(root, size=4, test_fraction=0.4, seed=3, **QUIET)
    assert again.test.files == data.test.files
    other = load_image_folders(root, size=4, test_fraction=0.4, seed=4, **QUIET)
    assert set(other.test.files) != set(data.test.files)


def test_missing_and_case_insensitive_folders(tmp_path, book):
    with pytest.raises(FileNotFoundError, match="Dataset folder not found"):
        load_covid_ct(tmp_path / "absent", **QUIET)
    root = make_class_folders(tmp_path / "ct", book, ("ct_covid", "CT_NONCOVID"), n_per_class=5)
    assert len(load_covid_ct(root, size=4, **QUIET).train) == 8
    (tmp_path / "none").mkdir()
    with pytest.raises(FileNotFoundError, match="No class folders"):
        load_image_folders(tmp_path / "none", **QUIET)
