"""ChestX-ray14 as disease vs no finding with the study 002 random split."""
from __future__ import annotations

import inspect

import pytest

from art_medical.data import SkippedFilesWarning, load_chestxray14
from art_medical.data import chestxray14

QUIET = {"verbose": False, "workers": 2}


def test_paper_split_is_the_default():
    params = inspect.signature(load_chestxray14).parameters
    assert (params["n_train"].default, params["n_val"].default, params["n_test"].default) == (None, 16792, 200)
    assert (chestxray14.N_VAL, chestxray14.N_TEST) == (16792, 200)
    assert 112120 - chestxray14.N_VAL - chestxray14.N_TEST == 95128  # study 002's training set


def test_binary_labels_and_split_sizes(chestxray14_root, book):
    data = load_chestxray14(chestxray14_root, size=5, n_val=5, n_test=4, **QUIET)
    assert data.class_names == ("no finding", "disease")
    assert (len(data.train), len(data.val), len(data.test)) == (11, 5, 4)
    assert data.val.x.shape == (5, 5, 5, 1)
    names = [set(s.files) for s in (data.train, data.val, data.test)]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    for split in data.splits.values():
        book.check(split)
        for name, label in zip(split.files, split.y):  # fixture rows: index % 5 in (0, 3) is "No Finding"
            assert label == (0 if int(name.split("/")[-1][:8]) % 5 in (0, 3) else 1)
    rest_share = (data.train.y.sum() + data.val.y.sum()) / 16
    assert abs(data.val.y.sum() - 5 * rest_share) < 1, "validation keeps the disease share of the non-test images"


def test_n_train_limits_training(chestxray14_root):
    data = load_chestxray14(chestxray14_root, size=4, n_train=6, n_val=5, n_test=4, **QUIET)
    assert len(data.train) == 6
    with pytest.raises(ValueError, match="n_train=12 exceeds the 11"):
        load_chestxray14(chestxray14_root, n_train=12, n_val=5, n_test=4, **QUIET)


def test_missing_images_raise_or_are_skipped(chestxray14_root):
    for i in (1, 2):
        next(chestxray14_root.rglob(f"{i:08d}_000.png")).unlink()
    with pytest.raises(FileNotFoundError, match=r"2 image\(s\) listed in .*Data_Entry_2017.csv not found"):
        load_chestxray14(chestxray14_root, n_val=4, n_test=4, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 2 file"):
        data = load_chestxray14(chestxray14_root, size=4, n_val=4, n_test=4, on_error="skip", **QUIET)
    assert len(data.train) == 10


def test_bad_table(chestxray14_root):
    (chestxray14_root / "Data_Entry_2017.csv").write_text("Image Index,Labels\na.png,No Finding\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['Finding Labels'\]"):
        load_chestxray14(chestxray14_root, **QUIET)
    (chestxray14_root / "Data_Entry_2017.csv").write_text("Image Index,Finding Labels\na.png,No Finding\n,Mass\n")
    with pytest.raises(ValueError, match="line 3: empty"):
        load_chestxray14(chestxray14_root, **QUIET)
