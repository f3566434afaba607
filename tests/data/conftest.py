"""Fixture trees in each dataset layout, written into ``tmp_path`` (see data_trees.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from data_trees import ValueBook, make_chestxray14, make_class_folders, make_covidx, make_isic, make_kermany


@pytest.fixture
def book() -> ValueBook:
    """Gray value written to each fixture file, to check images against labels and names."""
    return ValueBook()


@pytest.fixture
def kermany_root(tmp_path, book) -> Path:
    """Kermany chest X-ray: 6 NORMAL + 8 PNEUMONIA in train/, 3 + 4 in test/ (JPEG)."""
    counts = {"train": {"NORMAL": 6, "PNEUMONIA": 8}, "test": {"NORMAL": 3, "PNEUMONIA": 4}}
    return make_kermany(tmp_path / "kermany", book, counts)


@pytest.fixture
def isic_root(tmp_path, book) -> Path:
    return make_isic(tmp_path / "isic", book)


@pytest.fixture
def covidx_root(tmp_path) -> Path:
    return make_covidx(tmp_path / "covidx")


@pytest.fixture
def chestxray14_root(tmp_path, book) -> Path:
    return make_chestxray14(tmp_path / "cxr14", book)


@pytest.fixture
def curated_root(tmp_path, book) -> Path:
    """Curated COVID-19 X-ray set: four class folders of 10 PNGs each."""
    return make_class_folders(tmp_path / "curated", book, ("COVID-19", "Normal", "Pneumonia-Bacterial", "Pneumonia-Viral"))


@pytest.fixture
def covid_ct_root(tmp_path, book) -> Path:
    """COVID-CT inside Images-processed/: 10 PNGs in CT_COVID/ and CT_NonCOVID/."""
    make_class_folders(tmp_path / "covid_ct" / "Images-processed", book, ("CT_COVID", "CT_NonCOVID"))
    return tmp_path / "covid_ct"
