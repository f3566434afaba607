"""Rates, confusion matrices, AUC, probability drop and norms for adversarial evaluation.

Pure NumPy / scikit-learn. Predictions may be given as integer class labels ``(N,)``, as class
probabilities ``(N, K)``, or as single sigmoid outputs ``(N, 1)`` (label 1 where the output is
>= 0.5). Images are on the 0-255 pixel scale.

- Fooling rate against clean predictions (Hirano, Minagi, Takemoto 2021, study 001) and against true
  labels (Hirano, Koga, Takemoto 2020, study 000): :func:`fooling_rate`, :func:`fooling_rate_vs_labels`.
- Targeted attack success rate R_s (studies 000 / 001) and its no-attack baseline:
  :func:`targeted_success_rate`, :func:`targeted_success_baseline`.
- Drop of the correct-class probability (study 003): :func:`correct_class_probability_drop` (Tables 5 and 9:
  means over the images classified correctly both before and after the attack) and
  :func:`mean_probability_drop` (the mean over all images).
- UAP radius from a norm ratio, xi = zeta * mean ||x||_p (studies 000 / 001): :func:`xi_from_zeta`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.metrics import roc_auc_score

Norm = int | float | str


def _finite_array(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or Inf.")
    return array


def to_labels(pred: np.ndarray, name: str = "pred") -> np.ndarray:
    """Integer labels from labels ``(N,)``, probabilities ``(N, K)`` or sigmoid outputs ``(N, 1)``.

    :param pred: Predictions in any of the three forms.
    :param name: Name used in error messages.
    :return: int64 labels of shape ``(N,)``.
    :raises ValueError: On NaN / Inf, on a 1-D array that is not integer-valued and non-negative, or on
        more than two dimensions.
    """
    array = _finite_array(pred, name)
    if array.ndim == 1:
        if np.any(array < 0) or np.any(array != np.round(array)):
            raise ValueError(
                f"{name} is 1-D, so it must hold non-negative integer class labels; pass sigmoid "
                "outputs as shape (N, 1) and class probabilities as shape (N, K)."
            )
        return array.astype(np.int64)
    if array.ndim == 2:
        if array.shape[1] == 1:
            return (array[:, 0] >= 0.5).astype(np.int64)
        return np.argmax(array, axis=1).astype(np.int64)
    raise ValueError(f"{name} must have shape (N,), (N, 1) or (N, K), got {array.shape}.")


def _paired_labels(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    labels_a, labels_b = to_labels(a, name_a), to_labels(b, name_b)
    if labels_a.shape != labels_b.shape:
        raise ValueError(f"{name_a} and {name_b} hold different numbers of samples: {len(labels_a)} vs {len(labels_b)}.")
    return labels_a, labels_b


def _targets(target: int | np.ndarray, n: int) -> np.ndarray:
    """A target class index (or one per sample) broadcast to ``(n,)``."""
    array = np.asarray(target)
    if array.ndim == 0:
        array = np.full(n, array)
    labels = to_labels(array, "target")
    if len(labels) != n:
        raise ValueError(f"target holds {len(labels)} entries for {n} predictions.")
    return labels


def fooling_rate(clean_pred: np.ndarray, adv_pred: np.ndarray) -> float:
    """Fraction of samples whose predicted label changed under attack (R_f of study 001).

    :param clean_pred: Predictions on the clean images.
    :param adv_pred: Predictions on the adversarial images.
    """
    clean, adv = _paired_labels(clean_pred, adv_pred, "clean_pred", "adv_pred")
    return float(np.mean(clean != adv))


def fooling_rate_vs_labels(y_true: np.ndarray, adv_pred: np.ndarray) -> float:
    """Fraction of adversarial images not classified into their true label (R_f of study 000).

    :param y_true: True labels.
    :param adv_pred: Predictions on the adversarial images.
    """
    true, adv = _paired_labels(y_true, adv_pred, "y_true", "adv_pred")
    return float(np.mean(true != adv))


def targeted_success_rate(adv_pred: np.ndarray, target: int | np.ndarray) -> float:
    """Fraction of adversarial images classified into the target class (R_s of studies 000 / 001).

    :param adv_pred: Predictions on the adversarial images.
    :param target: One target class index, or one per sample.
    """
    adv = to_labels(adv_pred, "adv_pred")
    return float(np.mean(adv == _targets(target, len(adv))))


def targeted_success_baseline(clean_pred: np.ndarray, target: int | np.ndarray) -> float:
    """R_s without any attack: the fraction of clean images already predicted as the target class.

    :param clean_pred: Predictions on the clean images.
    :param target: One target class index, or one per sample.
    """
    return targeted_success_rate(clean_pred, target)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of predictions equal to the true labels."""
    true, pred = _paired_labels(y_true, y_pred, "y_true", "y_pred")
    return float(np.mean(true == pred))


def confusion_matrix_normalised(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Row-normalised confusion matrix: entry ``[i, j]`` is the fraction of class ``i`` predicted as ``j``.

    Rows of classes without samples are all zeros (not NaN), so every row sums to 1 or to 0.

    :param y_true: True labels.
    :param y_pred: Predictions.
    :param num_classes: Number of classes ``K``; every label must lie in ``[0, K)``.
    :return: float64 array of shape ``(K, K)``.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be positive, got {num_classes}.")
    true, pred = _paired_labels(y_true, y_pred, "y_true", "y_pred")
    for name, labels in (("y_true", true), ("y_pred", pred)):
        if labels.max() >= num_classes:
            raise ValueError(f"{name} holds label {labels.max()}, outside [0, {num_classes}).")
    counts = np.zeros((num_classes, num_classes), dtype=np.float64)
    np.add.at(counts, (true, pred), 1.0)
    row_sums = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)


def _binary_scores(probs: np.ndarray) -> np.ndarray | None:
    """Positive-class scores for binary probabilities of shape (N,), (N, 1) or (N, 2); else None."""
    if probs.ndim == 1:
        return probs
    if probs.ndim == 2 and probs.shape[1] == 1:
        return probs[:, 0]
    if probs.ndim == 2 and probs.shape[1] == 2:
        return probs[:, 1]
    return None


def roc_auc(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Area under the ROC curve.

    Binary tasks take positive-class scores of shape ``(N,)``, ``(N, 1)`` or ``(N, 2)`` (column 1);
    multi-class tasks take ``(N, K)`` probabilities and give the one-vs-rest macro average.

    :param y_true: True labels.
    :param probs: Scores or probabilities.
    :raises ValueError: If a class has no sample (AUC undefined) or shapes disagree.
    """
    true = to_labels(y_true, "y_true")
    scores = _finite_array(probs, "probs").astype(np.float64)
    if len(scores) != len(true):
        raise ValueError(f"y_true and probs hold different numbers of samples: {len(true)} vs {len(scores)}.")
    binary = _binary_scores(scores)
    if binary is not None:
        if true.max() > 1 or len(np.unique(true)) != 2:
            raise ValueError("Binary ROC AUC needs labels 0 and 1, both present in y_true.")
        return float(roc_auc_score(true, binary))
    if scores.ndim != 2:
        raise ValueError(f"probs must have shape (N,), (N, 1) or (N, K), got {scores.shape}.")
    num_classes = scores.shape[1]
    if true.max() >= num_classes or len(np.unique(true)) != num_classes:
        raise ValueError(f"Multi-class ROC AUC needs every class 0..{num_classes - 1} present in y_true.")
    return float(roc_auc_score(true, scores, multi_class="ovr", average="macro", labels=np.arange(num_classes)))


def _correct_class_probability(probs: np.ndarray, true: np.ndarray, name: str) -> np.ndarray:
    array = _finite_array(probs, name).astype(np.float64)
    if len(array) != len(true):
        raise ValueError(f"{name} and y_true hold different numbers of samples: {len(array)} vs {len(true)}.")
    if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1):
        if true.max() > 1:
            raise ValueError(f"{name} holds sigmoid outputs, so y_true must be 0 or 1.")
        positive = array.reshape(-1)
        return np.where(true == 1, positive, 1.0 - positive)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (N,), (N, 1) or (N, K), got {array.shape}.")
    if true.max() >= array.shape[1]:
        raise ValueError(f"y_true holds label {true.max()}, outside [0, {array.shape[1]}).")
    return array[np.arange(len(true)), true]


def mean_probability_drop(clean_probs: np.ndarray, adv_probs: np.ndarray, y_true: np.ndarray) -> float:
    """Mean drop of the probability given to the correct class, clean minus adversarial (study 003).

    Sigmoid outputs ``(N,)`` / ``(N, 1)`` count as the probability of class 1.

    :param clean_probs: Probabilities on the clean images.
    :param adv_probs: Probabilities on the adversarial images, same shape.
    :param y_true: True labels.
    """
    true = to_labels(y_true, "y_true")
    if np.shape(clean_probs) != np.shape(adv_probs):
        raise ValueError(f"clean_probs and adv_probs differ in shape: {np.shape(clean_probs)} vs {np.shape(adv_probs)}.")
    clean = _correct_class_probability(clean_probs, true, "clean_probs")
    adv = _correct_class_probability(adv_probs, true, "adv_probs")
    return float(np.mean(clean - adv))


@dataclass(frozen=True)
class ProbabilityDrop:
    """Correct-class probability before and after an attack, as study 003 reports it (Tables 5 and 9).

    :ivar count: Images classified correctly both before and after the attack (the ones averaged).
    :ivar original: Their mean correct-class probability on the clean images; None when ``count == 0``.
    :ivar adversarial: Their mean correct-class probability on the adversarial images; None when ``count == 0``.
    :ivar drop: ``original - adversarial``; None when ``count == 0``.
    """

    count: int
    original: float | None
    adversarial: float | None
    drop: float | None


def correct_class_probability_drop(
    clean_probs: np.ndarray, adv_probs: np.ndarray, y_true: np.ndarray
) -> ProbabilityDrop:
    """Mean correct-class probability before and after the attack, and its drop, over the images classified
    correctly both before and after (study 003: "the classification score of the corresponding adversarial image
    x' was investigated if both x and x' were correctly classified"; Tables 5 and 9).

    Unlike :func:`mean_probability_drop`, images that the attack (or the model) gets wrong are left out, so the
    original mean changes with the budget, as in the paper's tables.

    :param clean_probs: Probabilities on the clean images, ``(N, K)``, or sigmoid outputs ``(N,)`` / ``(N, 1)``.
    :param adv_probs: Probabilities on the adversarial images, same shape.
    :param y_true: True labels.
    """
    true = to_labels(y_true, "y_true")
    if np.shape(clean_probs) != np.shape(adv_probs):
        raise ValueError(f"clean_probs and adv_probs differ in shape: {np.shape(clean_probs)} vs {np.shape(adv_probs)}.")
    clean = _correct_class_probability(clean_probs, true, "clean_probs")
    adv = _correct_class_probability(adv_probs, true, "adv_probs")
    both = (to_labels(np.asarray(clean_probs).reshape(len(true), -1), "clean_probs") == true) & (
        to_labels(np.asarray(adv_probs).reshape(len(true), -1), "adv_probs") == true
    )
    count = int(np.sum(both))
    if count == 0:
        return ProbabilityDrop(0, None, None, None)
    original, adversarial = float(np.mean(clean[both])), float(np.mean(adv[both]))
    return ProbabilityDrop(count, original, adversarial, float(np.mean(clean[both] - adv[both])))


def _check_norm(norm: Norm) -> float:
    if norm in (2, 2.0):
        return 2.0
    if norm in (np.inf, "inf"):
        return np.inf
    raise ValueError(f"norm must be 2 or np.inf ('inf'), got {norm!r}.")


def lp_norms(x: np.ndarray, norm: Norm) -> np.ndarray:
    """Per-sample Lp norm of a batch, flattened over all but the first axis.

    :param x: Batch of shape ``(N, ...)``.
    :param norm: 2 or ``np.inf``.
    :return: float64 array of shape ``(N,)``.
    """
    p = _check_norm(norm)
    array = _finite_array(x, "x")
    if array.ndim < 2:
        raise ValueError(f"x must be a batch of shape (N, ...), got {array.shape}.")
    return np.linalg.norm(array.reshape(len(array), -1).astype(np.float64), ord=p, axis=1)


def xi_from_zeta(
    x: np.ndarray,
    zeta: float,
    norm: Norm,
    channels: Literal["all", "first"] = "all",
) -> float:
    """UAP radius xi = zeta * mean Lp norm of the images (studies 000 / 001).

    :param x: Images of shape ``(N, H, W, C)`` on the 0-255 pixel scale (xi is on that scale too).
    :param zeta: The ratio as a fraction in (0, 1]: ``0.02`` means zeta = 2 %.
    :param norm: 2 or ``np.inf``.
    :param channels: ``"all"`` measures each whole image; ``"first"`` measures channel 0 only, the
        convention of the authors' code (it matters for RGB images; grayscale gives the same xi).
    :return: xi as a Python float.
    """
    if not np.isfinite(zeta) or not 0 < zeta <= 1:
        raise ValueError(f"zeta must be a fraction in (0, 1] (0.02 for 2 %), got {zeta}.")
    if channels not in ("all", "first"):
        raise ValueError(f"channels must be 'all' or 'first', got {channels!r}.")
    array = np.asarray(x)
    if array.ndim != 4:
        raise ValueError(f"x must have shape (N, H, W, C), got {array.shape}.")
    if channels == "first":
        array = array[..., :1]
    return float(zeta * np.mean(lp_norms(array, norm)))
