"""Synthetic phantom datasets written in the on-disk layouts of the studies' real datasets.

:func:`write_phantom_tree` writes ``n_train_per_class + n_test_per_class`` images of every class as
8-bit PNG / JPEG files in one of the layouts the loaders read (:data:`LAYOUTS`, named as in
:mod:`art_medical.data.catalog`), so a study can run end to end, smoke-sized, through its real loader.
Chest X-ray classes are the chest phantoms of :func:`~art_medical.data.synthetic.make_chest_xray_phantoms`
(normal / pneumonia / covid patterns); OCT, skin-lesion, CT and generic classes are the lesion
textures of :func:`~art_medical.data.synthetic.make_phantoms`.

Each loader splits with its study's logic; :func:`phantom_loader_options` gives the options with
which the counts come out as written (``n_train_per_class`` per class is the training pool, from which
the loader's ``val_fraction``, or ChestX-ray14's ``n_val``, carves the validation split). The
options a smoke run must pass (a = ``n_train_per_class``, b = ``n_test_per_class``):

- ``kermany_chest_xray``, ``kermany_oct``: ``n_train_per_class=a, n_test_per_class=b`` (balanced draw
  from the pooled ``train/`` and ``test/`` folders: exactly a and b per class).
- ``isic2018``: ``n_train=7a, n_test=7b`` (a random split, not stratified: per-class counts vary).
- ``covidx``: none (the split files list a and b per class).
- ``chestxray14``: ``n_test=2b`` and an ``n_val`` below 2a (the study's 16,792 is too many;
  :func:`phantom_loader_options` keeps study 002's share, 15%); the test draw is random, so per-class
  counts vary.
- ``covid_ct``, ``covid19_xray``, ``image_folders``, ``image_csv``: ``test_fraction=b / (a + b)``
  (stratified: exactly a and b per class); ``image_csv``'s root is the CSV file.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from art_medical.data import chestxray14, covidx, folders, isic, kermany
from art_medical.data.synthetic import PATTERNS, make_chest_xray_phantoms, make_phantoms

LAYOUTS: tuple[str, ...] = (
    "kermany_chest_xray", "kermany_oct", "isic2018", "covidx", "chestxray14", "covid_ct", "covid19_xray",
    "image_folders", "image_csv",
)
"""Layouts :func:`write_phantom_tree` writes (the names of their loaders in the catalog)."""
GENERIC_LAYOUTS: tuple[str, ...] = ("image_folders", "image_csv")
"""Layouts whose class names the caller chooses (``classes=``)."""
IMAGE_CSV = "labels.csv"
"""File name of the ``image_csv`` layout's table."""
CHESTXRAY14_HEADER = ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
                      "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],")
"""The header of the real ``Data_Entry_2017.csv`` (unquoted brackets split two columns; trailing comma)."""
CHESTXRAY14_VAL_SHARE: float = chestxray14.N_VAL / (112_120 - chestxray14.N_TEST)
"""Study 002's validation share of the ChestX-ray14 images left after the test draw (112,120 in all)."""
_SINGLE_FINDINGS = ("Pneumonia", "Consolidation", "Infiltration", "Effusion")
_JOINED_FINDINGS = ("Effusion|Infiltration", "Atelectasis|Consolidation|Edema", "Infiltration|Pneumonia",
                    "Mass|Nodule")
_Files = dict[str, "np.ndarray | str"]


def _uint8(x: np.ndarray) -> list[np.ndarray]:
    """8-bit images ``(H, W)`` (grayscale) or ``(H, W, 3)``, as the files store them."""
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return list(x[..., 0] if x.shape[-1] == 1 else x)


def _chest(kinds: Sequence[str], n_per_class: int, size: int, seed: int) -> list[list[np.ndarray]]:
    """Per entry of ``kinds`` (``normal`` / ``pneumonia`` / ``covid``), ``n_per_class`` grayscale phantoms."""
    x, y, _ = make_chest_xray_phantoms(n_per_class, size=size, classes=tuple(kinds), seed=seed)
    return [_uint8(x[y == k]) for k in range(len(kinds))]


def _patterns(num_classes: int, n_per_class: int, size: int, channels: int, seed: int) -> list[list[np.ndarray]]:
    """Per class, ``n_per_class`` lesion phantoms of :func:`make_phantoms`."""
    x, y, _ = make_phantoms(n_per_class, num_classes, size=size, channels=channels, seed=seed)
    return [_uint8(x[y == k]) for k in range(num_classes)]


def _kermany(images: list[list[np.ndarray]], classes: Sequence[str], modality: str, n_train: int) -> _Files:
    files: _Files = {}
    for cls, class_images in zip(classes, images):
        for i, image in enumerate(class_images):
            split = "train" if i < n_train else "test"
            if modality == "OCT":
                name = f"{cls}-{1000 + i}-{i % 3 + 1}.jpeg"
            elif cls == "NORMAL":
                name = f"IM-{100 + i:04d}-0001.jpeg"
            else:
                name = f"person{i + 1}_{('bacteria', 'virus')[i % 2]}_{i + 2}.jpeg"
            files[f"CellData/{modality}/{split}/{cls}/{name}"] = image
    return files


def _isic(images: list[list[np.ndarray]], seed: int) -> _Files:
    items = [(label, image) for label, class_images in enumerate(images) for image in class_images]
    order = np.random.default_rng(seed).permutation(len(items))
    files: _Files = {}
    rows = ["image," + ",".join(isic.CLASSES)]
    for number, index in enumerate(order):
        label, image = items[index]
        image_id = f"ISIC_{24306 + number:07d}"
        files[f"{isic.IMAGES_FOLDER}/{image_id}.jpg"] = image
        rows.append(image_id + "," + ",".join("1.0" if k == label else "0.0" for k in range(len(isic.CLASSES))))
    files[f"{isic.IMAGES_FOLDER}/ATTRIBUTION.txt"] = "Synthetic phantoms written by art_medical.\n"
    files[f"{isic.IMAGES_FOLDER}/LICENSE.txt"] = "Synthetic data, no licence restrictions.\n"
    files[f"{isic.LABELS_CSV.removesuffix('.csv')}/{isic.LABELS_CSV}"] = "\n".join(rows) + "\n"
    return files


def _with_top_band(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add ``size // 5`` rows on top: COVID-Net's crop of the top sixth then removes exactly them."""
    band = rng.normal(40, 10, size=(image.shape[0] // 5, image.shape[1])).clip(0, 255).astype(np.uint8)
    band[1:3, 2 : image.shape[1] // 3] = 250  # a burnt-in text marker, as on real radiographs
    return np.concatenate([band, image], axis=0)


def _covidx(images: list[list[np.ndarray]], n_train: int, seed: int) -> _Files:
    rng = np.random.default_rng(seed)
    files: _Files = {}
    lines: dict[str, list[str]] = {"train": [], "test": []}
    patient = 1
    for label, class_images in zip(covidx.CLASSES, images):
        for i, image in enumerate(class_images):
            split = "train" if i < n_train else "test"
            name = {"normal": f"{patient:05d}-normal.png", "pneumonia": f"person{patient}_bacteria_{i}.jpeg",
                    "COVID-19": f"COVID-19 ({patient}).png" if i % 2 else f"covid 19 pneumonia {patient}.jpg"}[label]
            files[f"{split}/{name}"] = _with_top_band(image, rng)
            lines[split].append(f"{patient} {name} {label}")
            patient += 1
    for split, split_lines in lines.items():
        order = rng.permutation(len(split_lines))
        files[f"{split}_split_v3.txt"] = "\n".join(split_lines[i] for i in order) + "\n"
    return files


def _chestxray14(images: list[list[np.ndarray]], seed: int) -> _Files:
    normal, pneumonia, covid = images
    files: _Files = {}
    rows = [CHESTXRAY14_HEADER]
    items = [("No Finding", image) for image in normal]
    for i in range(len(normal)):
        if i % 2:
            items.append((_JOINED_FINDINGS[i // 2 % len(_JOINED_FINDINGS)], covid[i]))
        else:
            items.append((_SINGLE_FINDINGS[i // 2 % len(_SINGLE_FINDINGS)], pneumonia[i]))
    items = [items[i] for i in np.random.default_rng(seed).permutation(len(items))]
    half = (len(items) + 1) // 2
    for number, (findings, image) in enumerate(items):
        name = f"{number // 2 + 1:08d}_{number % 2:03d}.png"
        files[f"images_{1 + number // half:03d}/images/{name}"] = image
        rows.append(f"{name},{findings},{number % 2},{number // 2 + 1},{40 + number % 30},{'MF'[number % 2]},"
                    f"{('PA', 'AP')[number % 3 == 0]},2500,2048,0.143,0.143")
    files[chestxray14.LABELS_CSV] = "\n".join(rows) + "\n"
    return files


def _folders(images: list[list[np.ndarray]], classes: Sequence[str], name: str) -> _Files:
    return {name.format(cls=cls, i=i, n=i + 1): image for cls, class_images in zip(classes, images)
            for i, image in enumerate(class_images)}


def _image_csv(images: list[list[np.ndarray]], classes: Sequence[str], seed: int) -> _Files:
    items = [(cls, image) for cls, class_images in zip(classes, images) for image in class_images]
    files: _Files = {}
    rows = ["file,label"]
    for number, index in enumerate(np.random.default_rng(seed).permutation(len(items))):
        cls, image = items[index]
        files[f"images/img_{number:04d}.png"] = image
        rows.append(f"images/img_{number:04d}.png,{cls}")
    files[IMAGE_CSV] = "\n".join(rows) + "\n"
    return files


def _plan(layout: str, a: int, b: int, size: int, seed: int, classes: tuple[str, ...] | None) -> _Files:
    """Relative path -> image (uint8 ``(H, W)`` or ``(H, W, 3)``) or text, for one layout."""
    n = a + b
    if layout == "kermany_chest_xray":
        return _kermany(_chest(("normal", "pneumonia"), n, size, seed), kermany.CHEST_XRAY_CLASSES, "chest_xray", a)
    if layout == "kermany_oct":
        return _kermany(_patterns(len(kermany.OCT_CLASSES), n, size, 1, seed), kermany.OCT_CLASSES, "OCT", a)
    if layout == "isic2018":
        return _isic(_patterns(len(isic.CLASSES), n, size, 3, seed), seed)
    if layout == "covidx":
        return _covidx(_chest(("normal", "pneumonia", "covid"), n, size, seed), a, seed)
    if layout == "chestxray14":
        return _chestxray14(_chest(("normal", "pneumonia", "covid"), n, size, seed), seed)
    if layout == "covid_ct":
        images = _patterns(len(folders.COVID_CT_CLASSES), n, size, 3, seed)
        return _folders(images, folders.COVID_CT_CLASSES, "Images-processed/{cls}/{i}%0.png")
    if layout == "covid19_xray":
        kinds = {"COVID-19": "covid", "Normal": "normal", "Pneumonia-Bacterial": "pneumonia",
                 "Pneumonia-Viral": "pneumonia"}
        images = _chest([kinds[c] for c in folders.CURATED_XRAY_CLASSES], n, size, seed)
        return _folders(images, folders.CURATED_XRAY_CLASSES, "{cls}/{cls} ({n}).jpg")
    images = _patterns(len(classes), n, size, 3, seed)
    if layout == "image_folders":
        return _folders(images, classes, "{cls}/{i:04d}.png")
    return _image_csv(images, classes, seed)


def _check(layout: str, n_train_per_class: int, n_test_per_class: int, classes: Sequence[str] | None) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown phantom layout {layout!r}; choose from {', '.join(LAYOUTS)}.")
    for name, count in (("n_train_per_class", n_train_per_class), ("n_test_per_class", n_test_per_class)):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"{name} must be a positive integer, got {count!r}.")
    if layout in GENERIC_LAYOUTS:
        if classes is None or not 1 <= len(classes) <= len(PATTERNS) or len(set(classes)) != len(classes):
            raise ValueError(f"Layout {layout!r} needs classes=: 1 to {len(PATTERNS)} distinct names, got {classes!r}.")
        bad = [c for c in classes if not isinstance(c, str) or not c or c.startswith(".") or "/" in c or "," in c]
        if bad:
            raise ValueError(f"Class names must be usable as folder names and CSV cells, got {bad}.")
    elif classes is not None:
        raise ValueError(f"Layout {layout!r} has fixed class names; classes= is only for {', '.join(GENERIC_LAYOUTS)}.")


def write_phantom_tree(
    layout: str,
    root: Path | str,
    *,
    n_train_per_class: int,
    n_test_per_class: int,
    size: int = 32,
    seed: int = 0,
    classes: Sequence[str] | None = None,
) -> Path:
    """Write a phantom dataset in the on-disk layout of ``layout`` and return what its loader takes.

    Files, per layout (``a + b`` images of every class; grayscale unless stated):

    - ``kermany_chest_xray``: ``CellData/chest_xray/{train,test}/{NORMAL,PNEUMONIA}/*.jpeg``, a images
      per class in ``train/`` and b in ``test/``; NORMAL the normal, PNEUMONIA the pneumonia phantom.
    - ``kermany_oct``: ``CellData/OCT/{train,test}/{CNV,DME,DRUSEN,NORMAL}/*.jpeg``, classes 0-3 of
      :func:`make_phantoms`.
    - ``isic2018``: RGB ``ISIC2018_Task3_Training_Input/ISIC_00xxxxx.jpg`` (ids in random order) and
      ``ISIC2018_Task3_Training_GroundTruth/ISIC2018_Task3_Training_GroundTruth.csv`` (one-hot), classes
      0-6 of :func:`make_phantoms`.
    - ``covidx``: ``train/``, ``test/`` and ``train_split_v3.txt`` / ``test_split_v3.txt`` of
      ``patientid filename label`` lines (some names with spaces), PNG and JPEG; normal / pneumonia /
      COVID-19 the chest phantoms, each image ``size + size // 5`` pixels high with a band on top that
      the COVID-Net crop of the top sixth removes exactly.
    - ``chestxray14``: ``Data_Entry_2017.csv`` (the real header) and PNGs in
      ``images_001/images/``, ``images_002/images/``; "No Finding" rows the normal phantom, disease
      rows (single findings and ``|``-joined ones) the pneumonia or covid phantom.
    - ``covid_ct``: RGB PNGs in ``Images-processed/CT_COVID/`` and ``Images-processed/CT_NonCOVID/``,
      classes 0-1 of :func:`make_phantoms`.
    - ``covid19_xray``: JPEGs ``COVID-19/COVID-19 (1).jpg``... in ``COVID-19/``, ``Normal/``,
      ``Pneumonia-Bacterial/``, ``Pneumonia-Viral/``: covid, normal, pneumonia, pneumonia phantoms.
    - ``image_folders``: RGB PNGs in one folder per name of ``classes`` (class k: pattern k).
    - ``image_csv``: RGB PNGs ``images/img_0000.png``... and ``labels.csv`` (``file,label``).

    The tree is written to a temporary folder beside ``root`` and moved into place at the end, so
    an error leaves nothing. See the module docstring (or :func:`phantom_loader_options`) for the
    loader options with which the train / test counts come out as written.

    :param layout: One of :data:`LAYOUTS`.
    :param root: Folder to create (it must not exist, or be empty).
    :param n_train_per_class: Images of every class for the training pool (validation included).
    :param n_test_per_class: Images of every class for testing.
    :param size: Side of the phantoms in pixels (>= 16).
    :param seed: Seed of the phantoms and of every file order.
    :param classes: Class names, for ``image_folders`` and ``image_csv`` only (1 to 8).
    :return: The loader's root: ``root``, or for ``image_csv`` the CSV file.
    :raises ValueError: Unknown layout, bad counts or classes, ``root`` not empty.
    """
    _check(layout, n_train_per_class, n_test_per_class, classes)
    root = Path(root).expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ValueError(f"Phantom tree folder {root} already exists and is not an empty folder.")
    files = _plan(layout, int(n_train_per_class), int(n_test_per_class), size, seed,
                  tuple(classes) if classes is not None else None)
    tmp = root.with_name(f".{root.name}.{os.getpid()}.tmp")
    try:
        for relative, content in files.items():
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            else:
                Image.fromarray(content).save(path, **({"quality": 95} if path.suffix in (".jpg", ".jpeg") else {}))
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root / IMAGE_CSV if layout == "image_csv" else root


def phantom_loader_options(
    layout: str, *, n_train_per_class: int, n_test_per_class: int, val_fraction: float | None = None,
    classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Loader options with which a tree of :func:`write_phantom_tree` loads with the counts written.

    :param val_fraction: Share of the training pool held out for validation; ``None`` leaves the
        loader's (or the configuration's) own ``val_fraction``, and for ChestX-ray14 keeps study 002's
        validation share of the non-test images (16,792 of 111,920).
    :return: Keyword arguments for the layout's loader (see the module docstring's table); size,
        channels and seed stay the caller's.
    """
    _check(layout, n_train_per_class, n_test_per_class, classes)
    if val_fraction is not None and not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}.")
    a, b = int(n_train_per_class), int(n_test_per_class)
    if layout == "chestxray14":
        share = CHESTXRAY14_VAL_SHARE if val_fraction is None else val_fraction
        return {"n_test": 2 * b, "n_val": int(round(share * 2 * a))}
    validation = {} if val_fraction is None else {"val_fraction": val_fraction}
    if layout.startswith("kermany"):
        return {"n_train_per_class": a, "n_test_per_class": b, **validation}
    if layout == "isic2018":
        return {"n_train": len(isic.CLASSES) * a, "n_test": len(isic.CLASSES) * b, **validation}
    if layout == "covidx":
        return validation
    return {"test_fraction": b / (a + b), **validation}
