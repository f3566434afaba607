"""The loader catalog: option checking and class names found without decoding images."""
from __future__ import annotations

import numpy as np
import pytest
from data_trees import make_class_folders, write_medmnist

from art_medical.data import (
    available_loaders,
    check_loader_options,
    dataset_classes,
    get_loader,
    load_dataset,
    load_image_folders,
    load_medmnist,
)
from art_medical.data import images
from art_medical.data.catalog import LOADERS

QUIET = {"verbose": False, "workers": 2}


def test_every_loader_is_listed_with_its_keyword_options():
    assert available_loaders() == ("chestxray14", "covid19_xray", "covid_ct", "covidx", "image_csv",
                                   "image_folders", "isic2018", "kermany_chest_xray", "kermany_oct", "medmnist")
    kermany = get_loader("kermany_chest_xray").options
    assert kermany[:4] == ("size", "channels", "n_train_per_class", "n_test_per_class") and "root" not in kermany
    assert get_loader("image_csv").options[:2] == ("root", "classes"), "image_csv's root is an option"
    assert "seed" not in get_loader("medmnist").options and "any_finding" in get_loader("medmnist").options


@pytest.mark.parametrize("name,options,expected", [
    ("kermany_chest_xray", {}, ("NORMAL", "PNEUMONIA")),
    ("kermany_oct", {"size": 64}, ("CNV", "DME", "DRUSEN", "NORMAL")),
    ("isic2018", {}, ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")),
    ("covidx", {}, ("normal", "pneumonia", "COVID-19")),
    ("covidx", {"classes": ["negative", "positive"]}, ("negative", "positive")),
    ("chestxray14", {"n_test": 4}, ("no finding", "disease")),
    ("covid_ct", {}, ("CT_COVID", "CT_NonCOVID")),
    ("covid19_xray", {}, ("COVID-19", "Normal")),
    ("covid19_xray", {"classes": ("Normal", "Pneumonia-Viral")}, ("Normal", "Pneumonia-Viral")),
    ("image_folders", {"classes": ("b", "a")}, ("b", "a")),
])
def test_fixed_and_given_class_names_need_no_data(tmp_path, name, options, expected):
    assert dataset_classes(name, tmp_path / "not there", options) == expected


def test_image_folders_lists_sorted_subfolders_without_decoding(tmp_path, book, monkeypatch):
    root = make_class_folders(tmp_path / "set", book, ("zebra", "Alpha", "mid"), n_per_class=2)
    (root / ".hidden").mkdir()
    (root / "notes.txt").write_text("not a class")
    monkeypatch.setattr(images, "decode_image", lambda *a, **k: pytest.fail("an image was decoded"))
    assert dataset_classes("image_folders", root) == ("Alpha", "mid", "zebra")
    monkeypatch.undo()
    assert load_image_folders(root, size=4, test_fraction=0.5, **QUIET).class_names == ("Alpha", "mid", "zebra")
    with pytest.raises(FileNotFoundError, match="Dataset folder not found"):
        dataset_classes("image_folders", tmp_path / "absent")
    (tmp_path / "flat").mkdir()
    with pytest.raises(FileNotFoundError, match="No class folders"):
        dataset_classes("image_folders", tmp_path / "flat")


def test_image_csv_reads_the_label_column(tmp_path):
    table = tmp_path / "list.csv"
    table.write_text("path,Class\nx/1.png,mel\nx/2.png,nevus\nx/3.png,mel\n")
    assert dataset_classes("image_csv", table) == ("mel", "nevus")
    assert dataset_classes("image_csv", table, {"classes": ["nevus", "mel"]}) == ("nevus", "mel")
    with pytest.raises(ValueError, match="line 3: unknown class 'nevus'"):
        dataset_classes("image_csv", table, {"classes": ["mel"]})


@pytest.mark.parametrize("file_name,kwargs,options,n_names", [
    ("octmnist.npz", {"n_classes": 4}, {}, 4),
    ("mystery_64.npz", {"n_classes": 3, "side": 64}, {}, 3),
    ("mystery.npz", {"n_classes": 3}, {"class_names": ["a", "b", "c", "d"]}, 4),
    ("chestmnist.npz", {"n_labels": 14}, {}, 14),
    ("chestmnist.npz", {"n_labels": 14}, {"any_finding": True}, 2),
])
def test_medmnist_names_match_the_loader(tmp_path, file_name, kwargs, options, n_names):
    path = write_medmnist(tmp_path / file_name, **kwargs)
    names = dataset_classes("medmnist", path, options)
    assert names == load_medmnist(path, **options, **QUIET).class_names and len(names) == n_names


def test_medmnist_too_few_names_is_an_error_before_loading(tmp_path):
    path = write_medmnist(tmp_path / "mystery.npz", n_classes=3, counts=(30, 4, 6))
    with pytest.raises(ValueError, match="labels need 3 class names, got 2"):
        dataset_classes("medmnist", path, {"class_names": ["a", "b"]})


def test_unknown_option_is_named_with_a_suggestion_and_the_allowed_list():
    with pytest.raises(ValueError) as error:
        check_loader_options("kermany_chest_xray", {"size": 32, "n_train_per_clas": 5, "colour": True})
    message = str(error.value)
    assert "'n_train_per_clas' (did you mean 'n_train_per_class'?)" in message
    assert "'colour'" in message and "'colour' (did you mean" not in message
    assert message.endswith("allowed: " + ", ".join(get_loader("kermany_chest_xray").options) + ".")
    assert "'size'" not in message.split("allowed")[0]
    check_loader_options("kermany_chest_xray", {"size": 32, "n_train_per_class": 5})
    with pytest.raises(ValueError, match="'classes'"):
        dataset_classes("isic2018", "anywhere", {"classes": ["MEL"]})


def test_unknown_loader_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"Unknown dataset loader 'load_covidx' \(did you mean 'covidx'\?\); available: "):
        check_loader_options("load_covidx", {})
    with pytest.raises(ValueError, match="Unknown dataset loader 'mnist'"):
        dataset_classes("mnist", "x", {})


def test_load_dataset_checks_then_loads(tmp_path, book):
    root = make_class_folders(tmp_path / "set", book, ("a", "b"), n_per_class=4)
    data = load_dataset("image_folders", root, {"size": 4, "test_fraction": 0.5, **QUIET})
    assert data.class_names == ("a", "b") and len(data.test) == 4
    np.testing.assert_array_equal(np.bincount(data.train.y), [2, 2])
    with pytest.raises(ValueError, match="'tset_fraction' \\(did you mean 'test_fraction'\\?\\)"):
        load_dataset("image_folders", root, {"tset_fraction": 0.5})


def test_registry_functions_are_the_package_loaders():
    import art_medical.data as data

    for name, entry in LOADERS.items():
        assert getattr(data, f"load_{name}") is entry.function
