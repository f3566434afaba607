"""
Targeted and non-targeted universal adversarial perturbations (UAPs) with the simple iterative algorithm of
Hirano & Takemoto, as used against medical-image classifiers (studies 000 and 001):

| Paper link: https://arxiv.org/abs/1911.06502 (targeted UAPs, Hirano & Takemoto 2020)
| Paper link: https://arxiv.org/abs/1610.08401 (non-targeted UAPs, Moosavi-Dezfooli et al. 2017)

The class subclasses ART's :class:`UniversalPerturbation` and reproduces, for a given ``random.seed``, the
perturbation of ART's :class:`TargetedUniversalPerturbation` (``targeted=True``) and of
:class:`UniversalPerturbation` with attacker ``"fgsm"`` (``targeted=False``). It visits the images in the same
random order and takes the same steps, but evaluates them speculatively in batches: the predictions of the
images ahead under the current noise and the inner attack on those that need a step are computed together, and
only an accepted step (which changes the noise) discards the work done for the images after it. It also supports
binary classifiers with a single sigmoid output, which ART rejects, and takes a compiled loss gradient for
plain Keras classifiers.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from art.attacks.evasion import UniversalPerturbation
from art.estimators.classification.classifier import ClassGradientsMixin
from art.estimators.estimator import LossGradientsMixin
from art.utils import projection

from art_medical.attacks._compiled import compiled_loss_gradient
from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._labels import (
    is_single_output,
    labels_in_batches,
    to_class_indices,
    to_estimator_labels,
)

if TYPE_CHECKING:
    from art.utils import CLASSIFIER_TYPE

logger = logging.getLogger(__name__)

# Inner attacks that treat every image independently and deterministically (without random initialisation), so
# that running them on several images at once gives what running them one at a time gives. Others run one image
# at a time, in ART's order, and consume random numbers as ART does.
_BATCHABLE_ATTACKERS = frozenset({"fgsm", "bim", "pgd", "deepfool", "newtonfool"})
_BLACK_BOX_ATTACKERS = frozenset({"simba"})

InnerStep = Callable[[np.ndarray, np.ndarray], np.ndarray]


class TargetedUniversalPerturbation(UniversalPerturbation):
    """
    Targeted or non-targeted universal perturbation with an inner per-image attack (FGSM by default).

    A drop-in replacement for ART's :class:`TargetedUniversalPerturbation` (``targeted=True``, ``y`` = targets) and
    :class:`UniversalPerturbation` (``targeted=False``, ``y`` = true labels or none), with batched evaluation,
    per-pass history and single-output binary classifiers.

    | Paper link: https://arxiv.org/abs/1911.06502
    """

    attack_params = UniversalPerturbation.attack_params + ["targeted"]

    def __init__(
        self,
        classifier: "CLASSIFIER_TYPE",
        attacker: str = "fgsm",
        attacker_params: dict[str, Any] | None = None,
        delta: float = 0.2,
        max_iter: int = 20,
        eps: float = 10.0,
        norm: int | float | str = np.inf,
        batch_size: int = 32,
        verbose: bool = True,
        targeted: bool = True,
    ) -> None:
        """
        :param classifier: A trained classifier; gradient-based inner attacks need loss gradients.
        :param attacker: Inner attack: ``"fgsm"`` (default, the studies' choice) or any name of
                         :attr:`UniversalPerturbation.attacks_dict`, e.g. ``"simba"``, ``"deepfool"``, ``"pgd"``.
        :param attacker_params: Parameters of the inner attack, e.g. ``{"eps": 2.0, "norm": np.inf}`` for FGSM on
                                the 0-255 pixel scale. ``"targeted"`` may be given but must equal ``targeted``.
        :param delta: Stop when the targeted success rate (targeted) or the fooling rate (non-targeted) reaches
                      ``1 - delta``; in ``[0, 1]``.
        :param max_iter: Maximum number of passes over the images.
        :param eps: Radius xi of the universal perturbation in the ``norm`` norm (see ``metrics.xi_from_zeta``).
        :param norm: Norm of the universal perturbation: ``2``, ``np.inf`` or ``"inf"`` (also ``1``).
        :param batch_size: Batch size of model evaluations; also the first look-ahead of the batched walk.
        :param verbose: Show progress bars.
        :param targeted: ``True`` for the targeted algorithm (``y`` = target classes), ``False`` for the
                         non-targeted one (``y`` = true labels, or the clean predictions when ``y`` is None).
        """
        # ART's EvasionAttack.__init__ resets `_targeted`, and the parent checks its parameters before this class
        # can set it: pass the inner attack's parameters after, then check everything.
        super().__init__(
            classifier=classifier,
            attacker=attacker,
            attacker_params=None,
            delta=delta,
            max_iter=max_iter,
            eps=eps,
            norm=norm,
            batch_size=batch_size,
            verbose=verbose,
        )
        self.attacker_params = attacker_params
        self._targeted = targeted
        self._check_params()
        self._targeted_success_rate: float | None = None
        self._history: list[dict[str, float | int | None]] = []

    @property
    def targeted_success_rate(self) -> float | None:
        """Fraction of images classified as their target after the most recent targeted `generate`."""
        return self._targeted_success_rate

    @property
    def history(self) -> list[dict[str, float | int | None]]:
        """One entry per pass: pass, fooling_rate, targeted_success_rate, noise_norm, updates, seconds."""
        return list(self._history)

    def generate(self, x: np.ndarray, y: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """
        Compute the universal perturbation on `x` and return `x + noise` clipped to the classifier's clip_values.

        :param x: Images, e.g. of shape ``(n, height, width, channels)`` on the classifier's pixel scale.
        :param y: Targeted: target classes (required), one-hot or indices. Non-targeted: true labels, one-hot or
                  indices; when None, the clean predictions are used.
        :return: The adversarial images.
        """
        check_images(x, self.estimator.clip_values)
        nb_classes = self.estimator.nb_classes
        clean_labels = self._predict_labels(x)
        if y is None:
            if self.targeted:
                raise ValueError("A targeted attack needs the target classes `y`.")
            reference = clean_labels
        else:
            check_same_length(x, y)
            reference = to_class_indices(y, nb_classes, name="y")
        attack_labels = to_estimator_labels(reference, nb_classes, is_single_output(self.estimator))
        inner_step = self._inner_step()

        logger.info("Computing %s universal perturbation with %s.", self._kind, self.attacker)
        noise = np.zeros_like(x[[0]])
        # x lies inside clip_values, so the zero noise leaves the clean predictions unchanged.
        fooling_rate, success_rate = self._rates_of(clean_labels, clean_labels, reference)
        self._history = []
        nb_iter, rate = 0, 0.0  # as in ART, every run makes a first pass unless delta == 1
        pbar = tqdm(total=self.max_iter, desc=f"UAP ({self._kind})", disable=not self.verbose)
        while rate < 1.0 - self.delta and nb_iter < self.max_iter:
            start = time.perf_counter()
            order = np.asarray(random.sample(range(len(x)), len(x)), dtype=np.int64)
            noise, updates = self._one_pass(x, order, noise, reference, attack_labels, inner_step)
            nb_iter += 1
            adv_labels = labels_in_batches(lambda batch: self.estimator.predict(self._apply(batch, noise)), x,
                                           self.batch_size)
            fooling_rate, success_rate = self._rates_of(adv_labels, clean_labels, reference)
            rate = self._attack_rate(fooling_rate, success_rate)
            self._history.append(
                {
                    "pass": nb_iter,
                    "fooling_rate": fooling_rate,
                    "targeted_success_rate": success_rate,
                    "noise_norm": self._noise_norm(noise),
                    "updates": updates,
                    "seconds": time.perf_counter() - start,
                }
            )
            pbar.set_postfix(rate=f"{rate:.3f}", updates=updates)
            pbar.update(1)
        pbar.close()

        self._noise = noise
        self._fooling_rate = fooling_rate
        self._targeted_success_rate = success_rate
        self._converged = nb_iter < self.max_iter
        logger.info("Fooling rate %.2f%%, targeted success rate %s.", 100 * fooling_rate, success_rate)
        return self._apply(x, noise)

    @property
    def _kind(self) -> str:
        return "targeted" if self.targeted else "non-targeted"

    def _attack_rate(self, fooling_rate: float, success_rate: float | None) -> float:
        """The rate the stopping rule watches: success rate if targeted, fooling rate otherwise."""
        return success_rate if self.targeted else fooling_rate

    def _one_pass(
        self,
        x: np.ndarray,
        order: np.ndarray,
        noise: np.ndarray,
        reference: np.ndarray,
        attack_labels: np.ndarray,
        inner_step: InnerStep,
    ) -> tuple[np.ndarray, int]:
        """Visit the images in ``order`` as ART does, evaluating look-ahead windows in batches."""
        batchable = self._inner_attack_is_batchable()
        position, window, updates = 0, self.batch_size, 0
        with tqdm(total=len(order), desc="pass", leave=False, disable=not self.verbose) as pbar:
            while position < len(order):
                idx = order[position : position + window]
                current = self._predict_labels(x[idx] + noise)
                needs_step = current != reference[idx] if self.targeted else current == reference[idx]
                accepted_at = None
                candidates = np.flatnonzero(needs_step)
                chunks = [candidates] if batchable else [candidates[k : k + 1] for k in range(len(candidates))]
                for chunk in chunks:
                    if len(chunk) == 0:
                        continue
                    images = idx[chunk]
                    adv = inner_step(x[images] + noise, attack_labels[images])
                    new = self._predict_labels(adv)
                    accepted = new == reference[images] if self.targeted else new != current[chunk]
                    if accepted.any():
                        first = int(np.argmax(accepted))
                        noise = projection(adv[[first]] - x[images[[first]]], self.eps, self.norm)
                        accepted_at = int(chunk[first])
                        break
                consumed = len(idx) if accepted_at is None else accepted_at + 1
                updates += accepted_at is not None
                position += consumed
                window = min(max(2 * consumed, 1), 8 * self.batch_size)
                pbar.update(consumed)
        return noise, updates

    def _inner_attack_is_batchable(self) -> bool:
        """Deterministic per-image attacks run on several images at once; random ones one at a time, in order."""
        return self.attacker in _BATCHABLE_ATTACKERS and not (self.attacker_params or {}).get("num_random_init")

    def _inner_step(self) -> InnerStep:
        """The per-image attack as a function ``(x, labels) -> x_adv`` of batches."""
        params = dict(self.attacker_params or {})
        params.pop("targeted", None)
        if self.attacker == "fgsm" and not params.get("minimal") and not params.get("num_random_init"):
            return self._fgsm_step_function(params)
        attack = self._get_attack(self.attacker, {**self._inner_defaults(), **params})
        return lambda x_batch, labels: attack.generate(x_batch, y=labels)

    def _inner_defaults(self) -> dict[str, Any]:
        """Direction, batch size and silence for the inner attack, where it takes them (ART issue #1895)."""
        accepted = self._get_class(self.attacks_dict[self.attacker]).attack_params
        defaults: dict[str, Any] = {"targeted": self.targeted, "verbose": False}
        if self._inner_attack_is_batchable():
            defaults["batch_size"] = self.batch_size
        return {name: value for name, value in defaults.items() if name in accepted}

    def _fgsm_step_function(self, params: dict[str, Any]) -> InnerStep:
        """ART's FastGradientMethod step through the loss gradients (also for one sigmoid output).

        Plain Keras classifiers take a compiled gradient (:mod:`art_medical.attacks._compiled`), others the
        estimator's ``loss_gradient``; both give ART's result.
        """
        fgsm = self._get_attack("fgsm", params)  # validates the parameters as ART does
        step_eps, step_norm = fgsm.eps, fgsm.norm
        direction_sign = -1.0 if self.targeted else 1.0
        clip_values = self.estimator.clip_values
        loss_gradient = compiled_loss_gradient(self.estimator) or self.estimator.loss_gradient

        def step(x_batch: np.ndarray, labels: np.ndarray) -> np.ndarray:
            grads = np.concatenate(
                [
                    loss_gradient(x_batch[i : i + self.batch_size], labels[i : i + self.batch_size])
                    for i in range(0, len(x_batch), self.batch_size)
                ]
            )
            grads = np.nan_to_num(grads * direction_sign, nan=0.0, posinf=0.0, neginf=0.0)
            x_adv = x_batch + step_eps * _unit_direction(grads, step_norm)
            if clip_values is not None:
                x_adv = np.clip(x_adv, clip_values[0], clip_values[1])
            return (x_batch + projection(x_adv - x_batch, step_eps, step_norm)).astype(x_batch.dtype)

        return step

    def _rates_of(
        self, adv_labels: np.ndarray, clean_labels: np.ndarray, reference: np.ndarray
    ) -> tuple[float, float | None]:
        """Fooling rate (vs clean predictions if targeted, vs ``reference`` if not, as ART) and success rate."""
        if self.targeted:
            return float(np.mean(adv_labels != clean_labels)), float(np.mean(adv_labels == reference))
        return float(np.mean(adv_labels != reference)), None

    def _predict_labels(self, x: np.ndarray) -> np.ndarray:
        return labels_in_batches(self.estimator.predict, x, self.batch_size)

    def _apply(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        x_adv = x + noise
        if self.estimator.clip_values is not None:
            x_adv = np.clip(x_adv, self.estimator.clip_values[0], self.estimator.clip_values[1])
        return x_adv

    def _noise_norm(self, noise: np.ndarray) -> float:
        order = np.inf if self.norm in (np.inf, "inf") else float(self.norm)
        return float(np.linalg.norm(noise.ravel(), ord=order))

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self._targeted, bool):
            raise ValueError("The argument `targeted` has to be of type bool.")
        if self.norm not in (1, 2, np.inf, "inf"):
            raise ValueError(f"Unknown norm {self.norm!r}: use 1, 2, np.inf or 'inf'.")
        if self.attacker not in self.attacks_dict:
            raise ValueError(f"Unknown attacker {self.attacker!r}: choose from {sorted(self.attacks_dict)}.")
        if self.attacker_params is not None and not isinstance(self.attacker_params, dict):
            raise ValueError("`attacker_params` must be a dict or None.")
        inner_targeted = (self.attacker_params or {}).get("targeted", self._targeted)
        if inner_targeted != self._targeted:
            raise ValueError(
                f"attacker_params['targeted']={inner_targeted} contradicts targeted={self._targeted}: the inner "
                "attack must aim where the universal perturbation aims (ART issue #2147)."
            )
        if self.attacker not in _BLACK_BOX_ATTACKERS and not isinstance(
            self.estimator, (LossGradientsMixin, ClassGradientsMixin)
        ):
            raise ValueError(
                f"The {self.attacker!r} inner attack needs gradients, but {type(self.estimator).__name__} provides "
                "none; wrap the model in an ART classifier with gradients (e.g. art_medical.models.to_art) or use "
                "attacker='simba'."
            )


def _unit_direction(grads: np.ndarray, norm: int | float | str) -> np.ndarray:
    """The step direction of ART's FGSM: maximises <grad, d> subject to ||d||_norm <= 1, per sample."""
    flat = grads.reshape(len(grads), -1)
    if norm in (np.inf, "inf"):
        unit = np.ones_like(flat)
    elif norm == 1:
        unit = np.zeros_like(flat)
        unit[np.arange(len(flat)), np.argmax(np.abs(flat), axis=1)] = 1
    else:
        conjugate = norm / (norm - 1)
        q_norm = np.linalg.norm(flat, ord=conjugate, axis=1, keepdims=True)
        unit = (np.abs(flat) / np.where(q_norm, q_norm, np.inf)) ** (conjugate - 1)
    return unit.reshape(grads.shape) * np.sign(grads)
