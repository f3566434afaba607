"""Seeded splits: sizes, class balance, disjointness, reproducibility, errors."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.data.splits import balanced_draw, carve_validation, random_split, stratified_holdout

LABELS = np.repeat([0, 1, 2], [30, 50, 20])


def test_balanced_draw_sizes_balance_and_disjointness():
    plan = balanced_draw(LABELS, {"train": 9, "test": 5}, seed=3)
    assert len(plan["train"]) == 27 and len(plan["test"]) == 15
    for split, per_class in (("train", 9), ("test", 5)):
        assert np.bincount(LABELS[plan[split]]).tolist() == [per_class] * 3
        assert len(set(plan[split])) == len(plan[split])
    assert not set(plan["train"]) & set(plan["test"])
    assert (np.diff(LABELS[plan["train"]]) != 0).any(), "a split must not be ordered by class"


def test_balanced_draw_is_seeded():
    a, b = balanced_draw(LABELS, {"train": 9}, seed=1), balanced_draw(LABELS, {"train": 9}, seed=1)
    c = balanced_draw(LABELS, {"train": 9}, seed=2)
    np.testing.assert_array_equal(a["train"], b["train"])
    assert set(a["train"]) != set(c["train"])


def test_balanced_draw_names_the_short_class():
    with pytest.raises(ValueError, match=r"Class 'covid' has 20 images, fewer than the 21"):
        balanced_draw(LABELS, {"train": 15, "test": 6}, class_names=("normal", "pneumonia", "covid"))


def test_random_split_remainder_and_errors():
    plan = random_split(100, {"train": 70, "test": None}, seed=0)
    assert len(plan["train"]) == 70 and len(plan["test"]) == 30
    assert sorted(np.concatenate([plan["train"], plan["test"]])) == list(range(100))
    with pytest.raises(ValueError, match="only 100 are available"):
        random_split(100, {"train": 70, "test": 31})
    with pytest.raises(ValueError, match="At most one"):
        random_split(100, {"train": None, "test": None})


@pytest.mark.parametrize("holdout,expected", [(0.2, [6, 10, 4]), (0.1, [3, 5, 2]), (7, [2, 4, 1])])
def test_stratified_holdout_keeps_class_proportions(holdout, expected):
    kept, held = stratified_holdout(LABELS, holdout, seed=0)
    assert np.bincount(LABELS[held], minlength=3).tolist() == expected
    assert len(kept) + len(held) == len(LABELS) and not set(kept) & set(held)


def test_stratified_holdout_rejects_bad_requests():
    with pytest.raises(ValueError, match="fraction"):
        stratified_holdout(LABELS, 1.5)
    with pytest.raises(ValueError, match="Cannot hold out"):
        stratified_holdout(LABELS, 101)
    with pytest.raises(ValueError, match="one integer label per item"):
        stratified_holdout(np.zeros((4, 2)), 0.5)


def test_carve_validation_only_takes_from_training():
    plan = random_split(len(LABELS), {"train": 80, "test": None}, seed=0)
    carved = carve_validation(plan, LABELS, 0.25, seed=0)
    assert len(carved["val"]) == 20 and len(carved["train"]) == 60
    assert set(carved["val"]) | set(carved["train"]) == set(plan["train"])
    np.testing.assert_array_equal(carved["test"], plan["test"])
    assert carve_validation(plan, LABELS, 0.0) is plan
