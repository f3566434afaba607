"""ISIC 2018 task 3: one-hot CSV labels, random 7,000 / 3,015 split, missing rows and images."""
from __future__ import annotations

import inspect

import pytest
from data_trees import write_csv, write_image

from art_medical.data import SkippedFilesWarning, load_isic2018
from art_medical.data import isic

QUIET = {"verbose": False, "workers": 2}
CSV = "ISIC2018_Task3_Training_GroundTruth/ISIC2018_Task3_Training_GroundTruth.csv"


def test_paper_split_is_the_default():
    assert (isic.N_TRAIN, isic.N_TEST) == (7000, 3015)
    params = inspect.signature(load_isic2018).parameters
    assert params["n_train"].default == 7000 and params["n_test"].default is None
    assert (params["size"].default, params["channels"].default) == (299, 3)
    assert isic.CLASSES == ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")


@pytest.mark.parametrize("n_train,n_test", [(14, None), (10, 5)])
def test_random_split_labels_from_csv(isic_root, book, n_train, n_test):
    data = load_isic2018(isic_root, size=10, n_train=n_train, n_test=n_test, **QUIET)
    assert data.train.x.shape == (n_train, 10, 10, 3)
    assert len(data.test) == (21 - n_train if n_test is None else n_test)
    assert not set(data.train.files) & set(data.test.files)
    for split in (data.train, data.test):
        book.check(split)
        for name, label in zip(split.files, split.y):  # fixture ids encode the class: ISIC_<label><index>
            assert int(name.split("ISIC_")[1][:2]) == label


def test_too_large_split_is_a_clear_error(isic_root):
    with pytest.raises(ValueError, match="need 7000 images; only 21"):
        load_isic2018(isic_root, **QUIET)


def test_csv_row_without_image(isic_root):
    (isic_root / "ISIC2018_Task3_Training_Input" / "ISIC_0000000.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="row for image 'ISIC_0000000' has no image file"):
        load_isic2018(isic_root, n_train=10, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_isic2018(isic_root, size=4, n_train=10, on_error="skip", **QUIET)
    assert len(data.train) + len(data.test) == 20


def test_image_without_label(isic_root):
    write_image(isic_root / "ISIC2018_Task3_Training_Input" / "ISIC_9999999.jpg", 77, "RGB")
    with pytest.raises(ValueError, match="ISIC_9999999.jpg has no label"):
        load_isic2018(isic_root, n_train=10, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_isic2018(isic_root, size=4, n_train=10, on_error="skip", **QUIET)
    assert "ISIC2018_Task3_Training_Input/ISIC_9999999.jpg" not in data.train.files + data.test.files


@pytest.mark.parametrize("row,match", [(["ISIC_x", "1.0", "1.0", "0", "0", "0", "0", "0"], "one-hot"),
                                       (["ISIC_x", "yes", "0", "0", "0", "0", "0", "0"], "must be numbers")])
def test_bad_csv_row_names_file_and_line(isic_root, row, match):
    table = isic_root / CSV
    write_csv(table, ["image", *isic.CLASSES], [["ISIC_a", "1", "0", "0", "0", "0", "0", "0"], row])
    with pytest.raises(ValueError, match=rf"GroundTruth.csv, line 3: .*{match}"):
        load_isic2018(isic_root, n_train=1, **QUIET)


def test_missing_csv_and_column(isic_root):
    with pytest.raises(FileNotFoundError, match="ground-truth CSV not found"):
        load_isic2018(isic_root, labels_csv=isic_root / "nope.csv", **QUIET)
    write_csv(isic_root / CSV, ["image", "MEL"], [["ISIC_a", "1"]])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['NV'"):
        load_isic2018(isic_root, **QUIET)
