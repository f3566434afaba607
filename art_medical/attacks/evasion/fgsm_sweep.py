"""
FGSM over a grid of budgets with one loss gradient per image (study 003: Tables 4, 5, 8 and 9).

The fast gradient sign method's direction ``sign(grad_x J(theta, x, y))`` does not depend on the budget, so a
sweep over ``epsilons`` needs one gradient pass and one prediction pass per budget, not one attack per budget.
At every budget the adversarial images are bit-identical to those of ART's
``FastGradientMethod(estimator, norm=np.inf, eps=e, targeted=False, num_random_init=0, minimal=False,
batch_size=batch_size)`` with the same labels: the gradient is taken on the same float32 batches, labels come from
``estimator.predict(x, batch_size=batch_size)`` when none are given (ties kept, as ART keeps them), and each budget
repeats ART's ``x + e * sign``, clip to ``clip_values`` and projection onto the L-inf ball around ``x``. A plain
``KerasClassifier`` gets the loss gradient compiled once (``attacks._compiled``; the same values as ART's eager one).

| Paper link: https://arxiv.org/abs/1412.6572 (FGSM, Goodfellow et al. 2015)
| Paper link: https://doi.org/10.3390/app11094233 (study 003, Appl. Sci. 2021, 11, 4233)
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from art.attacks.attack import EvasionAttack
from art.estimators.classification.classifier import ClassifierMixin
from art.estimators.estimator import BaseEstimator, LossGradientsMixin
from art.utils import get_labels_np_array, projection
from tqdm.auto import tqdm

from art_medical.attacks._compiled import compiled_loss_gradient
from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._labels import is_single_output, to_class_indices
from art_medical.attacks.eps_scale import EpsScale, check_eps_scale, to_pixel_eps
from art_medical.metrics import accuracy, correct_class_probability_drop, to_labels

logger = logging.getLogger(__name__)

#: Study 003, Table 4 (chest X-ray): the FGSM budgets on the [0, 1] scale.
STUDY003_TABLE4_EPSILONS: tuple[float, ...] = (
    0.0001, 0.0003, 0.0005, 0.0007, 0.0009, 0.001, 0.003, 0.005, 0.007, 0.009, 0.01,
)
#: Study 003, Table 8 (chest CT): Table 4's budgets and the clean row, eps = 0.
STUDY003_TABLE8_EPSILONS: tuple[float, ...] = (0.0,) + STUDY003_TABLE4_EPSILONS
#: Study 003, Tables 5 (X-ray) and 9 (CT): the budgets of the correct-class probability drop.
STUDY003_TABLE5_EPSILONS: tuple[float, ...] = (0.0001, 0.0003, 0.0005, 0.0007, 0.0009, 0.002, 0.004, 0.006, 0.008)
STUDY003_TABLE9_EPSILONS: tuple[float, ...] = STUDY003_TABLE5_EPSILONS


@dataclass(frozen=True)
class FGSMSweepResult:
    """Predictions of one sweep: the clean ones and one set per budget.

    :ivar epsilons: The budgets as given, on ``eps_scale``.
    :ivar pixel_epsilons: The budgets on the classifier's input scale (what ART's FGSM received).
    :ivar eps_scale: ``"unit"`` or ``"pixel"`` (``art_medical.attacks.eps_scale``).
    :ivar labels: Class indices the gradient was taken against (``y``, or the clean predictions).
    :ivar clean_probs: Classifier outputs on the clean images, ``(n, nb_classes)``.
    :ivar adv_probs: Outputs on the adversarial images, ``(len(epsilons), n, nb_classes)``.
    """

    epsilons: tuple[float, ...]
    pixel_epsilons: tuple[float, ...]
    eps_scale: str
    labels: np.ndarray
    clean_probs: np.ndarray
    adv_probs: np.ndarray

    def summary(self, y_true: np.ndarray) -> list[dict[str, Any]]:
        """One JSON-ready row per budget, the columns of study 003's Tables 4 / 8 and 5 / 9.

        ``correct`` / ``incorrect`` / ``accuracy`` count the adversarial images against ``y_true``;
        ``probability_*`` are means over the images classified correctly both before and after the attack
        (``metrics.correct_class_probability_drop``; None where no image qualifies).
        """
        true = to_labels(np.asarray(y_true), "y_true")
        if len(true) != len(self.labels):
            raise ValueError(f"y_true holds {len(true)} labels for {len(self.labels)} images.")
        rows = []
        for eps, pixel_eps, adv in zip(self.epsilons, self.pixel_epsilons, self.adv_probs):
            correct = int(np.sum(to_labels(adv, "adv_probs") == true))
            drop = correct_class_probability_drop(self.clean_probs, adv, true)
            rows.append({
                "eps": eps,
                "pixel_eps": pixel_eps,
                "correct": correct,
                "incorrect": len(true) - correct,
                "accuracy": accuracy(true, adv),
                "probability_images": drop.count,
                "probability_original": drop.original,
                "probability_adversarial": drop.adversarial,
                "probability_drop": drop.drop,
            })
        return rows


class FastGradientSweep(EvasionAttack):
    """
    Untargeted L-inf FGSM at every budget of a grid from one gradient per image (study 003's epsilon sweeps).

    ``generate`` returns the adversarial images of every budget, ``(len(epsilons), n, ...)``; ``sweep`` keeps only
    the predictions (memory: one batch of images, plus the outputs), for the tables.

    | Paper link: https://arxiv.org/abs/1412.6572
    """

    attack_params = EvasionAttack.attack_params + ["epsilons", "eps_scale", "batch_size", "verbose"]
    _estimator_requirements = (BaseEstimator, LossGradientsMixin, ClassifierMixin)

    def __init__(
        self,
        estimator,
        epsilons: Sequence[float] | np.ndarray = STUDY003_TABLE4_EPSILONS,
        eps_scale: EpsScale = "unit",
        batch_size: int = 32,
        verbose: bool = True,
    ) -> None:
        """
        :param estimator: A classifier with loss gradients and ``nb_classes >= 2`` outputs (``models.to_art`` turns a
                          single-sigmoid model into two).
        :param epsilons: The budgets (L-inf radii), in the order the results are wanted; 0 gives the clean images.
        :param eps_scale: ``"unit"``: budgets on the [0, 1] scale of the papers, multiplied by the classifier's input
                          range (255 for this package's models); ``"pixel"``: budgets on the classifier's own scale.
        :param batch_size: Images per gradient and prediction batch; ART's ``FastGradientMethod.batch_size`` (32) for
                           bit-identical results.
        :param verbose: Show a progress bar over the batches.
        """
        super().__init__(estimator=estimator)
        self.epsilons = epsilons
        self.eps_scale = eps_scale
        self.batch_size = batch_size
        self.verbose = verbose
        self._check_params()
        self._compiled_gradient = compiled_loss_gradient(estimator)

    @property
    def pixel_epsilons(self) -> tuple[float, ...]:
        """The budgets on the classifier's input scale, as ART's ``FastGradientMethod`` would receive them."""
        return self._pixel_epsilons

    def generate(self, x: np.ndarray, y: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """
        The adversarial images at every budget.

        :param x: Images on the classifier's input scale, ``(n, ...)``.
        :param y: True labels (indices or one-hot); when None, the clean predictions, as ART does.
        :return: float32 array of shape ``(len(epsilons), n, ...)``.
        """
        check_images(x, self.estimator.clip_values)
        x_adv = np.empty((len(self.epsilons), *x.shape), dtype=np.float32)
        for batch, adversarial in self._walk(x, self._attack_labels(x, y)):
            x_adv[:, batch] = adversarial
        return x_adv

    def sweep(self, x: np.ndarray, y: np.ndarray | None = None) -> FGSMSweepResult:
        """
        Predictions on the clean images and at every budget, without keeping the adversarial images.

        :param x: Images on the classifier's input scale, ``(n, ...)``.
        :param y: True labels (indices or one-hot) for the gradient; when None, the clean predictions, as ART does.
        :return: The :class:`FGSMSweepResult`.
        """
        check_images(x, self.estimator.clip_values)
        clean_probs = self.estimator.predict(x, batch_size=self.batch_size)
        labels = self._attack_labels(x, y, clean_probs)
        adv_probs = np.empty((len(self.epsilons), *clean_probs.shape), dtype=clean_probs.dtype)
        for batch, adversarial in self._walk(x, labels):
            for k, x_eps in enumerate(adversarial):
                adv_probs[k, batch] = self.estimator.predict(x_eps, batch_size=self.batch_size)
        return FGSMSweepResult(
            epsilons=tuple(float(e) for e in self.epsilons),
            pixel_epsilons=self.pixel_epsilons,
            eps_scale=self.eps_scale,
            labels=np.argmax(labels, axis=1),
            clean_probs=clean_probs,
            adv_probs=adv_probs,
        )

    def _attack_labels(self, x: np.ndarray, y: np.ndarray | None, clean_probs: np.ndarray | None = None) -> np.ndarray:
        """The label array ART's FGSM passes to ``loss_gradient``: one-hot rows (several ones on tied predictions),
        normalised to sum 1 for more than two classes."""
        nb_classes = self.estimator.nb_classes
        if y is None:
            if clean_probs is None:
                clean_probs = self.estimator.predict(x, batch_size=self.batch_size)
            labels = get_labels_np_array(clean_probs)
        else:
            check_same_length(x, np.asarray(y))
            labels = np.eye(nb_classes, dtype=np.float32)[to_class_indices(y, nb_classes)]
        if nb_classes > 2:
            labels = labels / np.sum(labels, axis=1, keepdims=True)
        return labels

    def _walk(self, x: np.ndarray, labels: np.ndarray) -> Iterator[tuple[slice, list[np.ndarray]]]:
        """Per batch of ``batch_size`` images: one gradient, then the adversarial batch at every budget, computed
        as ART's ``FastGradientMethod._compute`` computes it (float32 batch, NaN gradients as 0, ``x + eps * sign``
        clipped to ``clip_values``, then projected onto the L-inf ball of radius ``eps`` around ``x``)."""
        clip_values = self.estimator.clip_values
        loss_gradient = self._compiled_gradient or self.estimator.loss_gradient
        starts = range(0, len(x), self.batch_size)
        for start in tqdm(starts, desc="FGSM sweep", disable=not self.verbose):
            batch = slice(start, min(start + self.batch_size, len(x)))
            x_init = x[batch]
            x_batch = x_init.astype(np.float32)
            gradient = loss_gradient(x_batch, labels[batch])
            direction = np.sign(np.where(np.isnan(gradient), 0, gradient))
            adversarial = []
            for eps in self._pixel_epsilons:
                stepped = x_batch + eps * direction
                if clip_values is not None:
                    stepped = np.clip(stepped, clip_values[0], clip_values[1])
                x_eps = stepped.astype(np.float32)
                x_eps[...] = x_init + projection(x_eps - x_init, eps, np.inf)
                adversarial.append(x_eps)
            yield batch, adversarial

    def _check_params(self) -> None:
        check_eps_scale(self.eps_scale)
        is_sequence = isinstance(self.epsilons, Sequence) and not isinstance(self.epsilons, (str, bytes))
        if not (is_sequence or (isinstance(self.epsilons, np.ndarray) and self.epsilons.ndim == 1)) or not len(
            self.epsilons
        ):
            raise ValueError(f"epsilons must be a non-empty sequence of budgets, got {self.epsilons!r}.")
        for eps in self.epsilons:
            if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
                raise ValueError(f"epsilons must hold numbers, got {eps!r}.")
        self._pixel_epsilons = tuple(to_pixel_eps(e, self.eps_scale, self.estimator.clip_values) for e in self.epsilons)
        if not isinstance(self.batch_size, (int, np.integer)) or isinstance(self.batch_size, bool) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}.")
        if not isinstance(self.verbose, bool):
            raise ValueError("verbose must be a bool.")
        if is_single_output(self.estimator):
            raise ValueError(
                "The classifier has a single sigmoid output, for which ART's FGSM takes every clean prediction as "
                "class 1; wrap the model with art_medical.models.to_art, which exposes two classes."
            )
