"""Keras ``PyDataset`` over a :class:`~art_medical.data.stream.StreamingSplit` (imports Keras)."""
from __future__ import annotations

from typing import Any

import keras
import numpy as np

from art_medical.data.stream import StreamingSplit


class HDF5PyDataset(keras.utils.PyDataset):
    """Batches ``(x, y)`` of a cached split for ``model.fit``; reshuffled every epoch when asked."""

    def __init__(self, split: StreamingSplit, batch_size: int = 32, shuffle: bool = True, seed: int = 0, **kwargs: Any):
        super().__init__(**kwargs)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        self.split = split
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(split)) if shuffle else np.arange(len(split))

    def __len__(self) -> int:
        return -(-len(self.split) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} out of range for {len(self)} batches.")
        items = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.split[items], self.split.y[items]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.split))
