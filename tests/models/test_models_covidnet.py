"""COVID-Net builders (study 000): sizes against the released models, the paper's layout, a tiny variant that
trains, and the MAC counter they are measured with."""
from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from art_medical.models import COVIDNet, build_model, count_macs, get_recipe, train
from art_medical.models.complexity import layer_macs
from art_medical.models.covidnet import PUBLISHED_SIZES


def _same(side: int, stride: int) -> int:
    return -(-side // stride)


def covidnet_size(variant: str, input_shape=(224, 224, 3), classes=3, width=1.0) -> tuple[int, int]:
    """Parameters and MACs of the COVID-Net design written out by hand, independently of the builder:
    convs without bias + batch normalization (4 values per channel), depthwise 3x3, dense with bias."""
    scale = lambda n: max(1, round(n * width))  # noqa: E731
    projections = {"small": (32, 64, 128, 384), "large": (48, 96, 192, 576)}[variant]
    stem_area = _same(input_shape[0], 2) * _same(input_shape[1], 2)
    height, width_px = _same(_same(input_shape[0], 2), 2), _same(_same(input_shape[1], 2), 2)
    stem = scale(64)
    params = 49 * input_shape[2] * stem + 4 * stem
    macs = stem_area * 49 * input_shape[2] * stem
    previous = stem
    for stage, (channels, modules, projection) in enumerate(zip((256, 512, 1024, 2048), (3, 4, 6, 3), projections)):
        c, p = scale(channels), scale(projection)
        e = 4 * p
        in_area = height * width_px
        if stage:
            height, width_px = _same(height, 2), _same(width_px, 2)
        area = height * width_px
        params += previous * c + 4 * c  # long-range 1x1 conv
        macs += area * previous * c
        for module in range(modules):
            c_in, area_in = (previous, in_area) if module == 0 else (c, area)
            params += c_in * p + p * e + 9 * e + e * p + p * c + 4 * (p + e + e + p + c)
            macs += area_in * (c_in * p + p * e) + area * (9 * e + e * p + p * c)
        previous = c
    features = height * width_px * previous
    for units in (scale(1024), scale(1024), classes):
        params += features * units + units
        macs += features * units
        features = units
    return params, macs


def test_mac_counter_counts_each_layer_kind_by_hand_and_mobilenet_as_published():
    x = keras.Input((10, 12, 6))
    conv = keras.layers.Conv2D(8, 3, strides=2, padding="same")
    grouped = keras.layers.Conv2D(4, 1, groups=2)
    depthwise = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    dense = keras.layers.Dense(5)
    h = conv(x)
    grouped(h)
    depthwise(x)
    dense(keras.layers.Flatten()(h))
    assert layer_macs(conv) == 5 * 6 * (3 * 3 * 6) * 8
    assert layer_macs(grouped) == 5 * 6 * (1 * 1 * 4) * 4
    assert layer_macs(depthwise) == 10 * 12 * 9 * 6 * 2
    assert layer_macs(dense) == 5 * 6 * 8 * 5
    # 1.0 MobileNet-224 (Howard et al. 2017): 569 M mult-adds, 4.2 M parameters.
    mobilenet = keras.applications.MobileNet(weights=None, input_shape=(224, 224, 3))
    assert count_macs(mobilenet) == 568_740_352
    assert mobilenet.count_params() == 4_253_864
    with pytest.raises(ValueError, match="keras.Model"):
        count_macs(conv)


@pytest.mark.parametrize("variant", ["small", "large"])
def test_tiny_covidnet_has_the_hand_computed_size_and_full_size_matches_the_release(variant):
    for shape, width in (((64, 64, 3), 1 / 16), ((48, 40, 1), 1 / 8)):
        model = COVIDNet(variant, shape, 3, width_multiplier=width)
        assert (model.count_params(), count_macs(model)) == covidnet_size(variant, shape, 3, width)
    params, macs = covidnet_size(variant)
    published = PUBLISHED_SIZES[variant]
    assert abs(params / published["params"] - 1) < 0.01
    assert abs(macs / published["macs"] - 1) < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("name, variant", [("covidnet_cxr_small", "small"), ("covidnet_cxr_large", "large")])
def test_full_size_covidnet_matches_the_released_sizes(name, variant):
    model = build_model(name, 3)
    assert model.input_shape == (None, 224, 224, 3)
    assert (model.count_params(), count_macs(model)) == covidnet_size(variant)
    assert (model.count_params(), count_macs(model)) == {
        "small": (117_443_651, 2_247_958_016), "large": (126_192_003, 3_584_558_848)}[variant]


def test_covidnet_follows_the_papers_figure():
    model = build_model("covidnet_cxr_small", 3, (224, 224, 3), width_multiplier=1 / 16)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)
    assert model.get_layer("stem_conv").output.shape[1:] == (112, 112, 4)
    for stage, (side, channels) in enumerate(zip((56, 28, 14, 7), (16, 32, 64, 128)), start=1):
        assert model.get_layer(f"stage{stage}_out").output.shape[1:] == (side, side, channels)
    modules = sorted({layer.name.split("_")[0] + "_" + layer.name.split("_")[1]
                      for layer in model.layers if layer.name.startswith("pepx")})
    assert len(modules) == 3 + 4 + 6 + 3
    pepx = [layer for layer in model.layers if layer.name.startswith("pepx2_2_")]
    kinds = [(type(layer).__name__, getattr(layer, "kernel_size", None)) for layer in pepx
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    assert kinds == [("Conv2D", (1, 1)), ("Conv2D", (1, 1)), ("DepthwiseConv2D", (3, 3)), ("Conv2D", (1, 1)),
                     ("Conv2D", (1, 1))]
    # The second module of a stage sums the long-range conv and the first module's output.
    inputs = model.get_layer("pepx2_2_in").input
    expected = [model.get_layer(name).output for name in ("stage2_long_range_bn", "pepx2_1_extend_bn")]
    assert len(inputs) == 2 and all(any(t is e for t in inputs) for e in expected)
    assert len(model.get_layer("stage2_out").input) == 1 + 4
    assert model.get_layer("flatten").output.shape[-1] == 7 * 7 * 128
    assert [model.get_layer(n).units for n in ("fc1", "fc2", "predictions")] == [64, 64, 3]


def test_covidnet_rejects_bad_options():
    with pytest.raises(ValueError, match="variant"):
        COVIDNet("medium")
    with pytest.raises(ValueError, match="width_multiplier"):
        COVIDNet("small", (32, 32, 1), width_multiplier=0)
    with pytest.raises(ValueError, match="at least 32"):
        COVIDNet("small", (16, 16, 1), width_multiplier=1 / 16)
    with pytest.raises(ValueError, match="from scratch"):
        COVIDNet("small", (32, 32, 1), weights="imagenet", width_multiplier=1 / 16)
    with pytest.raises(ValueError, match="max_modules_per_stage"):
        COVIDNet("small", (32, 32, 1), width_multiplier=1 / 16, max_modules_per_stage=0)


def test_tiny_covidnet_trains_with_the_covidnet_recipe(phantoms, tmp_path):
    x, y, _ = phantoms

    class BatchCounter(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    def builder():
        keras.utils.set_random_seed(0)
        return build_model("covidnet_cxr_small", 3, (32, 32, 1), width_multiplier=1 / 8, max_modules_per_stage=1)

    # Augmentation off (tested in test_models_recipes) makes the run deterministic.
    recipe = get_recipe("covidnet").replace(epochs=6, learning_rate=3e-3, validation_fraction=0.2, augment=False)
    counter = BatchCounter()
    model, history = train(builder, x, y, recipe, tmp_path, verbose=0, extra_callbacks=[counter])
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    train_others = int(np.sum(y != 2) * 0.8)  # the validation split is stratified
    assert counter.batches == math.ceil(train_others / recipe.batch_size)
    assert len([layer for layer in model.layers if layer.name.endswith("_dw")]) == 4  # one PEPX module per stage
