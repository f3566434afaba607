"""Builders of the studies' architectures: shapes, input adapters, pooling swap, weights, registry."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from art_medical.models import (
    ImageNetPreprocessing,
    SmallCNN,
    available_models,
    build_model,
    count_max_pooling,
    replace_max_pooling,
)
from art_medical.models import transfer
from art_medical.models.weights import load_weights_file

CHEAP_MODELS = ["vgg16_dense64", "resnet18", "wrn_16_8", "vgg19_scratch", "small_cnn"]
STUDY002_MODELS = {"inception_resnet_v2_pooling", "nasnet_large_pooling"}
SLOW_MODELS = sorted(set(available_models()) - set(CHEAP_MODELS) - STUDY002_MODELS)


def _smallest_side(name: str) -> int:
    return 75 if name.startswith("inception") else 32


def _check_builds_and_predicts(name: str, channels: int = 1) -> keras.Model:
    side = _smallest_side(name)
    model = build_model(name, 3, (side, side, channels))
    x = np.random.default_rng(0).uniform(0, 255, (2, side, side, channels)).astype(np.float32)
    probabilities = keras.ops.convert_to_numpy(model(x, training=False))
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.input_shape == (None, side, side, channels)
    return model


@pytest.mark.parametrize("name", CHEAP_MODELS)
def test_cheap_builders_predict_right_shape(name):
    _check_builds_and_predicts(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_MODELS)
def test_heavy_builders_predict_right_shape(name):
    _check_builds_and_predicts(name)


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["inception_resnet_v2", "nasnet_large"])
def test_study002_average_pooling_variant_has_no_max_pooling(backbone):
    side = 75 if backbone == "inception_resnet_v2" else 32
    published = build_model(f"{backbone}_pooling", 2, (side, side, 1), pooling="max")
    assert count_max_pooling(published) > 0
    model = build_model(f"{backbone}_pooling", 2, (side, side, 1), pooling="avg")
    assert count_max_pooling(model) == 0
    assert model(np.zeros((1, side, side, 1), np.float32)).shape == (1, 2)


def test_replace_max_pooling_keeps_geometry_and_weights():
    model = build_model("vgg16_dense64", 2, (32, 32, 3))
    swapped = replace_max_pooling(model)
    assert count_max_pooling(model) == 5 and count_max_pooling(swapped) == 0
    original_pools = [l for l in model.get_layer("backbone").layers if isinstance(l, keras.layers.MaxPooling2D)]
    new_pools = [l for l in swapped.get_layer("backbone").layers if isinstance(l, keras.layers.AveragePooling2D)]
    assert [(p.pool_size, p.strides, p.padding) for p in original_pools] == [
        (p.pool_size, p.strides, p.padding) for p in new_pools
    ]
    for a, b in zip(model.get_weights(), swapped.get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    assert not np.allclose(model.predict(x, verbose=0), swapped.predict(x, verbose=0))
    assert count_max_pooling(model) == 5  # the original is untouched


def test_average_pooling_of_small_cnn_equals_manual_average():
    model = SmallCNN(input_shape=(8, 8, 1), classes=2, filters=2)
    swapped = replace_max_pooling(model)
    pool = next(l for l in swapped.layers if isinstance(l, keras.layers.AveragePooling2D))
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    expected = x.reshape(1, 2, 2, 2, 2, 1).mean(axis=(2, 4))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pool(x)), expected)


def test_grayscale_input_is_repeated_to_rgb_inside_the_model():
    keras.utils.set_random_seed(0)
    gray = build_model("vgg16_dense64", 2, (32, 32, 1))
    rgb = build_model("vgg16_dense64", 2, (32, 32, 3))
    rgb.set_weights(gray.get_weights())
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(gray.predict(x, verbose=0), rgb.predict(np.repeat(x, 3, axis=-1), verbose=0), rtol=1e-5)


@pytest.mark.parametrize(
    "backbone, module",
    [("vgg16", keras.applications.vgg16), ("inception_v3", keras.applications.inception_v3),
     ("densenet121", keras.applications.densenet)],
)
def test_imagenet_preprocessing_matches_keras_preprocess_input(backbone, module):
    x = np.random.default_rng(3).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    ours = keras.ops.convert_to_numpy(ImageNetPreprocessing(backbone)(x))
    np.testing.assert_allclose(ours, module.preprocess_input(x.copy()), rtol=1e-5, atol=1e-4)


def test_study003_heads_have_the_papers_layers():
    vgg = build_model("vgg16_dense64", 2, (32, 32, 3))
    assert vgg.get_layer("hidden").units == 64 and vgg.get_layer("dropout").rate == 0.5
    assert vgg.get_layer("backbone").trainable


def test_study003_vgg16_template_head_pools_a_4x4_window_of_a_frozen_backbone():
    model = build_model("vgg16_dense64", 2, (128, 128, 3), freeze_backbone=True, pool_size=4)
    feature_map = model.get_layer("avg_pool").input
    assert feature_map.shape[1:] == (4, 4, 512)
    assert model.get_layer("flatten").output.shape[-1] == 512
    assert {v.path.split("/")[0] for v in model.trainable_variables} == {"hidden", "predictions"}
    features = keras.Model(model.input, feature_map)
    x = np.random.default_rng(5).uniform(0, 255, (2, 128, 128, 3)).astype(np.float32)
    pooled = keras.Model(model.input, model.get_layer("flatten").output).predict(x, verbose=0)
    np.testing.assert_allclose(pooled, features.predict(x, verbose=0).mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="pool_size 4 exceeds"):
        build_model("vgg16_dense64", 2, (96, 96, 3), pool_size=4)


@pytest.mark.slow
def test_study003_inception_backbone_is_frozen():
    model = build_model("inception_v3_dense1024", 2, (75, 75, 3))
    assert not model.get_layer("backbone").trainable
    assert model.get_layer("hidden").units == 1024 and model.get_layer("dropout").rate == 0.4
    trainable = {v.path.split("/")[0] for v in model.trainable_variables}
    assert trainable == {"hidden", "predictions"}


def test_from_scratch_models_use_a_single_channel_and_rescale():
    model = build_model("resnet18", 2, (32, 32, 1))
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)
    wrn = build_model("wrn_16_8", 2, (32, 32, 1))
    convs = [l for l in wrn.layers if isinstance(l, keras.layers.Conv2D) and l.kernel_size == (3, 3)]
    assert len(convs) == 13  # stem + 3 groups x 2 blocks x 2 convs
    assert {c.filters for c in convs} == {16, 128, 256, 512}


def test_registry_lists_every_study_and_rejects_unknown_names():
    models = available_models()
    for study in ("000", "001", "002", "003", "004"):
        assert any(description.startswith(f"study {study}") for description in models.values())
    assert sum(d.startswith("study 001") for d in models.values()) == 7
    with pytest.raises(ValueError, match="Unknown model"):
        build_model("alexnet", 2)
    with pytest.raises(ValueError, match="at least 75"):
        build_model("inception_v3_transfer", 2, (32, 32, 1))
    with pytest.raises(ValueError, match="channels"):
        build_model("resnet18", 2, (32, 32, 2))
    with pytest.raises(ValueError, match="pooling"):
        build_model("inception_resnet_v2_pooling", 2, (75, 75, 1), pooling="min")
    with pytest.raises(ValueError, match="from scratch"):
        build_model("resnet18", 2, (32, 32, 1), weights="imagenet")


def test_imagenet_weights_offline_error_explains_local_file(monkeypatch):
    def offline(**kwargs):
        if kwargs.get("weights") == "imagenet":
            raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- no network")
        return keras.applications.VGG16(**kwargs)

    monkeypatch.setitem(transfer.BACKBONES, "vgg16", transfer.BackboneSpec(offline, 224, 32))
    with pytest.raises(OSError, match="local path"):
        build_model("vgg16_dense64", 2, (32, 32, 3), weights="imagenet")


def test_weights_file_loads_into_full_model_or_backbone(tmp_path):
    keras.utils.set_random_seed(4)
    source = build_model("vgg16_dense64", 2, (32, 32, 1))
    x = np.random.default_rng(4).uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    source.save_weights(tmp_path / "full.weights.h5")
    restored = build_model("vgg16_dense64", 2, (32, 32, 1), weights=tmp_path / "full.weights.h5")
    np.testing.assert_allclose(restored.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5)

    source.get_layer("backbone").save_weights(tmp_path / "backbone.weights.h5")
    transferred = build_model("vgg16_dense64", 2, (32, 32, 1), weights=tmp_path / "backbone.weights.h5")
    for a, b in zip(transferred.get_layer("backbone").get_weights(), source.get_layer("backbone").get_weights()):
        np.testing.assert_array_equal(a, b)

    with pytest.raises(FileNotFoundError):
        build_model("vgg16_dense64", 2, (32, 32, 1), weights=tmp_path / "missing.h5")
    (tmp_path / "full.weights.h5.txt").write_text("not weights")
    SmallCNN(input_shape=(32, 32, 1), classes=2).save_weights(tmp_path / "cnn.weights.h5")
    with pytest.raises(ValueError, match="fits neither"):
        load_weights_file(restored, restored.get_layer("backbone"), tmp_path / "cnn.weights.h5")
    with pytest.raises(ValueError, match=r"\.h5"):
        load_weights_file(restored, None, tmp_path / "full.weights.h5.txt")
