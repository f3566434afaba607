"""
Targeted and non-targeted universal adversarial perturbations (UAPs) with the simple iterative algorithm of
Hirano & Takemoto, as used against medical-image classifiers (studies 000 and 001):

| Paper link: https://arxiv.org/abs/1911.06502 (targeted UAPs, Hirano & Takemoto 2020)
| Paper link: https://arxiv.org/abs/1610.08401 (non-targeted UAPs, Moosavi-Dezfooli et al. 2017)

The class subclasses ART's :class:`UniversalPerturbation` and runs the algorithm of ART's
:class:`TargetedUniversalPerturbation` (``targeted=True``) and :class:`UniversalPerturbation` (``targeted=False``):
the images are visited in ART's random order (``random.sample``), each takes an inner-attack step if it is not yet
where the perturbation aims, and a step is kept if it gets there. Two modes:

- ``exact=True`` evaluates every image alone (a batch of one), as ART does, and gives ART's perturbation and rates
  bit for bit for the same ``random.seed``.
- ``exact=False`` (default) evaluates look-ahead windows of up to ``batch_size`` images in batches: the images
  ahead are predicted together under the current perturbation and the inner attack runs on those that need a step
  together; an accepted step ends the window. Same algorithm, visiting order and acceptance rule, but batched
  predictions and gradients differ from batch-of-one ones by float rounding, so a step near a decision boundary
  (or a gradient sign where the gradient is tiny) can go the other way and the path diverge: the rates agree with
  ART's in distribution, not the bits.

With an FGSM inner step and a plain ``KerasClassifier`` a whole pass runs as one compiled TensorFlow call
(:mod:`art_medical.attacks._uap_compiled`), which also skips an image whose previous visit left the perturbation
unchanged when the perturbation has not changed since (its outcome would be the same). In exact mode the first
pass compares the compiled evaluation with the estimator's own calls and falls back to those (ART's speed) if they
differ in any bit.
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
from art.utils import get_labels_np_array, projection, to_categorical

from art_medical.attacks._compiled import is_plain_keras_classifier, per_sample_loss
from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._uap_compiled import CompiledFGSMWalk, PassResult, cached_walk

if TYPE_CHECKING:
    from art.attacks.attack import EvasionAttack
    from art.utils import CLASSIFIER_TYPE

logger = logging.getLogger(__name__)

# Inner attacks that treat every image independently and deterministically (without random initialisation), so
# that the default mode may run them on several images at once. Others run one image at a time, in ART's order,
# and draw random numbers as ART does.
_BATCHABLE_ATTACKERS = frozenset({"fgsm", "bim", "pgd", "deepfool", "newtonfool"})
_BLACK_BOX_ATTACKERS = frozenset({"simba"})
# Pixels outside clip_values by at most this fraction of the clip range are float rounding (e.g. of a rescaling):
# accepted and used as given, as ART does.
_CLIP_TOLERANCE = 1e-5

InnerStep = Callable[[np.ndarray, np.ndarray], np.ndarray]


class TargetedUniversalPerturbation(UniversalPerturbation):
    """
    Targeted or non-targeted universal perturbation with an inner per-image attack (FGSM by default).

    A drop-in replacement for ART's :class:`TargetedUniversalPerturbation` (``targeted=True``, ``y`` = targets) and
    :class:`UniversalPerturbation` (``targeted=False``, ``y`` = true labels or none), with a bit-exact mode, batched
    evaluation, per-pass history and single-output binary classifiers.

    | Paper link: https://arxiv.org/abs/1911.06502
    """

    attack_params = UniversalPerturbation.attack_params + ["targeted", "exact"]

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
        exact: bool = False,
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
        :param norm: Norm of the universal perturbation: ``np.inf`` or ``"inf"``, or any ``p > 0`` (``2``, ``"2"``,
                     ``1``, ``1.5`` ...), projected as :func:`art.utils.projection` does.
        :param batch_size: Batch size of model evaluations and the largest look-ahead window (default mode).
        :param verbose: Show progress bars.
        :param targeted: ``True`` for the targeted algorithm (``y`` = target classes), ``False`` for the
                         non-targeted one (``y`` = true labels, or the clean predictions when ``y`` is None).
        :param exact: ``True`` evaluates each image alone, as ART does: ART's perturbation and rates bit for bit.
                      ``False`` evaluates look-ahead windows in batches: the same algorithm, faster, rates equal to
                      ART's in distribution.
        """
        # ART's EvasionAttack.__init__ resets `_targeted`, and the parent checks its parameters before this class
        # can set it: pass the inner attack's parameters after, then check everything.
        self.exact = exact
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
    def noise(self) -> np.ndarray | None:
        """The universal perturbation of the most recent `generate`, shape ``(1, ...)``."""
        return self._noise

    @noise.setter
    def noise(self, value: np.ndarray | None) -> None:
        self._noise = value

    @property
    def fooling_rate(self) -> float | None:
        """Fraction of images whose label the perturbation changes (vs ``y`` if non-targeted, as ART)."""
        return self._fooling_rate

    @fooling_rate.setter
    def fooling_rate(self, value: float | None) -> None:
        self._fooling_rate = value

    @property
    def converged(self) -> bool | None:
        """Whether the stopping rate was reached before ``max_iter`` passes."""
        return self._converged

    @converged.setter
    def converged(self, value: bool | None) -> None:
        self._converged = value

    @property
    def targeted_success_rate(self) -> float | None:
        """Fraction of images classified as their target after the most recent targeted `generate`."""
        return self._targeted_success_rate

    @targeted_success_rate.setter
    def targeted_success_rate(self, value: float | None) -> None:
        self._targeted_success_rate = value

    @property
    def history(self) -> list[dict[str, float | int | None]]:
        """One entry per pass: pass, fooling_rate, targeted_success_rate, noise_norm, updates, seconds."""
        return list(self._history)

    def generate(self, x: np.ndarray, y: np.ndarray | None = None, **kwargs) -> np.ndarray:
        """
        Compute the universal perturbation on `x` and return `x + noise` clipped to the classifier's clip_values.

        :param x: Images, e.g. of shape ``(n, height, width, channels)`` on the classifier's pixel scale.
        :param y: Targeted: target classes (required). Non-targeted: true labels; when None, the clean
                  predictions. Class indices ``(n,)`` / ``(n, 1)``, or rows ``(n, nb_classes)`` (one-hot or soft:
                  the class is the argmax, and the inner attack receives the rows as given, as in ART).
        :return: The adversarial images.
        """
        self._check_x(x)
        if self.targeted and y is None:
            raise ValueError("A targeted attack needs the target classes `y`.")
        clean_labels = None
        if self.targeted:  # ART's TargetedUniversalPerturbation starts with these predictions
            clean_labels = _labels_of(self._predict_all(x))
        reference, rows = self._reference_and_rows(x, y)
        run_pass = self._pass_function(x, reference, rows)

        logger.info("Computing %s universal perturbation with %s.", self._kind, self.attacker)
        noise = np.zeros_like(x[[0]])
        self._history = []
        nb_iter, rate, adv_labels = 0, 0.0, None  # as in ART, every run makes a first pass unless delta == 1
        pbar = tqdm(total=self.max_iter, desc=f"UAP ({self._kind})", disable=not self.verbose)
        while rate < 1.0 - self.delta and nb_iter < self.max_iter:
            start = time.perf_counter()
            order = np.asarray(random.sample(range(len(x)), len(x)), dtype=np.int64)
            noise, updates, compiled = run_pass(order, noise, nb_iter == 0)
            nb_iter += 1
            if not (compiled and updates == 0 and adv_labels is not None):  # else the noise and labels are as before
                adv_labels = _labels_of(self._predict_all(self._apply(x, noise)))
            fooling_rate, success_rate = self._rates_of(adv_labels, clean_labels, reference)
            rate = success_rate if self.targeted else fooling_rate
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
        if nb_iter == 0:  # delta == 1: no pass, the rates of the clean images
            clean_labels = clean_labels if clean_labels is not None else _labels_of(self._predict_all(x))
            fooling_rate, success_rate = self._rates_of(clean_labels, clean_labels, reference)

        self._noise = noise
        self._fooling_rate = fooling_rate
        self._targeted_success_rate = success_rate
        self._converged = nb_iter < self.max_iter
        logger.info("Fooling rate %.2f%%, targeted success rate %s.", 100 * fooling_rate, success_rate)
        return self._apply(x, noise)

    @property
    def _kind(self) -> str:
        return "targeted" if self.targeted else "non-targeted"

    @property
    def _window(self) -> int:
        """The largest look-ahead window: one image in exact mode, ``batch_size`` otherwise."""
        return 1 if self.exact else self.batch_size

    def _predict_all(self, x: np.ndarray) -> np.ndarray:
        """Predictions of a whole set through the estimator's own batching (ART passes ``batch_size=1``)."""
        return self.estimator.predict(x, batch_size=1 if self.exact else self.batch_size)

    def _predict_window(self, x: np.ndarray) -> np.ndarray:
        """Predictions of a look-ahead window; in exact mode ART's own call on one image."""
        if self.exact:
            return self.estimator.predict(x)
        return self.estimator.predict(x, batch_size=self.batch_size)

    def _reference_and_rows(self, x: np.ndarray, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Class indices the walk compares with, and the label rows the inner attack receives (ART's format)."""
        nb_classes = self.estimator.nb_classes
        if y is None:  # non-targeted: the clean predictions, as ART's UniversalPerturbation takes them
            outputs = self.estimator.predict(x, batch_size=self.batch_size)
            labels = _labels_of(outputs)
            rows = labels.astype(np.float32)[:, None] if self._single_output else get_labels_np_array(outputs)
            return labels, rows
        y = np.asarray(y)
        check_same_length(x, y)
        if y.ndim == 2 and y.shape[1] == nb_classes > 1:
            if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
                raise ValueError("`y` rows must hold finite numbers (one-hot or soft labels).")
            labels = np.argmax(y, axis=1)
            return labels, labels.astype(np.float32)[:, None] if self._single_output else y
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"`y` must hold class indices of shape (n,) or (n, 1), or label rows of shape (n, {nb_classes}); "
                f"got shape {y.shape}."
            )
        if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)) or np.any(np.mod(y, 1) != 0):
            raise ValueError("`y` must hold integer class indices.")
        if y.size and (y.min() < 0 or y.max() >= nb_classes):
            bad = y[(y < 0) | (y >= nb_classes)][0]
            raise ValueError(f"`y` holds class {bad!r}, outside the classifier's classes 0..{nb_classes - 1}.")
        labels = y.astype(np.int64)
        if self._single_output:
            return labels, labels.astype(np.float32)[:, None]
        return labels, to_categorical(labels, nb_classes)

    @property
    def _single_output(self) -> bool:
        """Whether the classifier has one sigmoid output (ART reports ``nb_classes == 2`` for it)."""
        output_shape = getattr(getattr(self.estimator, "model", None), "output_shape", None)
        if isinstance(output_shape, list):
            output_shape = output_shape[0]
        return output_shape is not None and output_shape[-1] == 1

    def _pass_function(
        self, x: np.ndarray, reference: np.ndarray, rows: np.ndarray
    ) -> Callable[[np.ndarray, np.ndarray, bool], tuple[np.ndarray, int, bool]]:
        """``(order, noise, first pass) -> (noise, accepted steps, compiled)``: the compiled pass where it applies
        (deterministic: a plain KerasClassifier), else the pass through the estimator's own calls. In exact mode the
        compiled first pass is compared with the estimator's calls, and repeated through the estimator if any bit
        differs."""
        inner_step = self._inner_step()
        walk = self._compiled_walk(x)

        def estimator_pass(order: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, int, bool]:
            return *self._estimator_pass(x, order, noise, reference, rows, inner_step), False

        if walk is None:
            return lambda order, noise, first: estimator_pass(order, noise)
        x_tensor, compiled_rows = _as_tensor(x), self._compiled_rows(rows)
        state = {"compiled": True, "settled": np.full(len(x), -1, dtype=np.int32), "version": 0}

        def run_pass(order: np.ndarray, noise: np.ndarray, first: bool) -> tuple[np.ndarray, int, bool]:
            if not state["compiled"]:
                return estimator_pass(order, noise)
            result = walk.run_pass(x_tensor, order, noise, reference, compiled_rows, self._window, state["settled"],
                                   state["version"])
            if not (self.exact and first) or self._matches_estimator(result, rows, inner_step):
                state["settled"], state["version"] = result.settled, result.version
                return result.noise, result.updates, True
            logger.warning(
                "exact=True: the compiled evaluation differs from %s's own calls by float rounding on this model; "
                "evaluating each image through the estimator instead (ART's speed).",
                type(self.estimator).__name__,
            )
            state["compiled"] = False
            return estimator_pass(order, noise)

        return run_pass

    def _estimator_pass(
        self,
        x: np.ndarray,
        order: np.ndarray,
        noise: np.ndarray,
        reference: np.ndarray,
        rows: np.ndarray,
        inner_step: InnerStep,
    ) -> tuple[np.ndarray, int]:
        """One pass through the estimator's own calls: in exact mode ART's calls, one image at a time."""
        batched = not self.exact and self._inner_attack_is_batchable()
        position, window, updates = 0, self._window, 0
        with tqdm(total=len(order), desc="pass", leave=False, disable=not self.verbose) as pbar:
            while position < len(order):
                idx = order[position : position + window]
                x_in = x[idx] + noise
                current = _labels_of(self._predict_window(x_in))
                needs_step = current != reference[idx] if self.targeted else current == reference[idx]
                candidates = np.flatnonzero(needs_step)
                groups = [candidates] if batched else [candidates[k : k + 1] for k in range(len(candidates))]
                accepted_at = None
                for group in groups:
                    if len(group) == 0:
                        continue
                    adv = inner_step(x_in[group], rows[idx[group]])
                    new = _labels_of(self._predict_window(adv))
                    accepted = new == reference[idx[group]] if self.targeted else new != current[group]
                    if accepted.any():
                        first = int(np.argmax(accepted))
                        noise = projection(adv[[first]] - x[idx[[group[first]]]], self.eps, self.norm)
                        accepted_at = int(group[first])
                        break
                consumed = len(idx) if accepted_at is None else accepted_at + 1
                updates += accepted_at is not None
                position += consumed
                # the next window: as long as the part consumed after an accepted step, twice as long otherwise
                window = min(consumed if accepted_at is not None else 2 * consumed, self._window)
                pbar.update(consumed)
        return noise, updates

    def _compiled_walk(self, x: np.ndarray) -> CompiledFGSMWalk | None:
        """The compiled pass for an FGSM inner step on a plain KerasClassifier with float32 images, else None."""
        params = dict(self.attacker_params or {})
        if (
            self.attacker != "fgsm"
            or x.dtype != np.float32
            or params.get("minimal")
            or params.get("num_random_init")
            or not isinstance(params.get("eps", 0.3), (int, float))
            or not is_plain_keras_classifier(self.estimator)
        ):
            return None
        loss = per_sample_loss(self.estimator.model)
        if loss is None:
            return None
        fgsm = self._inner_attack()
        clip_values = self.estimator.clip_values
        clip_key = None if clip_values is None else tuple(np.asarray(v).tobytes() for v in clip_values)
        model_loss = self.estimator.model.loss
        loss_key = model_loss if isinstance(model_loss, str) else id(model_loss)
        key = (loss_key, self.targeted, fgsm.eps, fgsm.norm, self.eps, self.norm, clip_key)
        eps, norm = self.eps, self.norm
        return cached_walk(
            self.estimator.model,
            key,
            lambda: CompiledFGSMWalk(
                self.estimator.model,
                loss[0],
                loss[1],
                self.targeted,
                _fgsm_step(fgsm.eps, fgsm.norm, self.targeted, clip_values),
                lambda adv, clean: projection(adv - clean, eps, norm),
            ),
        )

    def _compiled_rows(self, rows: np.ndarray) -> np.ndarray:
        """The label rows as ART's FGSM hands them to the loss: normalised to sum 1 (more than two classes),
        float32, or class indices for a sparse loss."""
        if self.estimator.nb_classes > 2:
            rows = rows / np.sum(rows, axis=1, keepdims=True)
        if per_sample_loss(self.estimator.model)[1] and rows.shape[1] > 1:
            rows = np.argmax(rows, axis=1)
        return np.asarray(rows, dtype=np.float32)

    def _matches_estimator(self, result: PassResult, rows: np.ndarray, inner_step: InnerStep) -> bool:
        """Whether the compiled evaluation of the pass's first images equals the estimator's own, bit for bit."""
        outputs = self.estimator.predict(result.first_input).astype(np.float32)
        if not np.array_equal(outputs, result.first_outputs):
            return False
        if not result.probe_stepped:
            return True
        adv = inner_step(result.probe_input, rows[[result.probe_index]])
        adv_outputs = self.estimator.predict(adv).astype(np.float32)
        return np.array_equal(adv, result.probe_adv) and np.array_equal(adv_outputs, result.probe_adv_outputs)

    def _inner_attack_is_batchable(self) -> bool:
        """Deterministic per-image attacks run on several images at once; random ones one at a time, in order."""
        return self.attacker in _BATCHABLE_ATTACKERS and not (self.attacker_params or {}).get("num_random_init")

    def _inner_step(self) -> InnerStep:
        """The inner attack as a function ``(x, label rows) -> x_adv``: ART's attack object, except FGSM on a
        one-output model, whose labels ART's FastGradientMethod would turn into two columns."""
        attack = self._inner_attack()
        params = self.attacker_params or {}
        if (
            self._single_output
            and self.attacker == "fgsm"
            and not params.get("minimal")
            and not params.get("num_random_init")
        ):
            step = _fgsm_step(attack.eps, attack.norm, self.targeted, self.estimator.clip_values)
            return lambda x_in, rows: step(x_in, self.estimator.loss_gradient(x_in, rows))
        return lambda x_in, rows: attack.generate(x_in, y=rows)

    def _inner_attack(self) -> "EvasionAttack":
        """The inner attack as ART builds it, aimed where the perturbation aims, silent, batched (ART #1895)."""
        params = dict(self.attacker_params or {})
        accepted = self._get_class(self.attacks_dict[self.attacker]).attack_params
        defaults: dict[str, Any] = {"targeted": self.targeted, "verbose": False}
        if self._inner_attack_is_batchable():
            defaults["batch_size"] = self.batch_size
        defaults = {name: value for name, value in defaults.items() if name in accepted}
        return self._get_attack(self.attacker, {**defaults, **params})

    def _rates_of(
        self, adv_labels: np.ndarray, clean_labels: np.ndarray | None, reference: np.ndarray
    ) -> tuple[float, float | None]:
        """Fooling rate (vs clean predictions if targeted, vs ``reference`` if not, as ART) and success rate."""
        if self.targeted:
            return float(np.mean(adv_labels != clean_labels)), float(np.mean(adv_labels == reference))
        return float(np.mean(adv_labels != reference)), None

    def _apply(self, x: np.ndarray, noise: np.ndarray) -> np.ndarray:
        x_adv = x + noise
        if self.estimator.clip_values is not None:
            x_adv = np.clip(x_adv, self.estimator.clip_values[0], self.estimator.clip_values[1])
        return x_adv

    def _noise_norm(self, noise: np.ndarray) -> float:
        return float(np.linalg.norm(noise.ravel(), ord=_norm_order(self.norm)))

    def _check_x(self, x: np.ndarray) -> None:
        """Raise on bad images; accept (with a warning) excursions outside clip_values at float-rounding level."""
        check_images(x, self.estimator.clip_values, tolerance=_CLIP_TOLERANCE)
        clip_values = self.estimator.clip_values
        if clip_values is not None and (x.min() < np.min(clip_values[0]) or x.max() > np.max(clip_values[1])):
            logger.warning(
                "`x` exceeds clip_values by float rounding (values in [%.9g, %.9g]); used as given, as ART does.",
                x.min(),
                x.max(),
            )

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self._targeted, bool):
            raise ValueError("The argument `targeted` has to be of type bool.")
        if not isinstance(self.exact, bool):
            raise ValueError("The argument `exact` has to be of type bool.")
        _norm_order(self.norm)
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


def _labels_of(outputs: np.ndarray) -> np.ndarray:
    """Class indices of model outputs: the argmax, or ``p >= 0.5`` for one sigmoid output."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(outputs, axis=1)


def _norm_order(norm: int | float | str) -> float:
    """The order of the perturbation's norm as :func:`art.utils.projection` reads it."""
    if isinstance(norm, bool):
        raise ValueError(f"Unknown norm {norm!r}: use np.inf, 'inf' or a number p > 0 (e.g. 2).")
    if norm in (np.inf, "inf"):
        return np.inf
    try:
        order = float(norm)
    except (TypeError, ValueError):
        order = float("nan")
    if not order > 0:
        raise ValueError(f"Unknown norm {norm!r}: use np.inf, 'inf' or a number p > 0 (e.g. 2).")
    return order


def _as_tensor(x: np.ndarray):
    import tensorflow as tf

    return tf.constant(x)


def _fgsm_step(eps: float, norm: int | float | str, targeted: bool, clip_values):
    """ART's ``FastGradientMethod`` step after the loss gradient, operation for operation (``minimal=False``, no
    random initialisation, no mask): ``(x, gradients) -> x_adv``."""

    def step(x_in: np.ndarray, grads: np.ndarray) -> np.ndarray:
        grads = grads * (1 - 2 * int(targeted))
        if np.isnan(grads).any():
            grads = np.where(np.isnan(grads), 0.0, grads)
        perturbation_step = eps * _unit_direction(grads, norm)
        perturbation_step[np.isnan(perturbation_step)] = 0
        x_adv = x_in + perturbation_step
        if clip_values is not None:
            x_adv = np.clip(x_adv, clip_values[0], clip_values[1])
        return (x_in + projection(x_adv - x_in, eps, norm)).astype(np.float32)

    return step


def _unit_direction(grads: np.ndarray, norm: int | float | str) -> np.ndarray:
    """The step direction of ART's FGSM: maximises <grad, d> subject to ||d||_norm <= 1, per sample."""
    flat = grads.reshape(len(grads), -1)
    if norm in (np.inf, "inf"):
        unit = np.ones_like(flat)
    elif norm == 1:
        unit = np.zeros_like(flat)
        unit[range(len(flat)), np.argmax(np.abs(flat), axis=1)] = 1
    else:
        conjugate = norm / (norm - 1)
        q_norm = np.linalg.norm(flat, ord=conjugate, axis=1, keepdims=True)
        unit = (np.abs(flat) / np.where(q_norm, q_norm, np.inf)) ** (conjugate - 1)
    return unit.reshape(grads.shape) * np.sign(grads)
