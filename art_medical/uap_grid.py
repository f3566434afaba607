"""The UAP protocol of studies 000 and 001 over a grid of norms and zetas, into a resumable run folder.

For each p and zeta: xi = zeta * mean Lp norm of the training images; a non-targeted UAP, a targeted UAP (when a
target class is given) and a random control of norm xi. UAPs are computed on training images with
:class:`TargetedUniversalPerturbation` (FGSM inner step) and measured on the test images: fooling rate against
the clean predictions (study 001) and the true labels (study 000), targeted success rate and its no-attack
baseline, accuracies, mean probability drop, row-normalised confusion matrices, plus a confusion-matrix figure
and a clean / UAP / adversarial image strip per UAP. Every finished configuration is saved at once (its row in
``results.json`` and its perturbation in ``noises/``) and skipped by a later run into the same folder.

Used by the demo (``art-medical demo``) and by the study scripts in ``experiments/``.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from art_medical import metrics
from art_medical.attacks import TargetedUniversalPerturbation, random_uap
from art_medical.reports import (
    RunFolder,
    markdown_report,
    results_table,
    save_confusion_matrices,
    save_image_strip,
    write_atomic,
    write_text_atomic,
)

logger = logging.getLogger(__name__)

NORMS: dict[str, float] = {"2": 2.0, "inf": np.inf}
NOTES = (
    "Fooling rate: fraction of test images whose predicted label changed under the perturbation (study 001); "
    "`fooling_rate_vs_labels` in results.json counts adversarial predictions that differ from the true label "
    "(study 000). Targeted success: fraction of test images classified into the target class; "
    "`targeted_success_baseline` is that fraction without attack. Random rows are the studies' random controls: "
    "random vectors of the same norm xi. xi = zeta * mean Lp norm of the training images on the 0-255 scale. "
    "UAPs are computed on training images and evaluated on the test images."
)


@dataclass(frozen=True)
class UAPGrid:
    """What the grid computes.

    :param zetas: UAP sizes as fractions of the mean image norm (0.02 = 2 %).
    :param norms: ``"2"`` and / or ``"inf"``.
    :param targets: Class names the targeted UAPs aim at, one UAP each (study 001 targets every class in turn);
        empty for non-targeted UAPs and random controls only.
    :param xi_channels: ``"all"`` or ``"first"`` (the authors' convention), see ``metrics.xi_from_zeta``.
    :param fgsm_eps: Inner FGSM step on the 0-255 scale (study 001: 0.0024 on (x - 128) / 128, i.e. 0.31).
    :param max_iter: Maximum passes of the UAP algorithm (i_max: 15 in studies 000 and 001).
    :param delta: Stop when the rate reaches ``1 - delta``.
    :param uap_images: Training images the UAPs are computed on (a seeded random subset); None for all.
    :param batch_size: Batch size of model evaluations.
    :param strip_images: Test images shown in each image strip.
    :param seed: Seed of the subset, the attack's visiting order and the random controls.
    """

    zetas: tuple[float, ...] = (0.02, 0.04)
    norms: tuple[str, ...] = ("2", "inf")
    targets: tuple[str, ...] = ()
    xi_channels: str = "all"
    fgsm_eps: float = 2.0
    max_iter: int = 5
    delta: float = 0.2
    uap_images: int | None = 240
    batch_size: int = 32
    strip_images: int = 3
    seed: int = 0

    def configurations(self) -> list[dict[str, Any]]:
        """Every configuration of the grid, each with a unique key such as ``targeted_uap_covid_p2_zeta0.02``.

        Per norm and zeta: the non-targeted UAP, a targeted UAP per target class and the random control (one row
        per target class, so that its targeted success rate stands beside the targeted UAP's; one row if none).
        """
        unknown = [norm for norm in self.norms if norm not in NORMS]
        if unknown:
            raise ValueError(f"Unknown norm(s) {unknown}: use '2' and / or 'inf'.")
        configs = []
        for norm in self.norms:
            for zeta in self.zetas:
                configs.append(_configuration("uap", norm, zeta, None))
                configs += [_configuration("targeted_uap", norm, zeta, target) for target in self.targets]
                configs += [_configuration("random", norm, zeta, target) for target in self.targets or (None,)]
        return configs


def _configuration(attack: str, norm: str, zeta: float, target: str | None) -> dict[str, Any]:
    key = "_".join([attack] + ([target] if target is not None else []) + [f"p{norm}", f"zeta{zeta:g}"])
    return {"key": key, "attack": attack, "norm": norm, "zeta": zeta, "target": target}


def run_uap_grid(
    folder: RunFolder,
    classifier: Any,
    x_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    clean_probs: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    grid: UAPGrid,
) -> dict[str, list[str]]:
    """Compute every configuration of ``grid`` not yet in ``folder``.

    :param folder: The run folder (``results.json``, ``noises/``, ``figures/``).
    :param classifier: ART classifier on the 0-255 pixel scale.
    :param x_train: Images the UAPs and xi are computed from.
    :param x_test: Images the perturbations are measured on, with their labels ``y_test``.
    :param clean_probs: ``classifier.predict(x_test)``, which the caller has for the clean accuracy.
    :param class_names: Names of the classifier's classes, in label order.
    :return: ``{"computed": [keys], "skipped": [keys]}``.
    """
    class_names = tuple(class_names)
    unknown = [target for target in grid.targets if target not in class_names]
    if unknown:
        raise ValueError(f"Unknown target class(es) {unknown}; choose from {class_names}.")
    subset = np.random.default_rng(grid.seed).permutation(len(x_train))[: grid.uap_images or len(x_train)]
    x_uap = x_train[np.sort(subset)]
    mean_norms: dict[str, float] = {}  # xi = zeta * mean Lp norm, which depends on p alone
    computed, skipped = [], []
    for config in tqdm(grid.configurations(), desc="configurations"):
        noise_path = folder.path / "noises" / f"{config['key']}.npy"
        if folder.has(config["key"]) and noise_path.exists():
            skipped.append(config["key"])
            continue
        if config["norm"] not in mean_norms:
            mean_norms[config["norm"]] = metrics.xi_from_zeta(x_train, 1.0, NORMS[config["norm"]], grid.xi_channels)
        xi = config["zeta"] * mean_norms[config["norm"]]
        start = time.perf_counter()
        noise, attack_info = _compute_noise(config, xi, classifier, x_uap, class_names, grid)
        seconds = time.perf_counter() - start
        write_atomic(noise_path, lambda file: np.save(file, noise))
        row = _evaluate(config, noise, xi, classifier, x_test, y_test, clean_probs, class_names, grid, folder.path)
        folder.add_row({**row, **attack_info, "seconds": seconds})
        logger.info("%s: fooling rate %.3f on the test images (%.1f s).", config["key"], row["fooling_rate"], seconds)
        computed.append(config["key"])
    return {"computed": computed, "skipped": skipped}


def write_grid_report(folder: RunFolder, title: str, facts: dict[str, Any], notes: str = NOTES) -> str:
    """Write ``table.txt`` and ``report.md`` (facts, results table, figures, notes); return the table."""
    rows = folder.rows
    table = results_table(rows)
    write_text_atomic(folder.path / "table.txt", table)
    figures = [
        (f"{kind} {row['key']}", f"figures/{kind}_{row['key']}.png")
        for row in rows
        if row["attack"] != "random"
        for kind in ("confusion", "strip")
    ]
    write_text_atomic(folder.path / "report.md", markdown_report(title, facts, rows, figures, notes))
    return table


def _compute_noise(
    config: dict[str, Any],
    xi: float,
    classifier: Any,
    x_train: np.ndarray,
    class_names: tuple[str, ...],
    grid: UAPGrid,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The perturbation of one configuration and what the attack reports on the images it was computed on."""
    if config["attack"] == "random":
        return random_uap(x_train.shape[1:], xi, NORMS[config["norm"]], seed=grid.seed), {}
    targeted = config["attack"] == "targeted_uap"
    attack = TargetedUniversalPerturbation(
        classifier,
        attacker="fgsm",
        attacker_params={"eps": grid.fgsm_eps, "norm": np.inf},
        delta=grid.delta,
        max_iter=grid.max_iter,
        eps=xi,
        norm=NORMS[config["norm"]],
        batch_size=grid.batch_size,
        verbose=True,
        targeted=targeted,
    )
    targets = np.full(len(x_train), class_names.index(config["target"])) if targeted else None
    random.seed(grid.seed)
    attack.generate(x_train, targets)
    info = {
        "train_fooling_rate": attack.fooling_rate,
        "train_targeted_success_rate": attack.targeted_success_rate,
        "converged": attack.converged,
        "passes": len(attack.history),
    }
    return attack.noise.astype(np.float32), info


def _strip_indices(y: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` test images, taking classes in turn, so the strip shows every class."""
    per_class = [np.flatnonzero(y == k) for k in np.unique(y)]
    order = [idx[i] for i in range(max(map(len, per_class))) for idx in per_class if i < len(idx)]
    return np.asarray(order[:count])


def _evaluate(
    config: dict[str, Any],
    noise: np.ndarray,
    xi: float,
    classifier: Any,
    x_test: np.ndarray,
    y_test: np.ndarray,
    clean_probs: np.ndarray,
    class_names: tuple[str, ...],
    grid: UAPGrid,
    folder: Path,
) -> dict[str, Any]:
    """Rates of one perturbation on the test images; figures for UAPs (random controls change little)."""
    low, high = classifier.clip_values if classifier.clip_values is not None else (-np.inf, np.inf)
    adv = np.clip(x_test + noise, low, high)
    adv_probs = classifier.predict(adv)
    clean_pred, adv_pred = metrics.to_labels(clean_probs), metrics.to_labels(adv_probs)
    target = None if config["target"] is None else class_names.index(config["target"])
    clean_cm = metrics.confusion_matrix_normalised(y_test, clean_pred, len(class_names))
    adv_cm = metrics.confusion_matrix_normalised(y_test, adv_pred, len(class_names))
    if config["attack"] != "random":
        name = f"{config['attack']} p={config['norm']} zeta={100 * config['zeta']:g}%"
        if config["target"] is not None:
            name += f" -> {config['target']}"
        figures = folder / "figures"
        save_confusion_matrices(figures / f"confusion_{config['key']}.png", clean_cm, adv_cm, class_names,
                                ("clean", name))
        shown = _strip_indices(y_test, grid.strip_images)
        save_image_strip(figures / f"strip_{config['key']}.png", x_test[shown], noise, adv[shown], y_test[shown],
                         clean_pred[shown], adv_pred[shown], class_names, title=name)
    return {
        **config,
        "xi": xi,
        "noise_norm": float(metrics.lp_norms(noise, NORMS[config["norm"]])[0]),
        "fooling_rate": metrics.fooling_rate(clean_pred, adv_pred),
        "fooling_rate_vs_labels": metrics.fooling_rate_vs_labels(y_test, adv_pred),
        "targeted_success_rate": None if target is None else metrics.targeted_success_rate(adv_pred, target),
        "targeted_success_baseline": None if target is None else metrics.targeted_success_baseline(clean_pred, target),
        "clean_accuracy": metrics.accuracy(y_test, clean_pred),
        "adversarial_accuracy": metrics.accuracy(y_test, adv_pred),
        "mean_probability_drop": metrics.mean_probability_drop(clean_probs, adv_probs, y_test),
        "confusion_clean": clean_cm.tolist(),
        "confusion_adversarial": adv_cm.tolist(),
    }
