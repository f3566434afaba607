"""Metrics on hand-computed examples (art_medical.metrics)."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical import metrics


def test_to_labels_accepts_labels_probabilities_and_sigmoid_outputs():
    np.testing.assert_array_equal(metrics.to_labels(np.array([2, 0, 1])), [2, 0, 1])
    np.testing.assert_array_equal(metrics.to_labels(np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])), [1, 0])
    np.testing.assert_array_equal(metrics.to_labels(np.array([[0.2], [0.5], [0.9]])), [0, 1, 1])


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([0.2, 0.7]), "integer class labels"),
        (np.array([-1, 0]), "integer class labels"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.zeros((2, 2, 2)), "shape"),
        (np.array([]), "empty"),
    ],
)
def test_to_labels_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        metrics.to_labels(bad)


def test_fooling_rate_against_clean_predictions():
    clean = np.array([0, 1, 2, 1, 0])
    adv = np.array([0, 2, 2, 0, 0])
    assert metrics.fooling_rate(clean, adv) == pytest.approx(2 / 5)


def test_fooling_rate_takes_probabilities_and_sigmoid_outputs():
    clean = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    adv = np.array([[0.4], [0.9], [0.7], [0.1]])  # labels 0, 1, 1, 0
    assert metrics.fooling_rate(clean, adv) == pytest.approx(2 / 4)


def test_fooling_rate_vs_labels_counts_misclassified_adversarial_images():
    y_true = np.array([0, 1, 2, 2])
    adv = np.array([0, 0, 0, 2])
    assert metrics.fooling_rate_vs_labels(y_true, adv) == pytest.approx(2 / 4)
    # The two definitions differ when the clean model already errs.
    assert metrics.fooling_rate(np.array([1, 1, 2, 2]), adv) == pytest.approx(3 / 4)


def test_rates_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="different numbers of samples"):
        metrics.fooling_rate(np.array([0, 1, 2]), np.array([0, 1]))


def test_targeted_success_rate_and_baseline():
    adv = np.array([2, 2, 1, 2, 0])
    clean = np.array([0, 2, 1, 1, 0])
    assert metrics.targeted_success_rate(adv, 2) == pytest.approx(3 / 5)
    assert metrics.targeted_success_baseline(clean, 2) == pytest.approx(1 / 5)
    assert metrics.targeted_success_rate(adv, np.array([2, 2, 2, 0, 0])) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="target holds 2 entries"):
        metrics.targeted_success_rate(adv, np.array([2, 2]))


def test_accuracy():
    assert metrics.accuracy(np.array([0, 1, 1, 2]), np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])) == 0.75


def test_confusion_matrix_normalised_by_rows():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 2, 1, 2, 2, 2, 0])
    expected = np.array([[3 / 4, 0, 1 / 4], [0, 1 / 2, 1 / 2], [1 / 3, 0, 2 / 3]])
    np.testing.assert_allclose(metrics.confusion_matrix_normalised(y_true, y_pred, 3), expected)


def test_confusion_matrix_rows_without_samples_are_zero():
    matrix = metrics.confusion_matrix_normalised(np.array([0, 0, 2]), np.array([0, 1, 1]), 3)
    np.testing.assert_allclose(matrix, [[0.5, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_confusion_matrix_rejects_labels_outside_num_classes():
    with pytest.raises(ValueError, match="y_pred holds label 3"):
        metrics.confusion_matrix_normalised(np.array([0, 1]), np.array([0, 3]), 3)


def test_roc_auc_binary_in_all_three_shapes():
    y = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])  # 3 of the 4 positive/negative pairs ordered correctly
    assert metrics.roc_auc(y, scores) == pytest.approx(0.75)
    assert metrics.roc_auc(y, scores[:, None]) == pytest.approx(0.75)
    assert metrics.roc_auc(y, np.stack([1 - scores, scores], axis=1)) == pytest.approx(0.75)


def test_roc_auc_multiclass_is_one_vs_rest_macro():
    y = np.array([0, 1, 2, 0, 1, 2])
    perfect = np.eye(3)[y] * 0.8 + 0.2 / 3
    assert metrics.roc_auc(y, perfect) == pytest.approx(1.0)
    probs = np.array(
        [[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.2, 0.7, 0.1], [0.2, 0.2, 0.6]]
    )
    # Class 0 scores: positives 0.6, 0.3 vs negatives 0.5, 0.1, 0.2, 0.2 -> 7 of 8 pairs = 0.875.
    # Class 1 scores: positives 0.4, 0.7 vs negatives 0.3, 0.2, 0.4, 0.2 -> (7 + 0.5 for the tie) / 8 = 0.9375.
    # Class 2 scores: positives 0.7, 0.6 above all negatives 0.1, 0.1, 0.3, 0.1 -> 1.0.
    assert metrics.roc_auc(y, probs) == pytest.approx((0.875 + 0.9375 + 1.0) / 3)


def test_roc_auc_needs_every_class():
    with pytest.raises(ValueError, match="both present"):
        metrics.roc_auc(np.array([1, 1]), np.array([0.2, 0.9]))


def test_mean_probability_drop_softmax_and_sigmoid():
    y = np.array([0, 2])
    clean = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])
    adv = np.array([[0.3, 0.6, 0.1], [0.1, 0.4, 0.5]])
    assert metrics.mean_probability_drop(clean, adv, y) == pytest.approx((0.6 + 0.3) / 2)
    y_binary = np.array([1, 0])
    clean_sigmoid = np.array([[0.9], [0.2]])  # correct-class probabilities 0.9 and 0.8
    adv_sigmoid = np.array([[0.4], [0.6]])  # correct-class probabilities 0.4 and 0.4
    assert metrics.mean_probability_drop(clean_sigmoid, adv_sigmoid, y_binary) == pytest.approx((0.5 + 0.4) / 2)


def test_mean_probability_drop_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.mean_probability_drop(np.ones((2, 3)) / 3, np.ones((2, 2)) / 2, np.array([0, 1]))


def test_correct_class_probability_drop_averages_images_correct_before_and_after():
    y = np.array([0, 2, 1, 1])
    clean = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    adv = np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.1, 0.8, 0.1], [0.3, 0.6, 0.1]])
    # Image 1 is fooled, image 2 is wrong before the attack: only images 0 and 3 count.
    drop = metrics.correct_class_probability_drop(clean, adv, y)
    assert drop.count == 2
    assert drop.original == pytest.approx((0.9 + 0.7) / 2)
    assert drop.adversarial == pytest.approx((0.7 + 0.6) / 2)
    assert drop.drop == pytest.approx((0.2 + 0.1) / 2)
    # The mean over all images counts the fooled and the misclassified ones too.
    assert metrics.mean_probability_drop(clean, adv, y) == pytest.approx((0.2 + 0.4 - 0.5 + 0.1) / 4)


def test_correct_class_probability_drop_sigmoid_and_no_qualifying_image():
    y = np.array([1, 0, 1])
    clean, adv = np.array([0.9, 0.2, 0.7]), np.array([0.6, 0.7, 0.55])  # image 1 fooled
    drop = metrics.correct_class_probability_drop(clean, adv, y)
    assert (drop.count, drop.original, drop.adversarial) == (2, pytest.approx(0.8), pytest.approx(0.575))
    assert drop.drop == pytest.approx(0.225)
    none = metrics.correct_class_probability_drop(clean[:, None], 1.0 - clean[:, None], y)
    assert none == metrics.ProbabilityDrop(0, None, None, None)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.correct_class_probability_drop(np.ones((3, 2)) / 2, clean, y)


def test_lp_norms_per_sample():
    x = np.zeros((2, 2, 2, 1), dtype=np.float32)
    x[0, 0, 0, 0], x[0, 1, 1, 0] = 3.0, -4.0
    x[1] = 1.0
    np.testing.assert_allclose(metrics.lp_norms(x, 2), [5.0, 2.0])
    np.testing.assert_allclose(metrics.lp_norms(x, np.inf), [4.0, 1.0])
    np.testing.assert_allclose(metrics.lp_norms(x, "inf"), [4.0, 1.0])


def test_xi_from_zeta_on_images_with_known_mean_norm():
    # Constant images of value 100 and 200, 4x4x1: L2 norms 400 and 800 (mean 600), L-inf norms 100 and 200.
    x = np.stack([np.full((4, 4, 1), 100.0), np.full((4, 4, 1), 200.0)]).astype(np.float32)
    assert metrics.xi_from_zeta(x, 0.02, 2) == pytest.approx(0.02 * 600)
    assert metrics.xi_from_zeta(x, 0.04, np.inf) == pytest.approx(0.04 * 150)


def test_xi_from_zeta_first_channel_convention_differs_on_rgb():
    x = np.zeros((1, 2, 2, 3), dtype=np.float32)
    x[..., 0], x[..., 1], x[..., 2] = 10.0, 20.0, 40.0
    # Channel 0 only: L2 = sqrt(4 * 100) = 20, L-inf = 10; all channels: L2 = sqrt(4 * 2100), L-inf = 40.
    assert metrics.xi_from_zeta(x, 0.5, 2, channels="first") == pytest.approx(10.0)
    assert metrics.xi_from_zeta(x, 0.5, 2, channels="all") == pytest.approx(0.5 * np.sqrt(8400))
    assert metrics.xi_from_zeta(x, 0.5, np.inf, channels="first") == pytest.approx(5.0)
    assert metrics.xi_from_zeta(x, 0.5, np.inf, channels="all") == pytest.approx(20.0)


def test_xi_from_zeta_same_for_both_conventions_on_grayscale():
    x = np.random.default_rng(0).uniform(0, 255, (5, 8, 8, 1)).astype(np.float32)
    assert metrics.xi_from_zeta(x, 0.02, 2, "first") == metrics.xi_from_zeta(x, 0.02, 2, "all")


@pytest.mark.parametrize(
    "zeta, norm, channels, message",
    [
        (0.0, 2, "all", "zeta"),
        (-0.02, 2, "all", "zeta"),
        (2.0, 2, "all", "zeta"),
        (float("nan"), 2, "all", "zeta"),
        (0.02, 1, "all", "norm"),
        (0.02, "l2", "all", "norm"),
        (0.02, 2, "last", "channels"),
    ],
)
def test_xi_from_zeta_rejects_bad_arguments(zeta, norm, channels, message):
    x = np.ones((2, 4, 4, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=message):
        metrics.xi_from_zeta(x, zeta, norm, channels)


def test_xi_from_zeta_rejects_nan_images_and_wrong_rank():
    x = np.ones((2, 4, 4, 1), dtype=np.float32)
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.xi_from_zeta(x, 0.02, 2)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        metrics.xi_from_zeta(np.ones((2, 4, 4)), 0.02, 2)
