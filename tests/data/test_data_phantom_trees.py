"""Phantom datasets in the real on-disk layouts, read back through the real loaders."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from art_medical.data import (
    dataset_classes,
    load_dataset,
    make_chest_xray_phantoms,
    make_phantoms,
    phantom_loader_options,
    write_phantom_tree,
)
from art_medical.data import covidx, folders, isic, kermany, phantom_trees
from art_medical.data.phantom_trees import LAYOUTS

A, B, SIZE, SEED = 5, 3, 32, 7  # training pool and test images per class, image side, seed
GENERIC = ("benign", "malignant", "artefact")
RGB_LAYOUTS = ("isic2018", "covid_ct", "image_folders", "image_csv")
QUIET = {"verbose": False, "workers": 2}


def _uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def expected_images(layout: str) -> dict[str, np.ndarray]:
    """Loader class name -> the phantoms the writer must have put in that class (the specification)."""
    n = A + B

    def chest(kinds):
        x, y, _ = make_chest_xray_phantoms(n, size=SIZE, classes=tuple(kinds), seed=SEED)
        return [_uint8(x[y == k]) for k in range(len(kinds))]

    def patterns(k, channels):
        x, y, _ = make_phantoms(n, k, size=SIZE, channels=channels, seed=SEED)
        return [_uint8(x[y == c]) for c in range(k)]

    if layout == "kermany_chest_xray":
        return dict(zip(kermany.CHEST_XRAY_CLASSES, chest(("normal", "pneumonia"))))
    if layout == "kermany_oct":
        return dict(zip(kermany.OCT_CLASSES, patterns(4, 1)))
    if layout == "isic2018":
        return dict(zip(isic.CLASSES, patterns(7, 3)))
    if layout == "covidx":
        return dict(zip(covidx.CLASSES, chest(("normal", "pneumonia", "covid"))))
    if layout == "chestxray14":
        normal, pneumonia, covid = chest(("normal", "pneumonia", "covid"))
        return {"no finding": normal, "disease": np.concatenate([pneumonia[0::2], covid[1::2]])}
    if layout == "covid_ct":
        return dict(zip(folders.COVID_CT_CLASSES, patterns(2, 3)))
    if layout == "covid19_xray":  # the loader's default classes: the study 004 pair
        covid, normal, _, _ = chest(("covid", "normal", "pneumonia", "pneumonia"))
        return {"COVID-19": covid, "Normal": normal}
    return dict(sorted(zip(GENERIC, patterns(3, 3))))  # class k is GENERIC[k]; the loader sorts the names


def write_and_load(tmp_path, layout, val_fraction=None):
    classes = GENERIC if layout in phantom_trees.GENERIC_LAYOUTS else None
    root = write_phantom_tree(layout, tmp_path / layout, n_train_per_class=A, n_test_per_class=B, size=SIZE,
                              seed=SEED, classes=classes)
    options = phantom_loader_options(layout, n_train_per_class=A, n_test_per_class=B, val_fraction=val_fraction,
                                     classes=classes)
    channels = 3 if layout in RGB_LAYOUTS else 1
    data = load_dataset(layout, root, {**options, "size": SIZE, "channels": channels, **QUIET})
    return root, data


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tree_loads_with_the_written_counts_classes_and_phantoms(tmp_path, layout):
    root, data = write_and_load(tmp_path, layout)
    expected = expected_images(layout)
    assert data.class_names == tuple(expected)
    assert dataset_classes(layout, root, {}) == data.class_names
    n_classes = len(expected)
    n_pool = sum(len(s) for name, s in data.splits.items() if name != "test")
    assert (n_pool, len(data.test)) == (n_classes * A, n_classes * B)
    if layout in ("kermany_chest_xray", "kermany_oct", "covidx", "covid_ct", "image_folders", "image_csv"):
        assert np.bincount(data.train.y, minlength=n_classes).tolist() == [A] * n_classes
        assert np.bincount(data.test.y, minlength=n_classes).tolist() == [B] * n_classes
    if layout == "covid19_xray":  # the loader carves 10% of the training pool for validation
        pool = np.concatenate([data.train.y, data.val.y])
        assert np.bincount(pool).tolist() == [A, A] and np.bincount(data.test.y).tolist() == [B, B]
    # Every loaded image is a distinct written phantom of its own class: exact for PNG, close for JPEG
    # (quality 95; the pixel noise of the RGB phantoms costs about 4 levels).
    reference = np.concatenate(list(expected.values())).astype(np.float32)
    reference_class = np.repeat(np.arange(n_classes), [len(v) for v in expected.values()])
    matched = []
    for split in data.splits.values():
        assert split.x.reshape(len(split), -1).std(axis=1).min() > 10.0, "phantoms, not uniform images"
        for image, label, name in zip(split.x, split.y, split.files):
            image = image if reference.shape[-1] == 3 else image[..., :1]
            distance = np.abs(reference - image).mean(axis=(1, 2, 3))
            nearest = int(distance.argmin())
            assert reference_class[nearest] == label, name
            assert distance[nearest] == 0.0 if name.endswith(".png") else distance[nearest] < 6.0, name
            matched.append(nearest)
    assert len(set(matched)) == len(matched) == n_classes * (A + B)


@pytest.mark.parametrize("layout,val", [("kermany_oct", 0.2), ("covid_ct", 0.2), ("covidx", 0.4),
                                        ("chestxray14", 0.3), ("image_csv", 0.2)])
def test_validation_is_carved_from_the_training_pool(tmp_path, layout, val):
    _, data = write_and_load(tmp_path, layout, val_fraction=val)
    n_classes = len(data.class_names)
    assert len(data.val) == round(val * n_classes * A)
    assert len(data.train) + len(data.val) == n_classes * A and len(data.test) == n_classes * B
    if layout != "chestxray14":
        assert np.bincount(data.val.y).tolist() == [round(val * A)] * n_classes


def test_chestxray14_keeps_the_study_validation_share_by_default():
    options = phantom_loader_options("chestxray14", n_train_per_class=50, n_test_per_class=10)
    assert options == {"n_test": 20, "n_val": 15}
    assert phantom_trees.CHESTXRAY14_VAL_SHARE == pytest.approx(16792 / 111920)


@pytest.mark.parametrize("layout,expected", [
    ("kermany_chest_xray", {"n_train_per_class": 4, "n_test_per_class": 2}),
    ("isic2018", {"n_train": 28, "n_test": 14}),
    ("covidx", {}),
    ("covid19_xray", {"test_fraction": 2 / 6}),
])
def test_loader_options_leave_validation_to_the_loader_unless_asked(layout, expected):
    assert phantom_loader_options(layout, n_train_per_class=4, n_test_per_class=2) == expected
    with_val = phantom_loader_options(layout, n_train_per_class=4, n_test_per_class=2, val_fraction=0.25)
    assert with_val == {**expected, "val_fraction": 0.25}


def test_kermany_files_sit_in_their_split_and_class_folders(tmp_path):
    root = write_phantom_tree("kermany_chest_xray", tmp_path / "k", n_train_per_class=A, n_test_per_class=B)
    for split, count in (("train", A), ("test", B)):
        for cls in kermany.CHEST_XRAY_CLASSES:
            files = list((root / "CellData" / "chest_xray" / split / cls).glob("*.jpeg"))
            assert len(files) == count
            assert Image.open(files[0]).mode == "L"


def test_covidx_split_files_and_top_band(tmp_path):
    root = write_phantom_tree("covidx", tmp_path / "c", n_train_per_class=A, n_test_per_class=B, size=SIZE)
    lines = (root / "train_split_v3.txt").read_text().splitlines()
    assert len(lines) == 3 * A and (root / "test_split_v3.txt").read_text().count("\n") == 3 * B
    entries = [covidx.parse_split_line(line) for line in lines]
    assert all(e is not None and e.source is None for e in entries)
    assert any(" " in e.filename for e in entries), "some file names contain spaces"
    image = Image.open(root / "train" / entries[0].filename)
    assert image.size == (SIZE, SIZE + SIZE // 5)
    without_crop = load_dataset("covidx", root, {"crop_top": 0.0, "size": SIZE, "channels": 1, **QUIET})
    _, cropped = write_and_load(tmp_path, "covidx")
    assert np.abs(without_crop.train.x - cropped.train.x).mean() > 5.0, "the band is what the crop removes"


def test_chestxray14_table_has_the_real_header_and_mixed_findings(tmp_path):
    root = write_phantom_tree("chestxray14", tmp_path / "x", n_train_per_class=A, n_test_per_class=B)
    with open(root / "Data_Entry_2017.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert ",".join(rows[0]) == phantom_trees.CHESTXRAY14_HEADER
    findings = [row[1] for row in rows[1:]]
    assert findings.count("No Finding") == A + B and len(findings) == 2 * (A + B)
    assert any("|" in f for f in findings) and any(f != "No Finding" and "|" not in f for f in findings)
    folders_used = {p.parent.parent.name for p in root.rglob("*.png")}
    assert folders_used == {"images_001", "images_002"}


def test_isic_ground_truth_is_one_hot_in_its_folder(tmp_path):
    root = write_phantom_tree("isic2018", tmp_path / "i", n_train_per_class=2, n_test_per_class=1)
    table = root / "ISIC2018_Task3_Training_GroundTruth" / "ISIC2018_Task3_Training_GroundTruth.csv"
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 21
    assert all(sorted(float(row[c]) for c in isic.CLASSES) == [0.0] * 6 + [1.0] for row in rows)
    assert Image.open(root / "ISIC2018_Task3_Training_Input" / f"{rows[0]['image']}.jpg").mode == "RGB"


def test_image_csv_returns_the_csv_and_same_seed_same_tree(tmp_path):
    first = write_phantom_tree("image_csv", tmp_path / "a", n_train_per_class=2, n_test_per_class=1,
                               classes=GENERIC, seed=3)
    second = write_phantom_tree("image_csv", tmp_path / "b", n_train_per_class=2, n_test_per_class=1,
                                classes=GENERIC, seed=3)
    assert first.name == "labels.csv" and first.read_text().splitlines()[0] == "file,label"
    assert first.read_text() == second.read_text()
    for name in first.read_text().splitlines()[1:]:
        path = name.split(",")[0]
        assert (first.parent / path).read_bytes() == (second.parent / path).read_bytes()


@pytest.mark.parametrize("kwargs,message", [
    ({"layout": "kermany"}, "Unknown phantom layout 'kermany'"),
    ({"n_train_per_class": 0}, "n_train_per_class must be a positive integer"),
    ({"n_test_per_class": 1.5}, "n_test_per_class must be a positive integer"),
    ({"classes": ("a", "b")}, "fixed class names"),
    ({"layout": "image_folders"}, "needs classes="),
    ({"layout": "image_folders", "classes": ("a", "a")}, "distinct"),
    ({"layout": "image_csv", "classes": ("a", "b/c")}, "folder names and CSV cells"),
])
def test_bad_arguments_raise_and_write_nothing(tmp_path, kwargs, message):
    params = {"layout": "covid_ct", "root": tmp_path / "tree", "n_train_per_class": 2, "n_test_per_class": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        write_phantom_tree(**params)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_must_be_empty(tmp_path):
    (tmp_path / "tree").mkdir()
    root = write_phantom_tree("covid_ct", tmp_path / "tree", n_train_per_class=1, n_test_per_class=1)
    assert len(list(root.rglob("*.png"))) == 4
    with pytest.raises(ValueError, match="not an empty folder"):
        write_phantom_tree("covid_ct", root, n_train_per_class=1, n_test_per_class=1)


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    original = Image.Image.save

    def failing_save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        write_phantom_tree("covid19_xray", tmp_path / "tree", n_train_per_class=2, n_test_per_class=1)
    assert list(tmp_path.iterdir()) == []
