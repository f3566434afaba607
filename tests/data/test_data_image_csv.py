"""Image lists in a ``file,label`` CSV: column names, paths, class order, splits and clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from data_trees import ValueBook

from art_medical.data import SkippedFilesWarning, load_image_csv
from art_medical.data.image_csv import csv_class_names, read_image_csv

QUIET = {"verbose": False, "workers": 2}


def write_list(folder, book: ValueBook, rows, header="file,label", base=None):
    """Write an image (unique gray value) for every row's file and the CSV; ``base``: where files go."""
    base = base or folder
    for file, _ in rows:
        if file and not file.startswith("missing"):
            book.new(base, base / file)
    table = folder / "list.csv"
    table.write_text("\n".join([header, *(f"{file},{label}" for file, label in rows)]) + "\n")
    return table


@pytest.fixture
def listed(tmp_path, book):
    rows = [(f"img/{cls}_{i}.png", cls) for cls in ("tumour", "healthy", "cyst") for i in range(5)]
    return write_list(tmp_path, book, rows)


def test_labels_files_and_stratified_split(listed, book):
    data = load_image_csv(listed, size=6, channels=1, test_fraction=0.4, seed=2, **QUIET)
    assert data.class_names == ("cyst", "healthy", "tumour") and data.name == "image_csv"
    assert data.train.x.shape == (9, 6, 6, 1) and data.val is None
    assert np.bincount(data.test.y).tolist() == [2, 2, 2] and np.bincount(data.train.y).tolist() == [3, 3, 3]
    for split in data.splits.values():
        book.check(split)
        assert all(name.split("/")[1].split("_")[0] == data.class_names[y] for name, y in zip(split.files, split.y))
    again = load_image_csv(listed, size=6, channels=1, test_fraction=0.4, seed=2, **QUIET)
    assert again.test.files == data.test.files
    other = load_image_csv(listed, size=6, channels=1, test_fraction=0.4, seed=3, **QUIET)
    assert set(other.test.files) != set(data.test.files)


def test_classes_give_the_label_order_and_validation_is_carved(listed):
    data = load_image_csv(listed, classes=("tumour", "healthy", "cyst"), size=4, test_fraction=0.2,
                          val_fraction=0.25, **QUIET)
    assert data.class_names == ("tumour", "healthy", "cyst")
    assert all(name.split("/")[1].startswith(data.class_names[y]) for name, y in zip(data.val.files, data.val.y))
    assert np.bincount(data.val.y).tolist() == [1, 1, 1] and len(data.train) == 9 and len(data.test) == 3


@pytest.mark.parametrize("header,row", [("filename,class", "{f},{c}"), ("Path,Label", "{f},{c}"),
                                        (" FILE , CLASS ", "{f},{c}"), ("id,path,site,label", "7,{f},s,{c}")])
def test_accepted_column_names(tmp_path, book, header, row):
    rows = [(f"a{i}.png", "x" if i % 2 else "y") for i in range(4)]
    for file, _ in rows:
        book.new(tmp_path, tmp_path / file)
    table = tmp_path / "list.csv"
    table.write_text(header + "\n" + "".join(row.format(f=f, c=c) + "\n" for f, c in rows))
    assert [(e.file, e.label) for e in read_image_csv(table)] == rows
    data = load_image_csv(table, size=4, test_fraction=0.5, **QUIET)
    assert data.class_names == ("x", "y") and len(data.train) == len(data.test) == 2
    book.check(data.train)


def test_paths_relative_to_root_or_absolute(tmp_path, book):
    images = tmp_path / "images"
    rows = [(f"{c}{i}.png", c) for c in "ab" for i in range(2)]
    (tmp_path / "tables").mkdir()
    table = write_list(tmp_path / "tables", book, rows, base=images)
    with pytest.raises(FileNotFoundError, match=r"list.csv, line 2: image 'a0.png' not found"):
        load_image_csv(table, size=4, test_fraction=0.5, **QUIET)
    data = load_image_csv(table, root=images, size=4, test_fraction=0.5, **QUIET)
    assert sorted(data.train.files + data.test.files) == sorted(f for f, _ in rows)
    absolute = tmp_path / "tables" / "abs.csv"
    absolute.write_text("file,label\n" + "".join(f"{images / f},{c}\n" for f, c in rows))
    assert len(load_image_csv(absolute, size=4, test_fraction=0.5, **QUIET).train) == 2


def test_missing_file_raises_naming_it_or_is_skipped(tmp_path, book):
    rows = [(f"p{i}.png", "a" if i % 2 else "b") for i in range(6)] + [("missing one.png", "a")]
    table = write_list(tmp_path, book, rows)
    with pytest.raises(FileNotFoundError, match=r"line 8: image 'missing one.png' not found"):
        load_image_csv(table, size=4, **QUIET)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        data = load_image_csv(table, size=4, test_fraction=1 / 3, on_error="skip", **QUIET)
    assert len(data.train) + len(data.test) == 6 and data.skipped[0][0].endswith("missing one.png")


def test_blank_lines_are_ignored(tmp_path, book):
    table = write_list(tmp_path, book, [("a.png", "x"), ("b.png", "y")])
    table.write_text("file,label\n\na.png,x\n,\nb.png,y\n")
    assert [(e.line, e.file) for e in read_image_csv(table)] == [(3, "a.png"), (5, "b.png")]


@pytest.mark.parametrize("text,error,message", [
    ("", ValueError, "is empty"),
    ("file,label\n", ValueError, "lists no images"),
    ("image,label\na.png,x\n", ValueError, r"missing a file column \(one of file, filename, path\)"),
    ("file,diagnosis\na.png,x\n", ValueError, r"missing a label column \(one of label, class\)"),
    ("file,path,label\na.png,a.png,x\n", ValueError, r"several file columns \['file', 'path'\]"),
    ("file,label\na.png,x\nb.png,\n", ValueError, r"line 3: empty 'file' or 'label'"),
    ("file,label\na.png,x\na.png,y\n", ValueError, r"line 3: file 'a.png' is listed twice \(first on line 2\)"),
])
def test_bad_tables(tmp_path, text, error, message):
    table = tmp_path / "list.csv"
    table.write_text(text)
    with pytest.raises(error, match=message):
        load_image_csv(table, **QUIET)


def test_classes_must_cover_the_labels_and_the_labels_the_classes(listed):
    with pytest.raises(ValueError, match=r"line \d+: unknown class 'cyst'; classes are \['tumour', 'healthy'\]"):
        load_image_csv(listed, classes=("tumour", "healthy"), **QUIET)
    with pytest.raises(ValueError, match=r"no row has class\(es\) \['polyp'\]"):
        csv_class_names(listed, ("tumour", "healthy", "cyst", "polyp"))
    with pytest.raises(ValueError, match="distinct"):
        csv_class_names(listed, ("tumour", "tumour"))


def test_missing_csv_or_root(tmp_path, listed):
    with pytest.raises(FileNotFoundError, match="Image list CSV not found"):
        load_image_csv(tmp_path / "absent.csv", **QUIET)
    with pytest.raises(FileNotFoundError, match="Dataset folder not found"):
        load_image_csv(listed, root=tmp_path / "nowhere", **QUIET)
