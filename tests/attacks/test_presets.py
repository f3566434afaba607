"""Study 004's attack presets: ART's defaults, the eps mapping, the [0, 1] view, and agreement with ART."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from art.attacks.evasion import (
    CarliniL2Method,
    CarliniLInfMethod,
    FastGradientMethod,
    ProjectedGradientDescent,
    SpatialTransformation,
)
from art.estimators.classification import KerasClassifier

from art_medical.attacks.presets import ART_DEFAULTS, STUDY004_ATTACKS, build_attack, unit_view
from art_medical.models import to_art

ART_CLASSES = {
    "fgsm": FastGradientMethod,
    "pgd": ProjectedGradientDescent,
    "cw_linf": CarliniLInfMethod,
    "cw_l2": CarliniL2Method,
    "spatial": SpatialTransformation,
}
# A shorter C&W search for tests: 7 constants (1e-3 .. 0.064) instead of 21 (1e-5 .. 10.5).
SHORT_CW = {"initial_const": 1e-3, "largest_const": 0.1}


@pytest.fixture(scope="module")
def classifier(trained_cnn):
    return to_art(trained_cnn, batch_size=32)


@pytest.mark.parametrize("name", sorted(ART_DEFAULTS))
def test_defaults_are_arts(name):
    signature = inspect.signature(ART_CLASSES[name].__init__).parameters
    own = {key for key in signature if key not in ("self", "estimator", "classifier", "verbose", "summary_writer")}
    assert set(ART_DEFAULTS[name]) >= own - {"mask", "warm_start"}
    for key, value in ART_DEFAULTS[name].items():
        assert signature[key].default == value, key
    assert STUDY004_ATTACKS == ("fgsm", "pgd", "cw_linf", "spatial")


def test_budgets_follow_eps_scale(classifier):
    unit = build_attack("pgd", classifier)
    assert (unit.attack.eps, unit.attack.eps_step, unit.attack.max_iter) == (0.3 * 255.0, 0.1 * 255.0, 100)
    assert unit.params["eps"] == 76.5 and unit.params["norm"] == "inf" and unit.eps_scale == "unit"
    pixel = build_attack("fgsm", classifier, eps_scale="pixel")
    assert (pixel.attack.eps, pixel.attack.eps_step) == (0.3, 0.1)
    override = build_attack("fgsm", classifier, eps=0.01)
    assert override.attack.eps == 0.01 * 255.0
    spatial = build_attack("spatial", classifier)
    assert (spatial.attack.max_rotation, spatial.attack.num_rotations, spatial.attack.max_translation) == (30.0, 1, 0.0)
    for name in ("cw_linf", "cw_l2"):
        preset = build_attack(name, classifier)
        assert tuple(preset.attack.estimator.clip_values) == (0.0, 1.0)
        assert (preset.input_offset, preset.input_scale) == (0.0, 255.0)
        assert build_attack(name, classifier, eps_scale="pixel").attack.estimator is classifier


@pytest.mark.parametrize("name,overrides", [("fgsm", {}), ("pgd", {"max_iter": 7}), ("pgd", {"eps": 0.02, "eps_step": 0.005, "max_iter": 20})])
def test_gradient_attacks_equal_art_on_the_pixel_classifier(classifier, phantoms, name, overrides):
    x, y, _ = phantoms
    preset = build_attack(name, classifier, **overrides)
    params = {key: value for key, value in preset.params.items() if key != "norm"}
    quiet = {"verbose": False} if "verbose" in ART_CLASSES[name].attack_params else {}
    expected = ART_CLASSES[name](classifier, norm=np.inf, **params, **quiet).generate(x, y=y)
    x_adv = preset.generate(x, y)
    np.testing.assert_array_equal(x_adv, expected)
    assert np.abs(x_adv - x).max() <= preset.params["eps"] + 1e-4
    predictions = np.argmax(classifier.predict(x_adv), axis=1)
    assert np.mean(predictions == y) < 0.5, "ART's default budget, 76.5 grey levels, must fool the model"


def test_unit_view_is_the_same_model_on_0_1(classifier, trained_cnn, phantoms):
    x, _, _ = phantoms
    x = x[:20]
    for view in (unit_view(classifier), unit_view(KerasClassifier(trained_cnn, clip_values=(0.0, 255.0)))):
        np.testing.assert_allclose(view.predict(x / 255.0), classifier.predict(x), atol=1e-6)
        labels = np.arange(len(x)) % 3
        gradient = classifier.class_gradient(x, label=labels)
        np.testing.assert_allclose(view.class_gradient(x / 255.0, label=labels), 255.0 * gradient,
                                   atol=1e-6 * 255 * np.abs(gradient).max())
    shifted = to_art(trained_cnn, clip_values=(-1.0, 1.0))
    view = unit_view(shifted)
    np.testing.assert_allclose(view.predict((x / 127.5 - 1.0 + 1.0) / 2.0), shifted.predict(x / 127.5 - 1.0),
                               atol=1e-6)


def test_cw_linf_unit_view_vs_pixel_scale(classifier, phantoms):
    """On 0-255, ART's C&W L-inf accepts only perturbations below its [0, 1] constant 1.0: one grey level."""
    x, _, _ = phantoms
    x = x[:2]
    unit = build_attack("cw_linf", classifier, **SHORT_CW)
    x_unit = unit.generate(x)
    expected = CarliniLInfMethod(unit.attack.estimator, verbose=False, **{**ART_DEFAULTS["cw_linf"], **SHORT_CW})
    x_expected = expected.generate((x / 255.0).astype(np.float32))
    changed = x_expected != (x / 255.0).astype(np.float32)
    np.testing.assert_array_equal(x_unit[changed], (x_expected * 255.0).astype(np.float32)[changed])
    np.testing.assert_array_equal(x_unit[~changed], x[~changed])
    assert np.all((x_unit >= 0) & (x_unit <= 255))
    fooled = np.argmax(classifier.predict(x_unit), axis=1) != np.argmax(classifier.predict(x), axis=1)
    assert fooled.any() and np.abs(x_unit - x)[fooled].max() > 1.0

    x_pixel = build_attack("cw_linf", classifier, eps_scale="pixel", **SHORT_CW).generate(x)
    assert np.abs(x_pixel - x).max() < 1.0


def test_spatial_rotates_by_minus_30_degrees_as_art(classifier, phantoms):
    x, _, _ = phantoms
    preset = build_attack("spatial", classifier)
    x_adv = preset.generate(x)
    assert preset.attack.attack_rot == -30.0
    expected = SpatialTransformation(classifier, max_rotation=30.0, verbose=False).generate(x)
    np.testing.assert_array_equal(x_adv, expected)
    assert np.abs(x_adv - x).max() > 50


def test_bad_input_names_the_problem(classifier, trained_cnn):
    with pytest.raises(ValueError, match="Unknown attack 'deepfool'"):
        build_attack("deepfool", classifier)
    with pytest.raises(ValueError, match="no parameter"):
        build_attack("fgsm", classifier, max_iter=3)
    with pytest.raises(ValueError, match="eps_scale"):
        build_attack("fgsm", classifier, eps_scale="percent")
    with pytest.raises(ValueError, match="non-negative"):
        build_attack("pgd", classifier, eps=-0.1)
    with pytest.raises(ValueError, match="clip_values"):
        build_attack("fgsm", to_art(trained_cnn, clip_values=None))
    with pytest.raises(ValueError, match="preprocessing of its own"):
        build_attack("cw_linf", to_art(trained_cnn, preprocessing=(0.0, 2.0)))
