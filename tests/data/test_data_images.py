"""Image decoding: modes, sizes, 16-bit, cropping, bad files, parallel order."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from art_medical.data.images import (
    ImageDecodeError,
    Preprocess,
    decode_files,
    decode_image,
    list_images,
    prepare_array,
)
from data_trees import write_image, write_truncated_jpeg, write_xray_with_dark_top


@pytest.mark.parametrize("mode,channels", [("L", 1), ("L", 3), ("RGB", 1), ("RGB", 3), ("P", 3), ("RGBA", 1)])
def test_decode_converts_mode_and_resizes(tmp_path, mode, channels):
    path = tmp_path / "a.png"
    Image.new("RGB", (30, 20), (200, 100, 50)).convert(mode).save(path)
    image = decode_image(path, Preprocess(16, channels))
    assert image.shape == (16, 16, channels) and image.dtype == np.uint8
    if channels == 3 and mode in ("RGB", "P", "RGBA"):
        np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), (200, 100, 50), atol=3)
    elif mode == "L" and channels == 3:
        assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
    else:  # luma of (200, 100, 50): 0.299*200 + 0.587*100 + 0.114*50 = 124.2
        assert abs(image.mean() - 124.2) < 2


def test_sixteen_bit_png_is_scaled_to_eight_bits(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((10, 10), 257 * 100, dtype=np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    np.testing.assert_array_equal(decode_image(path, Preprocess(10, 1)), 100)


def test_crop_top_removes_the_top_sixth(tmp_path):
    path = write_xray_with_dark_top(tmp_path / "x.png", side=12)
    uncropped = decode_image(path, Preprocess(12, 1))
    cropped = decode_image(path, Preprocess(12, 1, crop_top=1 / 6))
    assert uncropped[:2].max() == 0
    assert cropped.min() == 255


def test_truncated_and_non_image_files_name_the_file(tmp_path):
    truncated = write_truncated_jpeg(tmp_path / "cut.jpeg")
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for path in (truncated, text, tmp_path / "missing.png"):
        with pytest.raises(ImageDecodeError, match=path.name) as info:
            decode_image(path, Preprocess(8, 1))
        assert info.value.path == str(path)


@pytest.mark.parametrize("bad_size", [0, -3, 2.5, True])
def test_preprocess_rejects_bad_size(bad_size):
    with pytest.raises(ValueError, match="size"):
        Preprocess(bad_size, 1)


@pytest.mark.parametrize("kwargs,match", [({"channels": 2}, "channels"), ({"crop_top": 1.0}, "crop_top")])
def test_preprocess_rejects_bad_channels_and_crop(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Preprocess(8, **{"channels": 1, **kwargs})


def test_parallel_decode_keeps_input_order_and_reports_failures(tmp_path):
    paths = [write_image(tmp_path / f"{i}.png", 10 * i) for i in range(1, 12)]
    paths.insert(4, write_truncated_jpeg(tmp_path / "bad.jpeg"))
    chunks = list(decode_files(paths, Preprocess(6, 1), skip_errors=True, workers=3, chunk_size=5, verbose=False))
    assert len(chunks) == 3
    images = np.concatenate([c.images for c in chunks])
    index = np.concatenate([c.index for c in chunks])
    failures = [f for c in chunks for f in c.failures]
    assert index.tolist() == [i for i in range(12) if i != 4]
    assert [position for position, _ in failures] == [4]
    np.testing.assert_array_equal(images.reshape(11, -1).mean(axis=1), [10 * i for i in range(1, 12)])
    with pytest.raises(ImageDecodeError, match="bad.jpeg"):
        list(decode_files(paths, Preprocess(6, 1), workers=3, chunk_size=5, verbose=False))


def test_prepare_array_matches_decoded_file(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    prep = Preprocess(9, 1)
    np.testing.assert_array_equal(prepare_array(pixels, prep), decode_image(tmp_path / "p.png", prep))


def test_list_images_filters_and_sorts(tmp_path):
    for name in ("b.PNG", "a.jpeg", ".hidden.png", "readme.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpeg", "b.PNG"]
    assert [p.name for p in list_images(tmp_path, recursive=True)] == ["a.jpeg", "b.PNG", "c.png"]
