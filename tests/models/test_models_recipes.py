"""Training recipes and the data pipeline: schedules, optimizers, splits, oversampling, tf.data."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from art_medical.models import get_recipe, study001_learning_rate, study002_learning_rate
from art_medical.models.pipeline import (
    augmentation_layers,
    check_training_data,
    make_dataset,
    oversample_indices,
    stratified_split,
)


@pytest.mark.parametrize("epoch, rate", [(1, 1e-3), (40, 1e-3), (41, 1e-4), (45, 1e-4), (46, 1e-5), (50, 1e-5)])
def test_study001_schedule_has_the_papers_values(epoch, rate):
    assert study001_learning_rate(epoch) == rate
    assert get_recipe("study001").learning_rate_at(epoch) == rate


def test_schedules_reject_zero_based_epochs_and_study002_decays_every_four_epochs():
    with pytest.raises(ValueError, match="1-based"):
        study001_learning_rate(0)
    assert [study002_learning_rate(e) for e in (1, 4)] == [0.045, 0.045]
    assert study002_learning_rate(5) == pytest.approx(0.045 * 0.94)
    assert study002_learning_rate(9) == pytest.approx(0.045 * 0.94**2)


def test_recipes_build_the_papers_optimizers():
    sgd = get_recipe("study001").make_optimizer()
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov and sgd.momentum == 0.9
    assert float(sgd.learning_rate) == pytest.approx(1e-3)
    assert isinstance(get_recipe("study003").make_optimizer(), keras.optimizers.Adam)
    study004 = get_recipe("study004")
    assert (study004.epochs, study004.batch_size, study004.validation_fraction) == (200, 64, 0.1)
    assert get_recipe("study001").replace(epochs=3).epochs == 3
    with pytest.raises(ValueError, match="Unknown recipe fields"):
        get_recipe("study001").replace(epoch=3)
    with pytest.raises(ValueError, match="Unknown recipe"):
        get_recipe("study999")


def test_stratified_split_is_seeded_disjoint_and_keeps_class_shares():
    x = np.arange(200, dtype=np.float32).reshape(200, 1, 1, 1)
    y = np.repeat([0, 1, 2, 3], [100, 50, 30, 20])
    x_train, y_train, x_val, y_val = stratified_split(x, y, 0.1, seed=3)
    assert len(x_val) == 20 and np.bincount(y_val).tolist() == [10, 5, 3, 2]
    assert not set(x_train.ravel()) & set(x_val.ravel())
    assert sorted(np.concatenate([x_train, x_val]).ravel().tolist()) == x.ravel().tolist()
    again = stratified_split(x, y, 0.1, seed=3)
    np.testing.assert_array_equal(again[2], x_val)
    assert not np.array_equal(stratified_split(x, y, 0.1, seed=4)[2], x_val)
    with pytest.raises(ValueError, match="at least 2"):
        stratified_split(x[:101], y[:101], 0.1, seed=0)


def test_oversampling_balances_classes_with_existing_samples():
    y = np.repeat([0, 1, 2], [10, 3, 1])
    order = oversample_indices(y, seed=0)
    assert np.bincount(y[order]).tolist() == [10, 10, 10]
    assert set(order[y[order] == 0]) == set(range(10))  # the majority class is kept exactly
    np.testing.assert_array_equal(order, oversample_indices(y, seed=0))


def test_dataset_batches_one_hot_labels_and_augments_within_pixel_range():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (10, 16, 16, 1)).astype(np.float32)
    y = np.arange(10) % 2
    plain = list(make_dataset(x, y, 2, batch_size=4))
    assert [b[0].shape[0] for b in plain] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in plain]), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in plain]), np.eye(2)[y])
    augmented = make_dataset(x, y, 2, 4, shuffle=True, augmentation=augmentation_layers(5.0, 0.05, seed=0))
    images = np.concatenate([b[0] for b in augmented])
    assert images.shape == x.shape and images.min() >= 0 and images.max() <= 255
    assert not np.allclose(np.sort(images.ravel()), np.sort(x.ravel()))
    assert isinstance(augmented, tf.data.Dataset)


def test_training_data_checks():
    x = np.zeros((4, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="0-255"):
        check_training_data(x + 300, np.zeros(4, int), 2)
    with pytest.raises(ValueError, match="integer"):
        check_training_data(x, np.zeros(4), 2)
    with pytest.raises(ValueError, match="Labels"):
        check_training_data(x, np.full(4, 2), 2)
    with pytest.raises(ValueError, match="shape"):
        check_training_data(x[..., 0], np.zeros(4, int), 2)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_training_data(bad, np.zeros(4, int), 2)
