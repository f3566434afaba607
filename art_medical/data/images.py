"""Decode image files into ``uint8`` arrays of one size and channel count, in parallel.

Pillow does the work. Each image is converted to grayscale (``L``, ITU-R 601-2 luma) or RGB,
optionally cropped at the top (the COVID-Net preprocessing of study 000 drops the top sixth), and
resized to ``size x size`` with bilinear (antialiased) resampling, without keeping the aspect ratio,
as the studies' Keras pipelines did. 16-bit grayscale images are scaled to 8 bits (``/ 257``).

Pillow releases the GIL while decoding and resampling, so a thread pool spreads the work over all
cores without copying images between processes.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Sequence, TypeVar

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
)
"""File name endings (lower case) treated as images; other files in image folders are ignored."""

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})

T = TypeVar("T")
R = TypeVar("R")


class ImageDecodeError(ValueError):
    """An image file could not be read (missing, truncated, not an image)."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Cannot read image {self.path}: {reason}")


@dataclass(frozen=True)
class Preprocess:
    """How every image of a dataset is prepared.

    :param size: Output height and width in pixels.
    :param channels: 1 (grayscale) or 3 (RGB).
    :param crop_top: Fraction of the height removed from the top before resizing (study 000: 1/6).
    """

    size: int
    channels: int
    crop_top: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) or self.size < 1:
            raise ValueError(f"size must be a positive integer (pixels), got {self.size!r}.")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {self.channels!r}.")
        if not 0.0 <= self.crop_top < 1.0:
            raise ValueError(f"crop_top must be a fraction in [0, 1), got {self.crop_top!r}.")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one prepared image."""
        return (int(self.size), int(self.size), self.channels)


def list_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in ``folder`` (by extension, hidden files left out), sorted by relative path."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    found = [
        p
        for p in candidates
        if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def prepare_image(image: Image.Image, prep: Preprocess) -> np.ndarray:
    """Convert, crop and resize one Pillow image; returns ``uint8`` of shape ``prep.shape``."""
    if image.mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8))
    target_mode = "L" if prep.channels == 1 else "RGB"
    if image.mode != target_mode:
        image = image.convert("RGB") if image.mode not in ("L", "RGB") else image
        image = image.convert(target_mode)
    if prep.crop_top:
        fraction = Fraction(prep.crop_top).limit_denominator(1000)
        top = image.height * fraction.numerator // fraction.denominator
        image = image.crop((0, top, image.width, image.height))
    if image.size != (prep.size, prep.size):
        image = image.resize((prep.size, prep.size), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if prep.channels == 1 else array


def prepare_array(image: np.ndarray, prep: Preprocess) -> np.ndarray:
    """:func:`prepare_image` for a ``uint8`` array of shape ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``."""
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return prepare_image(Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)), prep)


def decode_image(path: Path | str, prep: Preprocess) -> np.ndarray:
    """Read one image file and prepare it; raises :class:`ImageDecodeError` naming the file."""
    try:
        with Image.open(path) as image:
            image.load()
            return prepare_image(image, prep)
    except Exception as exc:  # Pillow signals bad files with OSError, SyntaxError, ValueError...
        raise ImageDecodeError(path, f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class DecodedChunk:
    """Images decoded from one chunk of a file list.

    :param images: ``uint8`` images of the files that could be read, in input order.
    :param index: Position of each of those files in the input list.
    :param failures: ``(position, reason)`` of the files that could not be read.
    """

    images: np.ndarray
    index: np.ndarray
    failures: list[tuple[int, str]]


def default_workers() -> int:
    """Thread count used when none is given: one per core."""
    return os.cpu_count() or 1


def _try_decode(path: Path, prep: Preprocess) -> np.ndarray | ImageDecodeError:
    try:
        return decode_image(path, prep)
    except ImageDecodeError as exc:
        return exc


def decode_files(
    paths: Sequence[Path],
    prep: Preprocess,
    *,
    skip_errors: bool = False,
    workers: int | None = None,
    chunk_size: int = 128,
    desc: str = "Decoding images",
    verbose: bool = True,
) -> Iterator[DecodedChunk]:
    """Decode ``paths`` in parallel, yielding chunks in input order.

    At most two chunks are in flight, so memory stays bounded however many files there are.

    :param skip_errors: Report unreadable files in :attr:`DecodedChunk.failures` instead of raising
        :class:`ImageDecodeError` for the first one.
    :param workers: Decoding threads (default: one per core).
    """
    workers = workers or default_workers()
    executor = ThreadPoolExecutor(max_workers=workers)
    pending: deque[tuple[int, list[Future]]] = deque()
    progress = tqdm(total=len(paths), desc=desc, unit="img", disable=not verbose, leave=False)

    def collect(start: int, futures: list[Future]) -> DecodedChunk:
        images, index, failures = [], [], []
        for offset, future in enumerate(futures):
            result = future.result()
            if isinstance(result, ImageDecodeError):
                if not skip_errors:
                    raise result
                failures.append((start + offset, result.reason))
            else:
                images.append(result)
                index.append(start + offset)
        progress.update(len(futures))
        stacked = np.stack(images) if images else np.zeros((0, *prep.shape), dtype=np.uint8)
        return DecodedChunk(stacked, np.asarray(index, dtype=np.int64), failures)

    try:
        for start in range(0, len(paths), chunk_size):
            futures = [executor.submit(_try_decode, p, prep) for p in paths[start : start + chunk_size]]
            pending.append((start, futures))
            if len(pending) > 1:
                yield collect(*pending.popleft())
        while pending:
            yield collect(*pending.popleft())
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        progress.close()


def map_parallel(function: Callable[[T], R], items: Sequence[T], workers: int | None = None) -> list[R]:
    """``[function(item) for item in items]`` on a thread pool, in order."""
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as executor:
        return list(executor.map(function, items))
