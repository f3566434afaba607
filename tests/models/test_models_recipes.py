"""Training recipes and the data pipeline: schedules, optimizers, splits, oversampling, per-batch class shares,
augmentation, tf.data."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from art_medical.models import get_recipe, study001_learning_rate, study002_learning_rate
from art_medical.models.pipeline import (
    RandomIntensityScale,
    augmentation_layers,
    check_training_data,
    class_share_batches,
    make_class_share_dataset,
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


def test_covidnet_recipe_has_the_repositorys_values():
    recipe = get_recipe("covidnet")
    assert (recipe.optimizer, recipe.learning_rate, recipe.batch_size, recipe.epochs) == ("adam", 2e-5, 8, 22)
    assert (recipe.plateau_factor, recipe.plateau_patience) == (0.7, 5)
    assert recipe.class_weights == (1.0, 1.0, 12.0)
    assert (recipe.batch_share_class, recipe.batch_share) == (2, 0.3)
    assert (recipe.rotation_degrees, recipe.shift_fraction, recipe.zoom_fraction, recipe.brightness_fraction) == (
        10.0, 0.1, 0.15, 0.1)
    assert recipe.horizontal_flip and recipe.fill_mode == "constant"
    optimizer = recipe.make_optimizer()
    assert isinstance(optimizer, keras.optimizers.Adam) and float(optimizer.learning_rate) == pytest.approx(2e-5)


def test_study002_nasnet_recipe_differs_only_in_batch_size_and_study003_decays_per_step():
    irv2, nasnet = get_recipe("study002").to_dict(), get_recipe("study002_nasnet_large").to_dict()
    assert (irv2.pop("batch_size"), nasnet.pop("batch_size")) == (32, 8)
    assert {k: v for k, v in irv2.items() if k != "name"} == {k: v for k, v in nasnet.items() if k != "name"}
    study003 = get_recipe("study003")
    assert (study003.learning_rate, study003.lr_decay, study003.epochs, study003.batch_size) == (1e-3, 1e-3 / 25, 25, 8)
    assert get_recipe("study004").optimizer_options == {}  # Keras SGD defaults: lr 0.01, no momentum


@pytest.mark.parametrize("changes, message", [
    ({"lr_decay": 1e-4}, "at most one"),
    ({"schedule": None, "plateau_factor": 1.5}, "plateau_factor"),
    ({"class_weights": (1.0, 0.0)}, "class_weights"),
    ({"batch_share_class": 1, "batch_share": 1.0}, "batch_share"),
    ({"batch_share_class": 1, "batch_share": 0.2, "oversample": True}, "not both"),
    ({"fill_mode": "reflect"}, "fill_mode"),
    ({"schedule": "cosine"}, "Unknown schedule"),
])
def test_recipes_reject_inconsistent_fields(changes, message):
    with pytest.raises(ValueError, match=message):
        get_recipe("study001").replace(**changes)


def test_class_share_batches_give_each_batch_its_share_of_the_class():
    y = np.array([0] * 12 + [1] * 8 + [2] * 5)
    rng = np.random.default_rng(0)
    batches = class_share_batches(y, 8, share_class=2, share=0.3, rng=rng)
    assert [len(b) for b in batches] == [8, 8, 4]
    assert [int(np.sum(y[b] == 2)) for b in batches] == [2, 2, 1]  # max(1, int(0.3 n)), as COVID-Net
    for batch in batches:
        shared = batch[y[batch] == 2]
        assert len(set(shared)) == len(shared)
    others = np.concatenate([b[y[b] != 2] for b in batches])
    assert len(others) == 20 - 5 and len(set(others)) == len(others)  # 5 displaced, none repeated
    again = class_share_batches(y, 8, 2, 0.3, np.random.default_rng(0))
    for a, b in zip(batches, again):
        np.testing.assert_array_equal(a, b)
    next_epoch = class_share_batches(y, 8, 2, 0.3, rng)
    assert not all(np.array_equal(a, b) for a, b in zip(batches, next_epoch))
    with pytest.raises(ValueError, match="class 3"):
        class_share_batches(y, 8, 3, 0.3, rng)


def test_class_share_dataset_yields_the_batches_with_known_length():
    x = np.arange(25, dtype=np.float32).reshape(25, 1, 1, 1)
    y = np.array([0] * 12 + [1] * 8 + [2] * 5)
    dataset = make_class_share_dataset(x, y, 3, 8, share_class=2, share=0.3, seed=1)
    assert int(dataset.cardinality()) == 3
    epoch = list(dataset)
    assert [int(b[1].numpy()[:, 2].sum()) for b in epoch] == [2, 2, 1]
    for images, labels in epoch:
        np.testing.assert_array_equal(labels.numpy(), np.eye(3)[y[images.numpy().ravel().astype(int)]])
    with pytest.raises(ValueError, match="class index"):
        make_class_share_dataset(x, y, 3, 8, share_class=3, share=0.3)


def test_covidnet_augmentations_flip_zoom_and_scale_intensity():
    images = np.random.default_rng(0).uniform(50, 200, (64, 8, 8, 1)).astype(np.float32)
    scale = RandomIntensityScale(0.1, seed=0)
    factors = (keras.ops.convert_to_numpy(scale(images)) / images).reshape(64, -1)
    np.testing.assert_allclose(factors, factors[:, :1] * np.ones_like(factors), rtol=1e-5)  # one factor per image
    assert 0.9 <= factors.min() < 0.95 and 1.05 < factors.max() <= 1.1
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(scale(images, training=False)), images)
    layers = augmentation_layers(0.0, 0.0, seed=0, horizontal_flip=True, zoom_fraction=0.15, brightness_fraction=0.1,
                                 fill_mode="constant")
    assert [type(layer).__name__ for layer in layers.layers] == [
        "RandomRotation", "RandomTranslation", "RandomFlip", "RandomZoom", "RandomIntensityScale"]
    flip = augmentation_layers(0.0, 0.0, seed=0, horizontal_flip=True).layers[-1]
    ramp = np.tile(np.arange(8, dtype=np.float32), (64, 8, 1))[..., None]
    flipped = keras.ops.convert_to_numpy(flip(ramp, training=True))
    mirrored = np.all(flipped == ramp[:, :, ::-1], axis=(1, 2, 3))
    unchanged = np.all(flipped == ramp, axis=(1, 2, 3))
    assert np.all(mirrored | unchanged) and 10 < mirrored.sum() < 54
