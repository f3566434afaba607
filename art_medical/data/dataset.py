"""What every loader returns: a :class:`Dataset` of named :class:`Split` objects.

Images are ``float32`` arrays of shape ``(n, size, size, channels)`` on the 0-255 pixel scale (whole
numbers, since they are decoded from 8-bit files), labels are ``int64`` class indices of shape
``(n,)`` (``(n, k)`` 0/1 indicators for multi-label sets such as ChestMNIST), and ``class_names[i]``
names label ``i``. ``files`` keeps, per image, its path relative to the dataset root, so a result can
be traced back to the file it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Union

import numpy as np

if TYPE_CHECKING:
    from art_medical.data.stream import StreamingSplit


class SkippedFilesWarning(UserWarning):
    """Some files were skipped because ``on_error="skip"`` was asked for; the message gives the count."""


@dataclass(frozen=True)
class Split:
    """One split held in memory.

    Unpacks like the synthetic data: ``x, y, class_names = split``.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    files: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    def __iter__(self) -> Iterator:
        return iter((self.x, self.y, list(self.class_names)))


AnySplit = Union[Split, "StreamingSplit"]


@dataclass(frozen=True)
class Dataset:
    """A dataset as a study split it: ``train`` and ``test``, and ``val`` when one was carved out.

    :param name: Short dataset name, also used in cache file names.
    :param class_names: Name of each label index.
    :param train: Training split (:class:`Split` in memory, or a
        :class:`~art_medical.data.stream.StreamingSplit` when loaded with ``stream=True``).
    :param test: Test split.
    :param val: Validation split carved from the training data, or ``None``.
    :param skipped: ``(file, reason)`` for every file left out under ``on_error="skip"``.
    :param cache_file: The HDF5 cache the arrays came from, or ``None`` when no cache was used.
    """

    name: str
    class_names: tuple[str, ...]
    train: AnySplit
    test: AnySplit
    val: AnySplit | None = None
    skipped: tuple[tuple[str, str], ...] = field(default=())
    cache_file: Path | None = None

    @property
    def splits(self) -> dict[str, AnySplit]:
        """The splits present, by name (``train``, ``val``, ``test``)."""
        named = {"train": self.train, "val": self.val, "test": self.test}
        return {name: split for name, split in named.items() if split is not None}
