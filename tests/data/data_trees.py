"""Writers of small dataset trees in the on-disk layouts users have (used by conftest.py and tests).

Every image is uniform gray (or uniform colour) with a value unique to the file, so a test can check
that each loaded image, label and file name belong together: resizing a uniform image keeps its value.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 12  # tiny images keep the tests fast


def write_image(path: Path, value: int, mode: str = "L", side: int = SIDE) -> Path:
    """A uniform image (value 0-255) saved in the format of the file suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fill = value if mode == "L" else (value, 255 - value, value // 2)
    Image.new(mode, (side, side), fill).save(path)
    return path


def write_truncated_jpeg(path: Path) -> Path:
    """A JPEG cut in half: Pillow opens it but cannot decode it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64), dtype=np.uint8)).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


class ValueBook:
    """Remembers the gray value written to each file (by path relative to the dataset root)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self._next = 10

    def new(self, root: Path, path: Path, mode: str = "L", side: int = SIDE) -> Path:
        value = self._next
        self._next = 10 + (self._next - 9) % 240
        self.values[path.relative_to(root).as_posix()] = value
        return write_image(path, value, mode, side)

    def check(self, split) -> None:
        """Every image of the split has the value written to its file (JPEG: within 3 levels)."""
        assert len(split.files) == len(split.x)
        for image, name in zip(split.x, split.files):
            assert abs(float(image[..., 0].mean()) - self.values[name]) < 3.0, name


def make_kermany(root: Path, book: ValueBook, counts: dict[str, dict[str, int]], modality: str = "chest_xray") -> Path:
    """``root/CellData/<modality>/<split>/<CLASS>/*.jpeg`` with ``counts[split][class]`` images."""
    base = root / "CellData" / modality
    for split, per_class in counts.items():
        for cls, n in per_class.items():
            folder = base / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                book.new(base, folder / f"{cls.lower()}-{split}-{i}.jpeg")
    return root


def make_isic(root: Path, book: ValueBook) -> Path:
    """ISIC 2018 task 3: 3 RGB JPEGs per class and the one-hot ground-truth CSV in its own folder."""
    from art_medical.data.isic import CLASSES

    rows = []
    for label, _ in enumerate(CLASSES):
        for i in range(3):
            image_id = f"ISIC_{label:02d}{i:05d}"
            book.new(root, root / "ISIC2018_Task3_Training_Input" / f"{image_id}.jpg", mode="RGB")
            rows.append([image_id] + [f"{float(k == label):.1f}" for k in range(len(CLASSES))])
    (root / "ISIC2018_Task3_Training_Input" / "ATTRIBUTION.txt").write_text("not an image")
    write_csv(root / "ISIC2018_Task3_Training_GroundTruth" / "ISIC2018_Task3_Training_GroundTruth.csv",
              ["image", *CLASSES], rows)
    return root


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xray_with_dark_top(path: Path, side: int = SIDE) -> Path:
    """White image whose top sixth is black: the COVID-Net crop leaves it all white."""
    pixels = np.full((side, side), 255, dtype=np.uint8)
    pixels[: side // 6] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).convert("RGB").save(path)
    return path


def make_covidx(root: Path) -> Path:
    """COVIDx: 3-column train file (names with spaces) and 4-column test file (source column)."""
    train_lines, test_lines = [], []
    labels = ["normal", "pneumonia", "COVID-19"]
    for i in range(9):
        name = f"img {i} of set.png" if i % 3 == 0 else f"img{i}.png"
        write_xray_with_dark_top(root / "train" / name)
        train_lines.append(f"{100 + i} {name} {labels[i % 3]}")
    for i in range(6):
        name = f"test {i}.png"
        write_xray_with_dark_top(root / "test" / name)
        test_lines.append(f"P{i} {name} {labels[i % 3]} cohen")
    (root / "train_COVIDx.txt").write_text("\n".join(train_lines) + "\n")
    (root / "test_COVIDx.txt").write_text("\n".join(test_lines) + "\n\n")
    return root


def make_chestxray14(root: Path, book: ValueBook) -> Path:
    """ChestX-ray14: 20 PNGs over two archive folders and Data_Entry_2017.csv."""
    findings = ["No Finding", "Effusion", "Atelectasis|Mass", "No Finding", "Hernia"]
    rows = []
    for i in range(20):
        name = f"{i:08d}_000.png"
        book.new(root, root / f"images_{1 + i // 10:03d}" / "images" / name)
        rows.append([name, findings[i % 5], "0", str(i), "50", "M", "PA"])
    write_csv(root / "Data_Entry_2017.csv",
              ["Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age", "Patient Gender",
               "View Position"], rows)
    return root


def make_class_folders(root: Path, book: ValueBook, classes: tuple[str, ...], n_per_class: int = 10) -> Path:
    """One folder of ``n_per_class`` PNGs per class (curated COVID-19 X-ray set, COVID-CT)."""
    for cls in classes:
        for i in range(n_per_class):
            book.new(root, root / cls / f"{cls}-{i}.png")
    return root


def write_medmnist(path: Path, side: int = 28, rgb: bool = False, n_labels: int = 1, n_classes: int = 2,
                   counts: tuple[int, int, int] = (12, 4, 6), seed: int = 0) -> Path:
    """A MedMNIST-style npz: uint8 images and (N, n_labels) integer labels per split."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in zip(("train", "val", "test"), counts):
        shape = (n, side, side, 3) if rgb else (n, side, side)
        arrays[f"{split}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        high = 2 if n_labels > 1 else n_classes
        arrays[f"{split}_labels"] = rng.integers(0, high, (n, n_labels)).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path
