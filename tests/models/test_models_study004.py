"""Study 004's from-scratch networks have exactly Table I's parameter counts at 255x255x1 with 2 classes, and
the textbook variants the options give have theirs."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from art_medical.models import ResNet, WideResNet, build_model

TABLE_I = {
    "resnet18": 11_185_218,
    "resnet50_scratch": 23_558_978,
    "wrn_16_8": 11_033_186,
    "vgg19_scratch": 139_577_282,
    "inception_v3_scratch": 21_806_306,
}


def vgg19_parameters(channels: int = 1, classes: int = 2) -> int:
    """VGG-19 with its 4096-4096 top on a 7x7x512 map, counted by hand."""
    widths = [64] * 2 + [128] * 2 + [256] * 4 + [512] * 8
    params, previous = 0, channels
    for width in widths:
        params += 9 * previous * width + width
        previous = width
    for n_in, n_out in ((7 * 7 * 512, 4096), (4096, 4096), (4096, classes)):
        params += n_in * n_out + n_out
    return params


@pytest.mark.parametrize("name", ["resnet18", "resnet50_scratch", "wrn_16_8", "inception_v3_scratch"])
def test_study004_models_have_table_one_counts(name):
    model = build_model(name, 2)
    assert model.input_shape == (None, 255, 255, 1)
    assert model.count_params() == TABLE_I[name]


def test_vgg19_table_one_count_by_hand():
    assert vgg19_parameters() == TABLE_I["vgg19_scratch"]


@pytest.mark.slow
def test_vgg19_scratch_has_table_one_count():
    assert build_model("vgg19_scratch", 2).count_params() == TABLE_I["vgg19_scratch"]


def test_textbook_variants_and_keras_applications_counts():
    # He et al.: identity shortcut in the first stage of ResNet-18.
    assert ResNet(18, first_stage_projection=False).count_params() == 11_180_866
    # keras.applications ResNet50 has convolution biases; with them ours has its exact count.
    reference = keras.applications.ResNet50(weights=None, input_shape=(255, 255, 1), classes=2)
    assert ResNet(50, use_bias=True).count_params() == reference.count_params() == 23_585_538
    # Zagoruyko & Komodakis: no biases, global average pooling.
    assert WideResNet(16, 8, use_bias=False, pool_size=None).count_params() == 10_964_178


def test_study004_layout_details():
    resnet18 = build_model("resnet18", 2, (64, 64, 1))
    assert resnet18.get_layer("stage1_block1_proj_conv").kernel_size == (1, 1)
    assert not any(layer.name == "stage1_block2_proj_conv" for layer in resnet18.layers)
    assert not any(getattr(layer, "use_bias", False) for layer in resnet18.layers if isinstance(layer, keras.layers.Conv2D))
    wrn = build_model("wrn_16_8", 2, (255, 255, 1))
    assert wrn.get_layer("avg_pool").output.shape[1:] == (8, 8, 512)
    assert wrn.get_layer("flatten").output.shape[-1] == 32768
    assert all(layer.use_bias for layer in wrn.layers if isinstance(layer, keras.layers.Conv2D))
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 1)).astype(np.float32)
    np.testing.assert_allclose(resnet18.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)


def test_study004_builders_reject_bad_options():
    with pytest.raises(ValueError, match="depth"):
        ResNet(101)
    with pytest.raises(ValueError, match="pool_size 8"):
        build_model("wrn_16_8", 2, (28, 28, 1))
    assert build_model("wrn_16_8", 2, (29, 29, 1)).get_layer("flatten").output.shape[-1] == 512
    with pytest.raises(ValueError, match="pool_size"):
        WideResNet(16, 8, input_shape=(32, 32, 1), pool_size=0)
