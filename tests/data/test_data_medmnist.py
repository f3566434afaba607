"""MedMNIST / MedMNIST+ npz files: any size suffix, gray or RGB, multi-label, resizing."""
from __future__ import annotations

import numpy as np
import pytest
from data_trees import write_medmnist

from art_medical.data import load_medmnist
from art_medical.data import medmnist

QUIET = {"verbose": False, "workers": 2}


@pytest.mark.parametrize("file_name,rgb", [("pneumoniamnist.npz", False), ("dermamnist_64.npz", True)])
def test_native_size_keeps_pixels_and_labels(tmp_path, file_name, rgb):
    side = 64 if "_64" in file_name else 28
    path = write_medmnist(tmp_path / file_name, side=side, rgb=rgb, n_classes=7 if rgb else 2)
    raw = np.load(path)
    data = load_medmnist(path, **QUIET)
    channels = 3 if rgb else 1
    assert data.name == f"medmnist_{file_name.split('.')[0].split('_')[0]}"
    assert data.class_names == medmnist.CLASS_NAMES[medmnist.dataset_name(path)]
    for split in ("train", "val", "test"):
        got = data.splits[split]
        assert got.x.shape == (len(raw[f"{split}_labels"]), side, side, channels) and got.x.dtype == np.float32
        np.testing.assert_array_equal(got.x.reshape(raw[f"{split}_images"].shape), raw[f"{split}_images"])
        np.testing.assert_array_equal(got.y, raw[f"{split}_labels"][:, 0])


def test_resize_and_channel_conversion(tmp_path):
    path = write_medmnist(tmp_path / "octmnist_128.npz", side=16, n_classes=4)
    gray_to_rgb = load_medmnist(path, channels=3, **QUIET)
    assert gray_to_rgb.train.x.shape == (12, 16, 16, 3)
    np.testing.assert_array_equal(gray_to_rgb.train.x[..., 0], gray_to_rgb.train.x[..., 2])
    resized = load_medmnist(path, size=8, **QUIET)
    assert resized.test.x.shape == (6, 8, 8, 1)
    raw = np.load(path)["test_images"].astype(float)
    assert np.abs(resized.test.x.mean(axis=(1, 2, 3)) - raw.mean(axis=(1, 2))).max() < 4


def test_rgb_to_gray_uses_luma(tmp_path):
    path = write_medmnist(tmp_path / "dermamnist.npz", side=8, rgb=True, n_classes=7)
    raw = np.load(path)["train_images"].astype(float)
    gray = load_medmnist(path, channels=1, **QUIET).train.x[..., 0]
    np.testing.assert_allclose(gray, raw @ [0.299, 0.587, 0.114], atol=1)


def test_multi_label_and_any_finding(tmp_path):
    path = write_medmnist(tmp_path / "chestmnist_64.npz", side=8, n_labels=14)
    raw = np.load(path)["val_labels"]
    data = load_medmnist(path, **QUIET)
    assert data.val.y.shape == (4, 14) and len(data.class_names) == 14
    np.testing.assert_array_equal(data.val.y, raw)
    binary = load_medmnist(path, any_finding=True, **QUIET)
    assert binary.class_names == ("no finding", "disease")
    np.testing.assert_array_equal(binary.val.y, raw.any(axis=1))


def test_unknown_file_gets_numbered_class_names(tmp_path):
    path = write_medmnist(tmp_path / "organamnist_224.npz", side=8, n_classes=3)
    assert load_medmnist(path, **QUIET).class_names == ("0", "1", "2")


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_medmnist(tmp_path / "absent.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="garbage.npz"):
        load_medmnist(tmp_path / "garbage.npz")
    np.savez(tmp_path / "partial.npz", train_images=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(ValueError, match=r"missing array\(s\) \['train_labels'"):
        load_medmnist(tmp_path / "partial.npz")
    arrays = {f"{s}_{k}": np.zeros((2, 8, 8), np.float32) if k == "images" else np.zeros((2, 1), np.int64)
              for s in ("train", "val", "test") for k in ("images", "labels")}
    np.savez(tmp_path / "floats.npz", **arrays)
    with pytest.raises(ValueError, match="must hold uint8 images"):
        load_medmnist(tmp_path / "floats.npz")
    arrays = {**arrays, **{f"{s}_images": np.zeros((2, 8, 8), np.uint8) for s in ("train", "val", "test")}}
    arrays["test_labels"] = np.zeros((3, 1), np.int64)
    np.savez(tmp_path / "mismatch.npz", **arrays)
    with pytest.raises(ValueError, match=r"'test_labels' must have shape \(2, 1\)"):
        load_medmnist(tmp_path / "mismatch.npz")
    with pytest.raises(ValueError, match="need 3 class names"):
        load_medmnist(write_medmnist(tmp_path / "x.npz", side=8, n_classes=3), class_names=("a", "b"), **QUIET)
