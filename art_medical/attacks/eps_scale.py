"""The one mapping of attack budgets from the papers' [0, 1] scale to the classifier's pixel scale.

Studies 003 and 004 state their budgets on images scaled to [0, 1] (study 003's FGSM grid 0.0001 ... 0.01;
ART's defaults, e.g. FGSM / PGD ``eps=0.3, eps_step=0.1``, assume [0, 1] inputs), while this package's models
take raw pixels on 0-255 (``clip_values=(0, 255)``). ``eps_scale`` says which scale a budget is on:

- ``"unit"``: a fraction of the classifier's input range; the budget on the classifier's scale is
  ``eps * (clip_max - clip_min)``, i.e. ``255 * eps`` for this package's models (0.3 -> 76.5 grey levels).
- ``"pixel"``: already on the classifier's scale, used as given (0.3 is 0.3 grey levels on a 0-255 model).

The mapping is the only place where a [0, 1] budget becomes a pixel budget; it multiplies Python floats, so
``to_pixel_eps(e, "unit", (0, 255)) == e * 255.0`` exactly.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

EpsScale = Literal["unit", "pixel"]
EPS_SCALES: tuple[str, ...] = ("unit", "pixel")


def input_range(clip_values) -> float:
    """``clip_max - clip_min`` of a classifier's ``clip_values`` (scalars, or arrays holding one value each).

    :raises ValueError: If ``clip_values`` is None or holds different ranges for different features.
    """
    if clip_values is None:
        raise ValueError(
            "eps_scale='unit' needs a classifier with clip_values (the input range a [0, 1] budget is a fraction of); "
            "give clip_values=(0, 255) or pass the budget on the pixel scale with eps_scale='pixel'."
        )
    low, high = (np.asarray(v, dtype=np.float64) for v in clip_values)
    span = np.unique(high - low)
    if span.size != 1 or not np.isfinite(span[0]) or span[0] <= 0:
        raise ValueError(f"clip_values {clip_values!r} do not define one positive input range.")
    return float(span[0])


def check_eps_scale(eps_scale: str) -> None:
    """Raise ValueError unless ``eps_scale`` is ``"unit"`` or ``"pixel"``."""
    if eps_scale not in EPS_SCALES:
        raise ValueError(f"eps_scale must be one of {EPS_SCALES}, got {eps_scale!r}.")


def to_pixel_eps(eps: float, eps_scale: EpsScale, clip_values) -> float:
    """A budget ``eps`` on ``eps_scale`` as a Python float on the classifier's input scale.

    :param eps: Non-negative, finite budget (an L-inf radius or step).
    :param eps_scale: ``"unit"`` (fraction of the input range, the papers' and ART's convention) or ``"pixel"``.
    :param clip_values: The classifier's ``clip_values``; needed for ``"unit"`` only.
    :raises ValueError: On a negative or non-finite ``eps``, an unknown ``eps_scale``, or ``"unit"`` without
        ``clip_values``.
    """
    check_eps_scale(eps_scale)
    value = float(eps)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"eps must be a non-negative finite number, got {eps!r}.")
    if eps_scale == "pixel":
        return value
    return value * input_range(clip_values)
