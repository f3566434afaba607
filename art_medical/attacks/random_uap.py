"""Random controls for universal adversarial perturbations.

Studies 000 and 001 (Hirano et al.) compare each UAP with a random vector of the same Lp norm xi,
"sampled uniformly from the sphere of a given radius" (their code: ART's ``random_sphere``). Here the
random vector lies exactly on the sphere, ``||v||_p == eps``:

- p = 2: a Gaussian direction scaled to length eps (uniform on the L2 sphere);
- p = inf: uniform noise in ``[-eps, eps]`` (as ``random_sphere`` draws it) rescaled so that its largest
  absolute entry equals eps.
"""
from __future__ import annotations

import numpy as np

from art_medical.metrics import Norm, lp_norms


def random_uap(shape: tuple[int, ...], eps: float, norm: Norm, seed: int = 0) -> np.ndarray:
    """A seeded random perturbation of Lp norm exactly ``eps``, shaped like a UAP's ``noise``.

    :param shape: Shape of one image, e.g. ``(64, 64, 1)``.
    :param eps: The norm xi of the perturbation, on the 0-255 pixel scale.
    :param norm: 2 or ``np.inf``.
    :param seed: Seed of the random draw; the same seed gives the same vector.
    :return: float32 array of shape ``(1,) + shape``, like ``UniversalPerturbation.noise``; add it to
        images and clip to the pixel range to get the random-control images.
    """
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be positive and finite, got {eps}.")
    shape = tuple(int(d) for d in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"shape must be a non-empty tuple of positive sizes, got {shape}.")
    if norm not in (2, 2.0, np.inf, "inf"):
        raise ValueError(f"norm must be 2 or np.inf ('inf'), got {norm!r}.")
    rng = np.random.default_rng(seed)
    if norm in (2, 2.0):
        direction = rng.standard_normal((1,) + shape)
    else:
        direction = rng.uniform(-1.0, 1.0, (1,) + shape)
    noise = direction * (eps / lp_norms(direction, norm)[0])
    return noise.astype(np.float32)
