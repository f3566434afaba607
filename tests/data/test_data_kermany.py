"""Kermany chest X-ray / OCT folders with the study 001 class-balanced splits."""
from __future__ import annotations

import inspect
import shutil

import numpy as np
import pytest
from data_trees import ValueBook, make_kermany, write_image, write_truncated_jpeg

from art_medical.data import SkippedFilesWarning, load_kermany_chest_xray, load_kermany_oct
from art_medical.data import kermany

QUIET = {"verbose": False, "workers": 2}


def test_paper_split_sizes_are_the_defaults():
    assert kermany.CHEST_XRAY_PER_CLASS == {"train": 900, "test": 270}
    assert kermany.OCT_PER_CLASS == {"train": 1960, "test": 840}
    for loader, (n_train, n_test) in ((load_kermany_chest_xray, (900, 270)), (load_kermany_oct, (1960, 840))):
        params = inspect.signature(loader).parameters
        assert params["n_train_per_class"].default == n_train
        assert params["n_test_per_class"].default == n_test
        assert params["size"].default == 299 and params["channels"].default == 1


def test_paper_defaults_ask_for_more_images_than_a_small_tree_has(kermany_root):
    with pytest.raises(ValueError, match=r"Class 'NORMAL' has 9 images, fewer than the 1170"):
        load_kermany_chest_xray(kermany_root, **QUIET)


@pytest.mark.parametrize("n_train,n_test", [(4, 2), (6, 3)])
def test_balanced_split_shapes_labels_and_disjointness(kermany_root, book, n_train, n_test):
    data = load_kermany_chest_xray(kermany_root, size=8, n_train_per_class=n_train, n_test_per_class=n_test, **QUIET)
    assert data.class_names == ("NORMAL", "PNEUMONIA")
    assert data.train.x.shape == (2 * n_train, 8, 8, 1) and data.train.x.dtype == np.float32
    assert data.test.x.shape == (2 * n_test, 8, 8, 1)
    assert np.bincount(data.train.y).tolist() == [n_train, n_train]
    assert np.bincount(data.test.y).tolist() == [n_test, n_test]
    assert not set(data.train.files) & set(data.test.files)
    for split in (data.train, data.test):
        for name, label in zip(split.files, split.y):
            assert name.split("/")[1] == data.class_names[label]
        book.check(split)
    assert data.val is None and data.cache_file is None


def test_pooling_draws_from_both_folders_and_seed_controls_it(kermany_root):
    draws = [load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=5, n_test_per_class=4, seed=s, **QUIET)
             for s in (0, 0, 1)]
    assert draws[0].train.files == draws[1].train.files
    np.testing.assert_array_equal(draws[0].train.x, draws[1].train.x)
    assert set(draws[0].train.files) != set(draws[2].train.files)
    folders = {name.split("/")[0] for d in draws for name in d.train.files + d.test.files}
    assert folders == {"train", "test"}


def test_respecting_folder_split(kermany_root):
    data = load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=5, n_test_per_class=3,
                                   pool_folders=False, **QUIET)
    assert all(name.startswith("train/") for name in data.train.files)
    assert all(name.startswith("test/") for name in data.test.files)
    with pytest.raises(ValueError, match="'NORMAL' has 3 images, fewer than the 4"):
        load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=5, n_test_per_class=4,
                                pool_folders=False, **QUIET)


def test_validation_split_is_stratified_from_training(kermany_root):
    data = load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=6, n_test_per_class=2,
                                   val_fraction=1 / 3, **QUIET)
    assert np.bincount(data.val.y).tolist() == [2, 2] and np.bincount(data.train.y).tolist() == [4, 4]
    assert not set(data.val.files) & (set(data.train.files) | set(data.test.files))


def test_oct_layout_and_root_resolution(tmp_path, book):
    counts = {"train": {c: 3 for c in kermany.OCT_CLASSES}, "test": {c: 2 for c in kermany.OCT_CLASSES}}
    root = make_kermany(tmp_path, book, counts, modality="OCT")
    for given in (root, root / "CellData", root / "CellData" / "OCT"):
        data = load_kermany_oct(given, size=6, channels=3, n_train_per_class=3, n_test_per_class=2, **QUIET)
        assert data.class_names == ("CNV", "DME", "DRUSEN", "NORMAL")
        assert data.train.x.shape == (12, 6, 6, 3) and np.bincount(data.test.y).tolist() == [2, 2, 2, 2]


def test_missing_root_and_missing_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_kermany_chest_xray(tmp_path / "nowhere", **QUIET)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No Kermany chest_xray layout"):
        load_kermany_chest_xray(tmp_path / "empty", **QUIET)


def test_missing_class_folder(kermany_root):
    shutil.rmtree(kermany_root / "CellData/chest_xray/test/PNEUMONIA")
    with pytest.raises(FileNotFoundError, match="Class folder 'PNEUMONIA' not found"):
        load_kermany_chest_xray(kermany_root, n_train_per_class=2, n_test_per_class=1, **QUIET)


def test_empty_class_folder_raises_or_is_skipped(kermany_root):
    empty = kermany_root / "CellData/chest_xray/test/NORMAL"
    shutil.rmtree(empty)
    empty.mkdir()
    with pytest.raises(ValueError, match="NORMAL holds no images"):
        load_kermany_chest_xray(kermany_root, n_train_per_class=2, n_test_per_class=1, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=4, n_test_per_class=2,
                                       on_error="skip", **QUIET)
    assert np.bincount(data.train.y).tolist() == [4, 4]


def test_unknown_class_folder_raises_or_is_skipped(kermany_root):
    write_image(kermany_root / "CellData/chest_xray/train/COVID/c1.jpeg", 50)
    with pytest.raises(ValueError, match="Unknown class folder .*COVID"):
        load_kermany_chest_xray(kermany_root, n_train_per_class=2, n_test_per_class=1, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_kermany_chest_xray(kermany_root, size=4, n_train_per_class=2, n_test_per_class=1,
                                       on_error="skip", **QUIET)
    assert not any("COVID" in name for name in data.train.files + data.test.files)


def test_truncated_jpeg_raises_naming_it_or_is_skipped(tmp_path):
    book = ValueBook()
    root = make_kermany(tmp_path, book, {"train": {"NORMAL": 3, "PNEUMONIA": 4}})
    write_truncated_jpeg(root / "CellData/chest_xray/train/NORMAL/broken.jpeg")
    with pytest.raises(ValueError, match="broken.jpeg"):
        load_kermany_chest_xray(root, size=4, n_train_per_class=4, n_test_per_class=0, **QUIET)
    with pytest.warns(SkippedFilesWarning, match=r"skipped 1 file.*broken\.jpeg") as record:
        data = load_kermany_chest_xray(root, size=4, n_train_per_class=4, n_test_per_class=0, on_error="skip",
                                       **QUIET)
    assert record[0].filename == __file__, "the warning points at the caller"
    assert len(data.train) == 7 and data.skipped[0][0] == "train/NORMAL/broken.jpeg"
    book.check(data.train)


@pytest.mark.parametrize("kwargs,match", [({"on_error": "ignore"}, "on_error"), ({"stream": True}, "cache_dir"),
                                          ({"channels": 4}, "channels"), ({"size": 0}, "size")])
def test_bad_options(kermany_root, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_kermany_chest_xray(kermany_root, **{**QUIET, **kwargs})
