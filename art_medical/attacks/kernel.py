"""The attack kernel of study 004's Fig. 2: the perturbation ``x_adv - x`` amplified into a viewable image.

Adversarial perturbations are a few grey levels at most, invisible when shown at their size; Fig. 2 of study 004
shows them amplified. Here a perturbation ``d`` becomes ``127.5 + gain * d`` on 0-255: mid-grey where nothing
changed, brighter where the attack added intensity, darker where it removed some.
"""
from __future__ import annotations

import numpy as np


def perturbation_kernel(x: np.ndarray, x_adv: np.ndarray, gain: float | None = None) -> np.ndarray:
    """The amplified perturbation of each image, on 0-255 (float32), for display.

    :param x: Clean images ``(n, ...)`` on the pixel scale.
    :param x_adv: Their adversarial images, same shape.
    :param gain: Amplification of the perturbation; None scales each image so that its largest absolute change
                 reaches 0 or 255 (``gain = 127.5 / max |x_adv - x|``; an unchanged image stays at 127.5).
    :return: ``clip(127.5 + gain * (x_adv - x), 0, 255)``.
    :raises ValueError: If the shapes differ, a value is not finite, or ``gain`` is not positive.
    """
    x, x_adv = np.asarray(x, dtype=np.float64), np.asarray(x_adv, dtype=np.float64)
    if x.shape != x_adv.shape or x.ndim < 2:
        raise ValueError(f"x and x_adv must be batches of the same shape, got {x.shape} and {x_adv.shape}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(x_adv))):
        raise ValueError("x and x_adv must be finite.")
    delta = x_adv - x
    if gain is None:
        largest = np.abs(delta).reshape(len(delta), -1).max(axis=1)
        gains = np.divide(127.5, largest, out=np.zeros_like(largest), where=largest > 0)
        scale = gains.reshape((-1,) + (1,) * (delta.ndim - 1))
    elif not np.isfinite(gain) or gain <= 0:
        raise ValueError(f"gain must be positive and finite, got {gain!r}.")
    else:
        scale = float(gain)
    return np.clip(127.5 + scale * delta, 0.0, 255.0).astype(np.float32)
