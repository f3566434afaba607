"""Streaming from the HDF5 cache: batches, shuffling, fancy indexing, Keras and tf.data sources."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.data import StreamingSplit, load_image_folders

QUIET = {"verbose": False, "workers": 2}


@pytest.fixture
def streamed(curated_root, tmp_path):
    """The curated tree (40 images) as in-memory and streaming datasets."""
    kwargs = {"size": 5, "test_fraction": 0.25, **QUIET}
    memory = load_image_folders(curated_root, **kwargs)
    stream = load_image_folders(curated_root, cache_dir=tmp_path / "cache", stream=True, **kwargs)
    yield memory, stream
    for split in stream.splits.values():
        split.close()


def test_shuffled_batches_are_seeded_and_keep_images_with_labels(streamed):
    memory, stream = streamed
    value_to_label = {float(x.mean()): int(y) for x, y in zip(memory.train.x, memory.train.y)}
    runs = [list(stream.train.batches(batch_size=7, shuffle=True, seed=s)) for s in (1, 1, 2)]
    orders = [np.concatenate([x.mean(axis=(1, 2, 3)) for x, _ in run]) for run in runs]
    np.testing.assert_array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], orders[2])
    assert sorted(orders[0]) == sorted(value_to_label)
    for x, y in runs[0]:
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert [value_to_label[float(v)] for v in x.mean(axis=(1, 2, 3))] == y.tolist()


def test_indexing_returns_float_images_in_the_requested_order(streamed):
    memory, stream = streamed
    index = [5, 2, 2, 29, 0]
    np.testing.assert_array_equal(stream.train[index], memory.train.x[index])
    np.testing.assert_array_equal(stream.train[3], memory.train.x[3])
    assert stream.train[1:4].dtype == np.float32 and len(stream.train) == 30
    with pytest.raises(ValueError, match="batch_size"):
        next(stream.train.batches(batch_size=0))


def test_unknown_split_name(streamed):
    _, stream = streamed
    with pytest.raises(KeyError, match="Split 'val' is not in cache"):
        StreamingSplit(stream.train.path, "val")


def test_keras_and_tf_data_sources(streamed):
    import keras

    memory, stream = streamed
    source = stream.train.to_keras(batch_size=8, shuffle=True, seed=0)
    assert len(source) == 4
    first_epoch = np.concatenate([source[i][0] for i in range(len(source))])
    assert sorted(first_epoch.mean(axis=(1, 2, 3))) == sorted(memory.train.x.mean(axis=(1, 2, 3)))
    source.on_epoch_end()
    assert not np.array_equal(source[0][0], first_epoch[:8])
    with pytest.raises(IndexError):
        source[4]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(stream.train.image_shape), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(source, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    batches = list(stream.test.to_tf_dataset(batch_size=4).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), memory.test.x)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), memory.test.y)
