"""PNG figures of attack results: confusion matrices, image strips, rate curves and heatmaps.

They follow the figures of studies 000 and 001: row-normalised confusion matrices on clean and adversarial
images side by side, UAPs "emphatically displayed" (min-max scaled to [0, 1]), rates against zeta beside the
random control, rates per retraining round, and transferability matrices. Rendered with Matplotlib's Agg
backend and written atomically.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from art_medical.reports.files import write_atomic  # noqa: E402


def _save(figure: plt.Figure, path: str | Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return write_atomic(path, lambda file: file.write(buffer.getvalue()))


def _draw_confusion(axis: plt.Axes, matrix: np.ndarray, class_names: Sequence[str], title: str) -> None:
    axis.imshow(matrix, vmin=0.0, vmax=1.0, cmap="Blues")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=30, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title, fontsize=10)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if matrix[i, j] > 0.5 else "black"
            axis.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", color=colour, fontsize=9)


def save_confusion_matrices(
    path: str | Path,
    clean: np.ndarray,
    adversarial: np.ndarray,
    class_names: Sequence[str],
    titles: tuple[str, str] = ("clean", "adversarial"),
) -> Path:
    """Save two row-normalised confusion matrices side by side, values annotated.

    :param path: Destination PNG.
    :param clean: ``(K, K)`` matrix on clean images (see ``metrics.confusion_matrix_normalised``).
    :param adversarial: ``(K, K)`` matrix on adversarial images.
    :param class_names: ``K`` class names for the axes.
    :param titles: Panel titles.
    """
    k = len(class_names)
    for name, matrix in (("clean", clean), ("adversarial", adversarial)):
        if np.shape(matrix) != (k, k):
            raise ValueError(f"{name} confusion matrix has shape {np.shape(matrix)}, expected ({k}, {k}).")
    size = 2.2 + 0.75 * k
    figure, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    for axis, matrix, title in zip(axes, (clean, adversarial), titles):
        _draw_confusion(axis, np.asarray(matrix), class_names, title)
    figure.tight_layout()
    return _save(figure, path)


def _display(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An (H, W, C) image on 0-255 as something ``imshow`` shows faithfully."""
    if image.shape[-1] == 1:
        return image[..., 0] / 255.0, "gray"
    return np.clip(image / 255.0, 0.0, 1.0), None


def _amplified(noise: np.ndarray) -> np.ndarray:
    """The perturbation min-max scaled to [0, 255] for display (as in studies 000 / 001)."""
    low, high = float(noise.min()), float(noise.max())
    if high == low:
        return np.full_like(noise, 127.5)
    return (noise - low) / (high - low) * 255.0


def save_image_strip(
    path: str | Path,
    clean: np.ndarray,
    noise: np.ndarray,
    adversarial: np.ndarray,
    true_labels: Sequence[int],
    clean_pred: Sequence[int],
    adv_pred: Sequence[int],
    class_names: Sequence[str],
    title: str = "",
) -> Path:
    """Save one row per image: clean image, the perturbation amplified for display, adversarial image.

    Predicted labels are written above each image; a changed prediction is shown in red.

    :param path: Destination PNG.
    :param clean: ``(n, H, W, C)`` clean images on 0-255.
    :param noise: The perturbation, ``(H, W, C)`` or ``(1, H, W, C)``.
    :param adversarial: ``(n, H, W, C)`` adversarial images on 0-255.
    :param true_labels: ``n`` true labels.
    :param clean_pred: ``n`` predicted labels on the clean images.
    :param adv_pred: ``n`` predicted labels on the adversarial images.
    :param class_names: Names of the labels.
    :param title: Figure title.
    """
    clean, adversarial = np.asarray(clean), np.asarray(adversarial)
    noise = np.asarray(noise).reshape(clean.shape[1:])
    n = len(clean)
    if adversarial.shape != clean.shape or not n == len(true_labels) == len(clean_pred) == len(adv_pred):
        raise ValueError(
            f"clean {clean.shape}, adversarial {adversarial.shape} and the {len(true_labels)} / {len(clean_pred)} / "
            f"{len(adv_pred)} labels must describe the same images."
        )
    figure, axes = plt.subplots(n, 3, figsize=(6.6, 2.5 * n + 0.4), squeeze=False)
    uap_image, uap_cmap = _display(_amplified(noise))
    for row in range(n):
        clean_image, cmap = _display(clean[row])
        adv_image, _ = _display(adversarial[row])
        changed = adv_pred[row] != clean_pred[row]
        panels = (
            (clean_image, cmap, f"true {class_names[true_labels[row]]}\npred {class_names[clean_pred[row]]}", "black"),
            (uap_image, uap_cmap, "UAP (amplified)", "black"),
            (adv_image, cmap, f"adversarial\npred {class_names[adv_pred[row]]}", "red" if changed else "black"),
        )
        for axis, (image, panel_cmap, label, colour) in zip(axes[row], panels):
            axis.imshow(image, cmap=panel_cmap, vmin=0.0, vmax=1.0)
            axis.set_title(label, fontsize=9, color=colour)
            axis.axis("off")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return _save(figure, path)


Series = tuple[str, Sequence[float], Sequence[float | None], str]
"""A line of a plot: ``(label, x values, y values (None: missing), matplotlib format such as "o-")``."""


def save_line_panels(
    path: str | Path, panels: Sequence[tuple[str, Sequence[Series]]], xlabel: str, ylabel: str,
    percent: bool = True, suptitle: str = "",
) -> Path:
    """Save side-by-side line plots sharing the y axis, e.g. R_f against zeta per norm beside the random control.

    :param panels: ``(title, series)`` per panel.
    :param percent: Values are fractions, shown in percent on a 0-100 axis.
    """
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False, sharey=True)
    scale = 100.0 if percent else 1.0
    for axis, (title, series) in zip(axes[0], panels):
        for label, xs, ys, style in series:
            values = [np.nan if y is None else scale * y for y in ys]
            axis.plot(xs, values, style, label=label)
        ticks = sorted({x for _, xs, _, _ in series for x in xs})
        if len(ticks) <= 12:
            axis.set_xticks(ticks)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel(xlabel)
        axis.grid(alpha=0.3)
        if percent:
            axis.set_ylim(-2, 102)
        if series:
            axis.legend(fontsize=7, loc="best")
    axes[0][0].set_ylabel(ylabel + (" (%)" if percent else ""))
    if suptitle:
        figure.suptitle(suptitle, fontsize=11)
    figure.tight_layout()
    return _save(figure, path)


def save_heatmap(
    path: str | Path, matrix: np.ndarray, row_labels: Sequence[str], column_labels: Sequence[str], title: str,
    xlabel: str, ylabel: str,
) -> Path:
    """Save a matrix of rates in [0, 1] (NaN: not computed) as an annotated heatmap in percent."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (len(row_labels), len(column_labels)):
        raise ValueError(f"matrix of shape {matrix.shape} for {len(row_labels)} rows and {len(column_labels)} columns.")
    figure, axis = plt.subplots(figsize=(1.6 + 1.1 * len(column_labels), 1.2 + 0.6 * len(row_labels)))
    axis.imshow(np.nan_to_num(matrix, nan=0.0), vmin=0.0, vmax=1.0, cmap="Reds")
    axis.set_xticks(np.arange(len(column_labels)), column_labels, rotation=30, ha="right")
    axis.set_yticks(np.arange(len(row_labels)), row_labels)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=10)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            text = "-" if np.isnan(matrix[i, j]) else f"{100 * matrix[i, j]:.1f}"
            colour = "white" if matrix[i, j] > 0.5 else "black"
            axis.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
    figure.tight_layout()
    return _save(figure, path)
