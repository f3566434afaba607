"""Checks of attack inputs that name the problem (shape, NaN / Inf, pixels outside clip_values)."""
from __future__ import annotations

import numpy as np


def check_images(
    x: np.ndarray, clip_values: tuple[float, float] | None, name: str = "x", tolerance: float = 0.0
) -> None:
    """Raise ValueError if ``x`` is not a non-empty batch of finite images inside ``clip_values``.

    :param tolerance: Excursions outside ``clip_values`` up to this fraction of the clip range are accepted
                      (float rounding of a preprocessing step).
    """
    if not isinstance(x, np.ndarray) or x.ndim < 2:
        raise ValueError(f"`{name}` must be a numpy array of shape (n, ...) holding a batch of images.")
    if len(x) == 0:
        raise ValueError(f"`{name}` is empty.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` contains NaN or Inf values ({int(np.sum(~np.isfinite(x)))} elements).")
    if clip_values is not None:
        low, high = float(np.min(clip_values[0])), float(np.max(clip_values[1]))
        margin = tolerance * (high - low)
        if x.min() < low - margin or x.max() > high + margin:
            raise ValueError(
                f"`{name}` has values in [{float(x.min()):.9g}, {float(x.max()):.9g}], outside the classifier's "
                f"clip_values [{low:.9g}, {high:.9g}]. Images are expected on the classifier's pixel scale (0-255 in "
                "art_medical)."
            )


def check_same_length(x: np.ndarray, y: np.ndarray, y_name: str = "y") -> None:
    """Raise ValueError if ``x`` and ``y`` do not hold the same number of samples."""
    if len(x) != len(y):
        raise ValueError(f"`x` has {len(x)} samples but `{y_name}` has {len(y)}.")
