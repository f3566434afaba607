"""Read a cached split in batches, without loading it into memory.

Ten thousand 299x299 RGB images are 10 GB as float32; training and attacks can instead iterate over
``(x, y)`` batches read from the HDF5 cache (:mod:`art_medical.data.cache`), converted to float32
on 0-255 one batch at a time.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import h5py
import numpy as np

from art_medical.data.dataset import Split


class StreamingSplit:
    """One split of an HDF5 cache, read on demand.

    Labels and file names are held in memory; images are read when indexed or iterated.
    Indexing (``split[10:20]``, ``split[[3, 1, 2]]``) returns float32 images on 0-255. Every image
    carries a checksum: a damaged cache raises ``OSError`` when read (loading it again without
    ``stream`` rebuilds it).

    :param path: The cache file.
    :param split: Group name, ``"train"``, ``"val"`` or ``"test"``.
    """

    def __init__(self, path: Path | str, split: str):
        self.path = Path(path)
        self.split = split
        self._file: h5py.File | None = None
        self._pid: int | None = None
        with h5py.File(self.path, "r") as f:
            if split not in f:
                raise KeyError(f"Split '{split}' is not in cache {self.path}; it holds {sorted(f.keys())}.")
            group = f[split]
            self.y: np.ndarray = group["y"][...]
            self.files: tuple[str, ...] = tuple(name.decode() if isinstance(name, bytes) else name
                                                 for name in group["files"][...])
            self.image_shape: tuple[int, ...] = tuple(group["x"].shape[1:])
            self.class_names: tuple[str, ...] = tuple(json.loads(f.attrs["class_names"]))

    def _images(self) -> h5py.Dataset:
        # One handle per process: h5py handles must not cross a fork (Keras workers).
        if self._file is None or self._pid != os.getpid():
            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._file[self.split]["x"]

    def close(self) -> None:
        """Close the open file handle, if any (it reopens on the next read)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __enter__(self) -> "StreamingSplit":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_file": None, "_pid": None}

    def __len__(self) -> int:
        return len(self.y)

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the whole image array, as if it were loaded."""
        return (len(self), *self.image_shape)

    def __getitem__(self, index: int | slice | np.ndarray | list[int]) -> np.ndarray:
        images = self._images()
        if isinstance(index, (int, np.integer, slice)):
            return images[index].astype(np.float32)
        index = np.asarray(index, dtype=np.int64)
        order = np.argsort(index, kind="stable")
        unique, inverse = np.unique(index[order], return_inverse=True)
        block = images[unique]
        result = np.empty((len(index), *self.image_shape), dtype=np.float32)
        result[order] = block[inverse]
        return result

    def batches(
        self, batch_size: int = 32, shuffle: bool = False, seed: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(x, y)`` batches: ``x`` float32 ``(b, H, W, C)`` on 0-255, ``y`` int64.

        :param shuffle: Visit items in a random order (seeded by ``seed``) instead of file order.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else None
        for start in range(0, len(self), batch_size):
            if order is None:
                stop = min(start + batch_size, len(self))
                yield self[start:stop], self.y[start:stop]
            else:
                index = order[start : start + batch_size]
                yield self[index], self.y[index]

    def load(self) -> Split:
        """Read the whole split into memory."""
        return Split(self[:], self.y.copy(), self.class_names, self.files)

    def to_keras(self, batch_size: int = 32, shuffle: bool = True, seed: int = 0, **kwargs: Any):
        """A ``keras.utils.PyDataset`` of ``(x, y)`` batches for ``model.fit`` / ``evaluate``.

        Reshuffles every epoch when ``shuffle``; ``kwargs`` (``workers``, ``use_multiprocessing``,
        ``max_queue_size``) go to ``PyDataset``.
        """
        from art_medical.data._keras_source import HDF5PyDataset

        return HDF5PyDataset(self, batch_size=batch_size, shuffle=shuffle, seed=seed, **kwargs)

    def to_tf_dataset(self, batch_size: int = 32, shuffle: bool = False, seed: int | None = None):
        """A ``tf.data.Dataset`` yielding the same ``(x, y)`` batches as :meth:`batches`."""
        import tensorflow as tf

        label_shape = (None, *self.y.shape[1:])
        signature = (
            tf.TensorSpec(shape=(None, *self.image_shape), dtype=tf.float32),
            tf.TensorSpec(shape=label_shape, dtype=tf.int64),
        )
        return tf.data.Dataset.from_generator(
            lambda: self.batches(batch_size, shuffle=shuffle, seed=seed), output_signature=signature
        )

    def __repr__(self) -> str:
        return f"StreamingSplit({str(self.path)!r}, {self.split!r}, shape={self.shape})"
