"""Seeded train / validation / test splits as the studies drew them.

Every function returns index arrays into the list of items it was given; each split's indices are
shuffled (so a split is never ordered by class) and the splits never share an item. The same seed
gives the same splits.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np


def balanced_draw(
    labels: np.ndarray, per_class: Mapping[str, int], seed: int = 0, class_names: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """Draw ``per_class[split]`` items of every class into each split, without duplicates.

    Study 001 built its Kermany chest X-ray (900 / 270 per class) and OCT (1,960 / 840 per class)
    sets this way from the pooled images.

    :param labels: Integer class index of every item, shape ``(n,)``.
    :param per_class: Items per class for each split, e.g. ``{"train": 900, "test": 270}``.
    :param class_names: Names used in the error when a class has too few items.
    :raises ValueError: When a class has fewer items than the splits need together.
    """
    labels = np.asarray(labels)
    for split, count in per_class.items():
        if int(count) < 0:
            raise ValueError(f"Items per class for split '{split}' must be >= 0, got {count}.")
    needed = sum(int(c) for c in per_class.values())
    rng = np.random.default_rng(seed)
    chosen: dict[str, list[np.ndarray]] = {split: [] for split in per_class}
    for label in range(int(labels.max()) + 1 if labels.size else 0):
        members = np.flatnonzero(labels == label)
        if len(members) < needed:
            name = class_names[label] if class_names else str(label)
            raise ValueError(
                f"Class '{name}' has {len(members)} images, fewer than the {needed} needed "
                f"({', '.join(f'{s}: {c}' for s, c in per_class.items())} per class)."
            )
        members = rng.permutation(members)
        start = 0
        for split, count in per_class.items():
            chosen[split].append(members[start : start + int(count)])
            start += int(count)
    return {split: rng.permutation(np.concatenate(parts)) for split, parts in chosen.items()}


def random_split(n_items: int, sizes: Mapping[str, int | None], seed: int = 0) -> dict[str, np.ndarray]:
    """Split ``n_items`` at random into splits of the given sizes.

    At most one size may be ``None``: that split takes the remaining items. Study 001 divided
    ISIC 2018 this way (7,000 training / 3,015 test images).

    :raises ValueError: When the sizes ask for more items than there are.
    """
    open_splits = [s for s, c in sizes.items() if c is None]
    if len(open_splits) > 1:
        raise ValueError(f"At most one split size may be None (the remainder), got {open_splits}.")
    fixed = {s: int(c) for s, c in sizes.items() if c is not None}
    if any(c < 0 for c in fixed.values()):
        raise ValueError(f"Split sizes must be >= 0, got {dict(sizes)}.")
    if sum(fixed.values()) > n_items:
        raise ValueError(f"Split sizes {dict(sizes)} need {sum(fixed.values())} images; only {n_items} are available.")
    order = np.random.default_rng(seed).permutation(n_items)
    result, start = {}, 0
    for split, count in sizes.items():
        count = n_items - sum(fixed.values()) if count is None else int(count)
        result[split] = order[start : start + count]
        start += count
    return result


def stratified_holdout(labels: np.ndarray, holdout: float | int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split items into ``(kept, held_out)`` with the class proportions preserved.

    Used for the 80:20 train / test splits of studies 003 and 004 and for every validation split
    carved from training data.

    :param labels: Integer class index of every item, shape ``(n,)``.
    :param holdout: Fraction in ``[0, 1)`` of the items, or a number of items, to hold out. Per-class
        counts are rounded by largest remainder so that they add up to the requested total.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"Stratified splits need one integer label per item, got labels of shape {labels.shape}.")
    n_items = len(labels)
    if isinstance(holdout, (float, np.floating)):
        if not 0.0 <= holdout < 1.0:
            raise ValueError(f"A hold-out fraction must be in [0, 1), got {holdout}.")
        total = int(round(holdout * n_items))
    else:
        total = int(holdout)
        if not 0 <= total <= n_items:
            raise ValueError(f"Cannot hold out {total} of {n_items} items.")
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * (total / n_items) if n_items else counts * 0.0
    per_class = np.floor(exact).astype(int)
    remainder_order = np.argsort(-(exact - per_class), kind="stable")
    per_class[remainder_order[: total - per_class.sum()]] += 1
    rng = np.random.default_rng(seed)
    kept, held = [], []
    for label, count in zip(classes, per_class):
        members = rng.permutation(np.flatnonzero(labels == label))
        held.append(members[:count])
        kept.append(members[count:])
    if not classes.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held))


def carve_validation(
    splits: dict[str, np.ndarray], labels: np.ndarray, val: float | int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Move a stratified, seeded share ``val`` of ``splits["train"]`` into a new ``"val"`` split.

    Nothing is carved when ``val`` is 0, so the splits come back unchanged.
    """
    if not val:
        return splits
    train = splits["train"]
    kept, held = stratified_holdout(np.asarray(labels)[train], val, seed=seed + 1)
    return {**splits, "train": train[kept], "val": train[held]}
