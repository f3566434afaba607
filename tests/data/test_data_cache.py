"""The HDF5 cache: hits without decoding, invalidation, corrupt-cache rebuild, atomic writes."""
from __future__ import annotations

import os
import shutil

import h5py
import numpy as np
import pytest
from data_trees import write_image, write_medmnist, write_truncated_jpeg

import art_medical.data.images as images_module
from art_medical.data import SkippedFilesWarning, StreamingSplit, load_kermany_chest_xray, load_medmnist

QUIET = {"verbose": False, "workers": 2}
SMALL = {"size": 6, "n_train_per_class": 4, "n_test_per_class": 2, **QUIET}


@pytest.fixture
def decode_calls(monkeypatch):
    """Counts image decodes."""
    calls = []
    real = images_module.decode_image

    def counting(path, prep):
        calls.append(path)
        return real(path, prep)

    monkeypatch.setattr(images_module, "decode_image", counting)
    return calls


def _same(a, b):
    for name in ("train", "test"):
        np.testing.assert_array_equal(a.splits[name].x, b.splits[name].x)
        np.testing.assert_array_equal(a.splits[name].y, b.splits[name].y)
        assert a.splits[name].files == b.splits[name].files


def test_second_load_reads_the_cache_without_decoding(kermany_root, tmp_path, decode_calls):
    cache_dir = tmp_path / "cache"
    first = load_kermany_chest_xray(kermany_root, cache_dir=cache_dir, **SMALL)
    assert len(decode_calls) == 12
    assert first.cache_file.exists() and first.cache_file.parent == cache_dir
    assert first.cache_file.name.startswith("kermany_chest_xray_6px_1ch_")
    second = load_kermany_chest_xray(kermany_root, cache_dir=cache_dir, **SMALL)
    assert len(decode_calls) == 12, "a cache hit must not decode"
    _same(first, second)
    _same(first, load_kermany_chest_xray(kermany_root, **SMALL))  # equals decoding without a cache
    assert sorted(p.name for p in cache_dir.iterdir()) == [first.cache_file.name]


def test_other_parameters_get_their_own_cache(kermany_root, tmp_path, decode_calls):
    a = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    b = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **{**SMALL, "size": 5})
    c = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, seed=1, **SMALL)
    assert len({a.cache_file, b.cache_file, c.cache_file}) == 3 and len(decode_calls) == 36
    assert b.train.x.shape[1:] == (5, 5, 1)


def test_touched_source_file_makes_the_cache_stale(kermany_root, tmp_path, decode_calls):
    first = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    touched = kermany_root / "CellData" / "chest_xray" / first.train.files[0]
    status = touched.stat()
    os.utime(touched, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))
    with pytest.warns(UserWarning, match="Rebuilding stale dataset cache"):
        load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    assert len(decode_calls) == 24
    load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    assert len(decode_calls) == 24


def test_modified_image_is_reloaded(kermany_root, tmp_path):
    first = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    name = first.test.files[0]
    write_image(kermany_root / "CellData" / "chest_xray" / name, 3, side=20)
    with pytest.warns(UserWarning, match="stale"):
        second = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    assert second.test.files[0] == name and second.test.x[0].max() <= 5 < first.test.x[0].min()


def _flip_first_image_chunk(path):
    with h5py.File(path, "r") as f:
        offset = f["train"]["x"].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)
        raw.seek(offset)
        raw.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped_pixel_byte", "missing_group"])
def test_corrupt_cache_is_rebuilt(kermany_root, tmp_path, decode_calls, damage):
    first = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    path = first.cache_file
    if damage == "garbage":
        path.write_bytes(b"\x89HDF\r\n" + os.urandom(200))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "flipped_pixel_byte":
        _flip_first_image_chunk(path)
    else:
        with h5py.File(path, "a") as f:
            del f["test"]
    with pytest.warns(UserWarning, match="Rebuilding corrupt dataset cache"):
        rebuilt = load_kermany_chest_xray(kermany_root, cache_dir=tmp_path, **SMALL)
    assert len(decode_calls) == 24
    _same(first, rebuilt)


@pytest.mark.parametrize("failure", ["truncated_image", "crash"])
def test_an_error_leaves_no_cache_file(kermany_root, tmp_path, monkeypatch, failure):
    cache_dir = tmp_path / "cache"
    if failure == "truncated_image":
        for path in (kermany_root / "CellData/chest_xray/train/PNEUMONIA").iterdir():
            write_truncated_jpeg(path)
        expected = ValueError
    else:
        calls = []

        def crash_on_fifth(path, prep):
            calls.append(path)
            if len(calls) == 5:
                raise RuntimeError("disk gone")
            return np.zeros(prep.shape, np.uint8)

        monkeypatch.setattr(images_module, "decode_image", crash_on_fifth)
        expected = RuntimeError
    with pytest.raises(expected):
        load_kermany_chest_xray(kermany_root, cache_dir=cache_dir, **SMALL)
    assert list(cache_dir.iterdir()) == []


def test_skipped_files_are_recorded_and_reported_again_on_a_cache_hit(kermany_root, tmp_path, decode_calls):
    write_truncated_jpeg(kermany_root / "CellData/chest_xray/train/NORMAL/zz-broken.jpeg")
    kwargs = {**SMALL, "n_train_per_class": 9, "n_test_per_class": 1, "on_error": "skip", "cache_dir": tmp_path}
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file"):
        first = load_kermany_chest_xray(kermany_root, **kwargs)
    with pytest.warns(SkippedFilesWarning, match="skipped 1 file.*zz-broken"):
        second = load_kermany_chest_xray(kermany_root, **kwargs)
    assert first.skipped == second.skipped and len(decode_calls) == 20
    assert len(second.train) + len(second.test) == 19
    with pytest.raises(ValueError, match="zz-broken"):  # "raise" has its own cache and still raises
        load_kermany_chest_xray(kermany_root, **{**kwargs, "on_error": "raise"})


def test_streaming_splits_equal_the_in_memory_arrays(kermany_root, tmp_path):
    memory = load_kermany_chest_xray(kermany_root, val_fraction=0.25, **SMALL)
    streamed = load_kermany_chest_xray(kermany_root, val_fraction=0.25, cache_dir=tmp_path, stream=True, **SMALL)
    for name in ("train", "val", "test"):
        split = streamed.splits[name]
        assert isinstance(split, StreamingSplit) and split.shape == memory.splits[name].x.shape
        batches = list(split.batches(batch_size=3))
        assert [len(y) for _, y in batches] == [min(3, len(split) - s) for s in range(0, len(split), 3)]
        np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), memory.splits[name].x)
        np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), memory.splits[name].y)
        assert split.files == memory.splits[name].files
        split.close()


def test_medmnist_cache_and_stream(tmp_path):
    path = write_medmnist(tmp_path / "pneumoniamnist_64.npz", side=10, counts=(2500, 3, 4))
    memory = load_medmnist(path, size=6, **QUIET)
    streamed = load_medmnist(path, size=6, cache_dir=tmp_path / "c", stream=True, **QUIET)
    assert len(streamed.train) == 2500
    np.testing.assert_array_equal(streamed.train[2400:2500], memory.train.x[2400:2500])
    np.testing.assert_array_equal(streamed.val.load().x, memory.val.x)
    shutil.copy(path, tmp_path / "copy.npz")
    os.utime(path, ns=(0, 10**9))
    with pytest.warns(UserWarning, match="stale"):
        load_medmnist(path, size=6, cache_dir=tmp_path / "c", **QUIET)
