"""MedMNIST / MedMNIST+ ``.npz`` files: small mirrors of the studies' sources.

PneumoniaMNIST and ChestMNIST mirror the Kermany chest X-rays (study 001) and ChestX-ray14
(study 002), OCTMNIST the Kermany OCT and DermaMNIST ISIC 2018 (study 001). A file (any size suffix:
``pneumoniamnist.npz``, ``octmnist_64.npz``, ``dermamnist_224.npz``...) holds ``train_images``,
``val_images``, ``test_images`` (``uint8``, ``(N, H, W)`` grayscale or ``(N, H, W, 3)`` RGB) and
``*_labels`` (``(N, 1)`` class indices, or ``(N, 14)`` 0/1 indicators for the multi-label ChestMNIST).
The images are read from the archive in chunks, so a large file never has to fit in memory when
streaming from the cache.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO, Iterator, Sequence

import numpy as np
from tqdm.auto import tqdm

from art_medical.data.dataset import Dataset
from art_medical.data.images import DecodedChunk, Preprocess, map_parallel, prepare_array
from art_medical.data.pipeline import LoadOptions, SplitSource, materialize

SPLITS: tuple[str, ...] = ("train", "val", "test")
CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "pneumoniamnist": ("normal", "pneumonia"),
    "octmnist": ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
    "dermamnist": (
        "actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma", "benign keratosis-like lesions",
        "dermatofibroma", "melanoma", "melanocytic nevi", "vascular lesions",
    ),
    "breastmnist": ("malignant", "normal, benign"),
    "chestmnist": (
        "atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule", "pneumonia", "pneumothorax",
        "consolidation", "edema", "emphysema", "fibrosis", "pleural", "hernia",
    ),
}
"""Class names of the MedMNIST sets closest to the studies, by file name without size suffix."""
ANY_FINDING_CLASSES: tuple[str, ...] = ("no finding", "disease")
_CHUNK_ROWS = 1024


def dataset_name(path: Path) -> str:
    """``octmnist_64.npz`` -> ``octmnist``."""
    return re.sub(r"_\d+$", "", path.stem).lower()


def _open_member(archive: zipfile.ZipFile, key: str, path: Path) -> tuple[IO[bytes], tuple[int, ...], np.dtype]:
    member = archive.open(f"{key}.npy")
    version = np.lib.format.read_magic(member)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(member)
    if fortran_order:
        member.close()
        raise ValueError(f"{path}: '{key}' is stored in Fortran order; re-save it with numpy defaults.")
    return member, tuple(shape), dtype


def _check_images(path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if dtype != np.uint8:
        raise ValueError(f"{path}: '{key}' must hold uint8 images, got {dtype}.")
    if not (len(shape) == 3 or (len(shape) == 4 and shape[-1] in (1, 3))):
        raise ValueError(f"{path}: '{key}' must have shape (N, H, W) or (N, H, W, 1 or 3), got {shape}.")


def _image_chunks(path: Path, key: str, prep: Preprocess, workers: int | None, verbose: bool) -> Iterator[DecodedChunk]:
    with zipfile.ZipFile(path) as archive:
        member, shape, dtype = _open_member(archive, key, path)
        with member, tqdm(total=shape[0], desc=f"{path.name} {key}", unit="img", disable=not verbose, leave=False) as bar:
            row_shape = shape[1:]
            row_bytes = int(np.prod(row_shape)) * dtype.itemsize
            for start in range(0, shape[0], _CHUNK_ROWS):
                rows = min(_CHUNK_ROWS, shape[0] - start)
                raw = member.read(rows * row_bytes)
                if len(raw) != rows * row_bytes:
                    raise ValueError(f"{path}: '{key}' is truncated (expected {shape[0]} images).")
                images = np.frombuffer(raw, dtype=np.uint8).reshape(rows, *row_shape)
                yield DecodedChunk(_prepare(images, prep, workers), np.arange(start, start + rows), [])
                bar.update(rows)


def _prepare(images: np.ndarray, prep: Preprocess, workers: int | None) -> np.ndarray:
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:3] == (prep.size, prep.size):
        if images.shape[-1] == prep.channels:
            return images.copy()
        if images.shape[-1] == 1:
            return np.repeat(images, 3, axis=-1)
    return np.stack(map_parallel(lambda image: prepare_array(image, prep), list(images), workers))


def _read_labels(archive: np.lib.npyio.NpzFile, key: str, n_images: int | None, path: Path) -> np.ndarray:
    labels = np.asarray(archive[key])
    if labels.ndim == 1:
        labels = labels[:, None]
    n_images = len(labels) if n_images is None else n_images
    if labels.ndim != 2 or len(labels) != n_images:
        raise ValueError(f"{path}: '{key}' must have shape ({n_images}, 1) or ({n_images}, k), got {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer) or (labels < 0).any():
        raise ValueError(f"{path}: '{key}' must hold non-negative integer labels.")
    return labels.astype(np.int64)


def _open_archive(path: Path) -> np.lib.npyio.NpzFile:
    """The opened ``.npz`` archive, checked to hold the six MedMNIST arrays."""
    if not path.is_file():
        raise FileNotFoundError(f"MedMNIST file not found: {path}")
    try:
        archive = np.load(path)
    except Exception as exc:
        raise ValueError(f"Cannot read {path} as a .npz file: {type(exc).__name__}: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single array, not a MedMNIST .npz archive.")
    expected = [f"{split}_{kind}" for split in SPLITS for kind in ("images", "labels")]
    missing = [k for k in expected if k not in archive.files]
    if missing:
        archive.close()
        raise ValueError(f"{path}: missing array(s) {missing}; a MedMNIST file holds {expected}.")
    return archive


def _class_names(path: Path, labels: dict[str, np.ndarray], class_names: Sequence[str] | None,
                 any_finding: bool) -> tuple[str, ...]:
    """Names of the labels: given, known for the file's set, or "0", "1"..., checked against the labels."""
    if any_finding:
        return tuple(class_names) if class_names is not None else ANY_FINDING_CLASSES
    multi_label = labels["train"].shape[1] > 1
    n_classes = labels["train"].shape[1] if multi_label else int(max(y.max(initial=0) for y in labels.values())) + 1
    names = tuple(class_names) if class_names is not None else CLASS_NAMES.get(
        dataset_name(path), tuple(str(i) for i in range(n_classes)))
    if len(names) < n_classes:
        raise ValueError(f"{path}: labels need {n_classes} class names, got {len(names)}: {names}.")
    return names


def medmnist_class_names(
    path: Path | str, *, class_names: Sequence[str] | None = None, any_finding: bool = False
) -> tuple[str, ...]:
    """The class names :func:`load_medmnist` gives this file, read from its label arrays only.

    No image is read, so a configuration can be checked before any data is loaded.
    """
    path = Path(path).expanduser().resolve()
    with _open_archive(path) as archive:
        labels = {split: _read_labels(archive, f"{split}_labels", None, path) for split in SPLITS}
    return _class_names(path, labels, class_names, any_finding)


def load_medmnist(
    path: Path | str,
    *,
    size: int | None = None,
    channels: int | None = None,
    class_names: Sequence[str] | None = None,
    any_finding: bool = False,
    cache_dir: Path | str | None = None,
    stream: bool = False,
    workers: int | None = None,
    verbose: bool = True,
) -> Dataset:
    """Load a MedMNIST ``.npz`` file with its own train / val / test splits.

    :param path: The ``.npz`` file.
    :param size: Output height and width (default: as stored); other sizes are resized bilinearly.
    :param channels: 1 or 3 (default: as stored); RGB -> grayscale uses ITU-R 601-2 luma.
    :param class_names: Names of the labels (default: :data:`CLASS_NAMES` for known sets, else "0", "1"...).
    :param any_finding: Turn multi-label rows into 1 (any finding) / 0 (none), as study 002 did for
        ChestX-ray14; class names become :data:`ANY_FINDING_CLASSES`.
    :param cache_dir: HDF5 cache folder (see :mod:`art_medical.data.cache`); ``None`` for no cache.
    :param stream: Return :class:`~art_medical.data.stream.StreamingSplit` objects (needs ``cache_dir``).
    :param workers: Resizing threads (default: one per core).
    :param verbose: Show progress bars.
    :return: A :class:`Dataset` with ``train``, ``val`` and ``test``: float32 images on 0-255; labels
        int64 ``(N,)``, or ``(N, k)`` 0/1 for multi-label files unless ``any_finding``.
    """
    path = Path(path).expanduser().resolve()
    with _open_archive(path) as archive:
        with zipfile.ZipFile(path) as zipped:
            shapes = {}
            for split in SPLITS:
                member, shape, dtype = _open_member(zipped, f"{split}_images", path)
                member.close()
                _check_images(path, f"{split}_images", shape, dtype)
                shapes[split] = shape
        labels = {split: _read_labels(archive, f"{split}_labels", shapes[split][0], path) for split in SPLITS}
    native = shapes["train"]
    prep = Preprocess(size if size is not None else native[1], channels if channels is not None else
                      (3 if len(native) == 4 and native[-1] == 3 else 1))
    name = dataset_name(path)
    multi_label = labels["train"].shape[1] > 1
    names = _class_names(path, labels, class_names, any_finding)
    if any_finding:
        labels = {split: (y.sum(axis=1) > 0).astype(np.int64)[:, None] for split, y in labels.items()}
    options = LoadOptions(prep, 0, cache_dir, stream, "raise", workers, verbose)
    sources = {}
    for split in SPLITS:
        y = labels[split] if multi_label and not any_finding else labels[split][:, 0]
        sources[split] = SplitSource(
            tuple(f"{path.name}:{split}_images[{i}]" for i in range(len(y))),
            y,
            lambda key=f"{split}_images": _image_chunks(path, key, prep, workers, verbose),
        )
    params = {"file": str(path), "any_finding": any_finding, "class_names": names}
    return materialize(f"medmnist_{name}", names, sources, options, params, [path], [])
