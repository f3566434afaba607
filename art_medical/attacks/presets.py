"""
Study 004's attacks at ART 1.20.1's defaults with L-inf, on this package's 0-255 classifiers.

Study 004 attacks five networks with FGSM, PGD, Carlini & Wagner and a spatial transformation (rotations within
+-30 degrees), "in their default settings in the ART library with infinity norm". ART's defaults assume images on
[0, 1]; ``eps_scale`` (``art_medical.attacks.eps_scale``) says how they meet a 0-255 classifier:

- ``"unit"`` (default): the defaults mean what they mean on [0, 1]. FGSM and PGD get ``eps`` and ``eps_step``
  multiplied by the input range (0.3 -> 76.5, 0.1 -> 25.5 grey levels). C&W has no budget parameter but fixed
  [0, 1] constants in ART's code (L-inf: the first tau 1.0, the stop at tau 1/256 and the accepted distance < 1.0;
  L2: the trade-off constant of a squared distance), so it runs on a [0, 1] view of the classifier (same model,
  ``clip_values=(0, 1)``, input multiplied by 255 by ART's preprocessing) and its images come back x 255.
- ``"pixel"``: ART's numbers are used as given on 0-255 (FGSM eps 0.3 grey levels; C&W L-inf then only accepts
  perturbations below one grey level).

The spatial transformation has no budget; ART's defaults (``num_rotations=1``) with ``max_rotation=30`` try one
rotation, ``np.linspace(-30, 30, 1) = [-30]`` degrees; pass ``num_rotations=61`` for a one-degree grid.

| Paper link: https://arxiv.org/abs/1412.6572 (FGSM), https://arxiv.org/abs/1706.06083 (PGD),
  https://arxiv.org/abs/1608.04644 (C&W), https://arxiv.org/abs/1712.02779 (spatial transformation)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from art.attacks.attack import EvasionAttack
from art.attacks.evasion import (
    CarliniL2Method,
    CarliniLInfMethod,
    FastGradientMethod,
    ProjectedGradientDescent,
    SpatialTransformation,
)
from art.estimators.classification import KerasClassifier

from art_medical.attacks.eps_scale import EpsScale, check_eps_scale, input_range, to_pixel_eps

if TYPE_CHECKING:
    from art_medical.models.art_estimator import CompiledKerasClassifier

logger = logging.getLogger(__name__)

#: ART 1.20.1's constructor defaults of each attack (``tests/attacks/test_presets.py`` reads them from ART).
ART_DEFAULTS: dict[str, dict[str, Any]] = {
    "fgsm": {"norm": np.inf, "eps": 0.3, "eps_step": 0.1, "targeted": False, "num_random_init": 0,
             "batch_size": 32, "minimal": False},
    "pgd": {"norm": np.inf, "eps": 0.3, "eps_step": 0.1, "decay": None, "max_iter": 100, "targeted": False,
            "num_random_init": 0, "batch_size": 32, "random_eps": False},
    "cw_linf": {"confidence": 0.0, "targeted": False, "learning_rate": 0.01, "max_iter": 10, "decrease_factor": 0.9,
                "initial_const": 1e-5, "largest_const": 20.0, "const_factor": 2.0, "batch_size": 1},
    "cw_l2": {"confidence": 0.0, "targeted": False, "learning_rate": 0.01, "binary_search_steps": 10, "max_iter": 10,
              "initial_const": 0.01, "max_halving": 5, "max_doubling": 5, "batch_size": 1},
    "spatial": {"max_translation": 0.0, "num_translations": 1, "max_rotation": 0.0, "num_rotations": 1},
}
#: What study 004 changes: rotations within +-30 degrees.
STUDY004_OVERRIDES: dict[str, dict[str, Any]] = {"spatial": {"max_rotation": 30.0}}
#: Study 004's four attacks (its C&W is the L-inf one: "with infinity norm").
STUDY004_ATTACKS: tuple[str, ...] = ("fgsm", "pgd", "cw_linf", "spatial")

_CLASSES = {
    "fgsm": FastGradientMethod,
    "pgd": ProjectedGradientDescent,
    "cw_linf": CarliniLInfMethod,
    "cw_l2": CarliniL2Method,
    "spatial": SpatialTransformation,
}
_BUDGETS = ("eps", "eps_step")
_UNIT_VIEW = frozenset({"cw_linf", "cw_l2"})


@dataclass(frozen=True)
class PresetAttack:
    """An ART attack built by :func:`build_attack`, taking and returning images on the classifier's scale.

    :ivar name: Key of :data:`ART_DEFAULTS`.
    :ivar attack: The ART attack, bound to the classifier or to its [0, 1] view (:func:`unit_view`).
    :ivar params: The parameters the ART attack received (budgets on its own input scale), JSON-ready.
    :ivar eps_scale: ``"unit"`` or ``"pixel"``.
    :ivar input_offset: ``clip_min`` of the classifier when the attack runs on the [0, 1] view, else 0.
    :ivar input_scale: ``clip_max - clip_min`` when the attack runs on the [0, 1] view, else 1.
    """

    name: str
    attack: EvasionAttack
    params: dict[str, Any]
    eps_scale: str
    input_offset: float = 0.0
    input_scale: float = 1.0

    def generate(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Adversarial images of ``x`` on the classifier's scale, float32.

        :param x: Images on the classifier's scale.
        :param y: True labels (indices or one-hot), or None for ART's default: the classifier's predictions.
        """
        if self.input_scale == 1.0 and self.input_offset == 0.0:
            return self.attack.generate(x, y=y).astype(np.float32)
        x_unit = ((x - self.input_offset) / self.input_scale).astype(np.float32)
        x_adv = self.attack.generate(x_unit, y=y)
        # Pixels the attack left alone keep their exact value (the round trip through [0, 1] rounds).
        return np.where(x_adv == x_unit, x, x_adv * self.input_scale + self.input_offset).astype(np.float32)


def unit_view(classifier) -> KerasClassifier | CompiledKerasClassifier:
    """The classifier seen on [0, 1]: the same model behind ``clip_values=(0, 1)`` and ART preprocessing that maps
    ``u`` to ``clip_min + u * (clip_max - clip_min)`` (``u * 255`` here) before the model.

    :raises ValueError: For classifiers other than ``models.to_art``'s and ART's ``KerasClassifier``, or ones with
        preprocessing of their own.
    """
    from art_medical.models.art_estimator import CompiledKerasClassifier  # here: importing it loads TensorFlow

    span = input_range(classifier.clip_values)
    low = float(np.min(classifier.clip_values[0]))
    if any(not (np.all(getattr(op, "mean", 1) == 0) and np.all(getattr(op, "std", 0) == 1))
           for op in classifier.preprocessing_operations or []):
        raise ValueError("The [0, 1] view cannot be stacked on a classifier with preprocessing of its own.")
    preprocessing = (-low / span, 1.0 / span)
    if isinstance(classifier, CompiledKerasClassifier):
        return CompiledKerasClassifier(classifier.keras_model, clip_values=(0.0, 1.0), batch_size=classifier.batch_size,
                                       output=classifier.output, preprocessing=preprocessing)
    if type(classifier) is KerasClassifier:
        return KerasClassifier(classifier.model, use_logits=classifier.use_logits, clip_values=(0.0, 1.0),
                               preprocessing=preprocessing)
    raise ValueError(
        f"eps_scale='unit' runs C&W on a [0, 1] view of the classifier, built for models.to_art's classifier or ART's "
        f"KerasClassifier, not {type(classifier).__name__}; use one of those, or eps_scale='pixel'."
    )


def build_attack(
    name: str,
    classifier,
    eps_scale: EpsScale = "unit",
    verbose: bool = False,
    **overrides: Any,
) -> PresetAttack:
    """One of study 004's attacks at ART 1.20.1's defaults (plus :data:`STUDY004_OVERRIDES`) on ``classifier``.

    :param name: ``"fgsm"``, ``"pgd"``, ``"cw_linf"``, ``"cw_l2"`` or ``"spatial"``.
    :param classifier: An ART classifier on the pixel scale, ``clip_values`` set (``models.to_art``'s, ideally:
                       its compiled class gradients make C&W tens of times faster than ``KerasClassifier``).
    :param eps_scale: ``"unit"``: ART's [0, 1] defaults and any ``eps`` / ``eps_step`` override are fractions of
                      the input range; ``"pixel"``: used as given on the classifier's scale.
    :param verbose: Let the ART attack show its progress bars.
    :param overrides: Parameters replacing the defaults, e.g. ``max_iter=10`` or ``num_rotations=61``.
    :raises ValueError: On an unknown attack or parameter, or an invalid value (ART's own checks).
    """
    if name not in ART_DEFAULTS:
        raise ValueError(f"Unknown attack {name!r}; choose one of {sorted(ART_DEFAULTS)}.")
    check_eps_scale(eps_scale)
    params = {**ART_DEFAULTS[name], **STUDY004_OVERRIDES.get(name, {})}
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ValueError(f"{name} takes no parameter(s) {unknown}; its parameters are {sorted(params)}.")
    params.update(overrides)
    estimator, view = classifier, {}
    if eps_scale == "unit" and name in _UNIT_VIEW:
        estimator = unit_view(classifier)
        view = {"input_offset": float(np.min(classifier.clip_values[0])),
                "input_scale": input_range(classifier.clip_values)}
    else:
        for key in _BUDGETS:
            if key in params:
                params[key] = to_pixel_eps(params[key], eps_scale, classifier.clip_values)
    if "verbose" in _CLASSES[name].attack_params:
        params["verbose"] = verbose
    attack = _CLASSES[name](estimator, **params)
    record = {key: "inf" if isinstance(value, float) and np.isinf(value) else value
              for key, value in params.items() if key != "verbose"}
    logger.info("Built %s with %s (eps_scale %s).", name, record, eps_scale)
    return PresetAttack(name=name, attack=attack, params=record, eps_scale=eps_scale, **view)
