"""The main job: UAPs against a small CNN trained on synthetic chest X-rays (``art-medical demo``).

Follows the protocol of studies 000 and 001 (Hirano et al.) on built-in data, so it needs no download:

1. generate phantoms (``normal`` / ``pneumonia`` / ``covid``), train a SmallCNN with a validation split
   taken from the training images, and report its clean test accuracy;
2. for p = 2 and inf and each zeta, set xi = zeta * mean Lp norm of the training images, then compute
   a non-targeted UAP, a targeted UAP (to one class) and a random control of norm xi; UAPs are
   generated on training images and evaluated on the test images. The studies used the whole
   training set; to keep the demo at a few minutes it uses a seeded random subset of
   ``uap_images`` training images;
3. write ``results.json``, ``table.txt``, ``report.md`` and, per UAP, a confusion-matrix PNG and a
   clean / UAP / adversarial image strip (``figures/``) into the run folder.

The run resumes: the trained model (``model.keras``) and every finished configuration (its row in
``results.json`` and its perturbation in ``noises/``) are reused by a later run into the same folder.
"""
from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from art_medical import metrics
from art_medical.attacks.random_uap import random_uap
from art_medical.data.synthetic import make_chest_xray_phantoms
from art_medical.models import to_art
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

MODEL_FILE = "model.keras"
NORMS: dict[str, float] = {"2": 2.0, "inf": np.inf}


@dataclass(frozen=True)
class DemoSettings:
    """Everything that determines the demo's results; stored in ``results.json``.

    The defaults train in about a minute on two CPU cores; :meth:`quick` shrinks everything for tests.
    """

    seed: int = 0
    image_size: int = 64
    train_per_class: int = 200
    test_per_class: int = 60
    validation_fraction: float = 0.2
    filters: int = 16
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 3e-3
    zetas: tuple[float, ...] = (0.02, 0.04)
    norms: tuple[str, ...] = ("2", "inf")
    target: str = "covid"
    xi_channels: str = "all"
    fgsm_eps: float = 2.0
    max_iter: int = 5
    uap_images: int = 240
    delta: float = 0.2
    strip_images: int = 3
    class_names: tuple[str, ...] = ("normal", "pneumonia", "covid")

    @classmethod
    def quick(cls, seed: int = 0) -> "DemoSettings":
        """Tiny sizes for tests: 32x32 images, a few dozen of them, a few epochs and passes."""
        return replace(
            cls(seed=seed),
            image_size=32,
            train_per_class=40,
            test_per_class=10,
            filters=8,
            epochs=20,
            batch_size=16,
            max_iter=3,
            uap_images=60,
            strip_images=2,
        )


def _save_model(model: Any, path: Path) -> None:
    temp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _train_model(settings: DemoSettings, x: np.ndarray, y: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """Train a SmallCNN with Adam; the last ``validation_fraction`` of the (shuffled) images validates."""
    import keras
    from tqdm.keras import TqdmCallback

    from art_medical.models.small_cnn import SmallCNN

    keras.utils.set_random_seed(settings.seed)
    model = SmallCNN(input_shape=x.shape[1:], classes=len(settings.class_names), filters=settings.filters)
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        x,
        y,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_split=settings.validation_fraction,
        verbose=0,
        callbacks=[TqdmCallback(epochs=settings.epochs, verbose=0, desc="training")],
    )
    info = {
        "train_accuracy": float(history.history["accuracy"][-1]),
        "validation_accuracy": float(history.history["val_accuracy"][-1]),
        "training_seconds": time.perf_counter() - start,
    }
    return model, info


def _configurations(settings: DemoSettings) -> list[dict[str, Any]]:
    """Every (attack, norm, zeta) of the demo, each with a unique key."""
    configs = []
    for norm in settings.norms:
        for zeta in settings.zetas:
            for attack in ("uap", "targeted_uap", "random"):
                target = None if attack == "uap" else settings.target
                key = f"{attack}_p{norm}_zeta{zeta:g}"
                configs.append({"key": key, "attack": attack, "norm": norm, "zeta": zeta, "target": target})
    return configs


def _compute_noise(
    config: dict[str, Any], xi: float, classifier: Any, x_train: np.ndarray, settings: DemoSettings
) -> tuple[np.ndarray, dict[str, Any]]:
    """The perturbation of one configuration and what the attack reports on the images it was computed on."""
    if config["attack"] == "random":
        return random_uap(x_train.shape[1:], xi, NORMS[config["norm"]], seed=settings.seed), {}
    from art_medical.attacks import TargetedUniversalPerturbation

    targeted = config["attack"] == "targeted_uap"
    attack = TargetedUniversalPerturbation(
        classifier,
        attacker="fgsm",
        attacker_params={"eps": settings.fgsm_eps, "norm": np.inf},
        delta=settings.delta,
        max_iter=settings.max_iter,
        eps=xi,
        norm=NORMS[config["norm"]],
        batch_size=settings.batch_size,
        verbose=True,
        targeted=targeted,
    )
    targets = np.full(len(x_train), settings.class_names.index(settings.target)) if targeted else None
    random.seed(settings.seed)
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


def _save_figures(
    config: dict[str, Any],
    noise: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    adv: np.ndarray,
    clean_pred: np.ndarray,
    adv_pred: np.ndarray,
    clean_cm: np.ndarray,
    adv_cm: np.ndarray,
    settings: DemoSettings,
    folder: Path,
) -> None:
    """The confusion matrices and the image strip of one UAP."""
    name = f"{config['attack']} p={config['norm']} zeta={100 * config['zeta']:g}%"
    if config["target"] is not None:
        name += f" -> {config['target']}"
    figures = folder / "figures"
    save_confusion_matrices(
        figures / f"confusion_{config['key']}.png", clean_cm, adv_cm, settings.class_names, ("clean", name)
    )
    shown = _strip_indices(y_test, settings.strip_images)
    save_image_strip(
        figures / f"strip_{config['key']}.png",
        x_test[shown],
        noise,
        adv[shown],
        y_test[shown],
        clean_pred[shown],
        adv_pred[shown],
        settings.class_names,
        title=name,
    )


def _evaluate(
    config: dict[str, Any],
    noise: np.ndarray,
    xi: float,
    classifier: Any,
    x_test: np.ndarray,
    y_test: np.ndarray,
    clean_probs: np.ndarray,
    settings: DemoSettings,
    folder: Path,
) -> dict[str, Any]:
    """Rates of one perturbation on the test images; figures for UAPs (random controls change little)."""
    num_classes = len(settings.class_names)
    adv = np.clip(x_test + noise, 0.0, 255.0)
    adv_probs = classifier.predict(adv)
    clean_pred, adv_pred = metrics.to_labels(clean_probs), metrics.to_labels(adv_probs)
    target = None if config["target"] is None else settings.class_names.index(config["target"])
    clean_cm = metrics.confusion_matrix_normalised(y_test, clean_pred, num_classes)
    adv_cm = metrics.confusion_matrix_normalised(y_test, adv_pred, num_classes)
    if config["attack"] != "random":
        _save_figures(config, noise, x_test, y_test, adv, clean_pred, adv_pred, clean_cm, adv_cm, settings, folder)
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


_NOTES = (
    "Fooling rate: fraction of test images whose predicted label changed under the perturbation (study 001); "
    "`fooling_rate_vs_labels` in results.json counts adversarial predictions that differ from the true label "
    "(study 000). Targeted success: fraction of test images classified into the target class; "
    "`targeted_success_baseline` is that fraction without attack. Random rows are the studies' random controls: "
    "random vectors of the same norm xi. xi = zeta * mean Lp norm of the training images on the 0-255 scale. "
    "UAPs are computed on a seeded subset of the training images and evaluated on the test images. Synthetic data: the numbers show "
    "the pipeline working, not the robustness of any clinical model."
)


def _write_summary(folder: RunFolder, settings: DemoSettings) -> str:
    rows = folder.rows
    table = results_table(rows)
    write_text_atomic(folder.path / "table.txt", table)
    model = folder.info.get("model", {})
    facts = {
        "data": (
            f"synthetic chest X-ray phantoms {settings.image_size}x{settings.image_size}x1, classes "
            f"{', '.join(settings.class_names)}; {settings.train_per_class} train / {settings.test_per_class} test "
            "per class"
        ),
        "model": f"SmallCNN (filters {settings.filters}), Adam, {settings.epochs} epochs, seed {settings.seed}",
        "validation accuracy": f"{100 * model.get('validation_accuracy', float('nan')):.1f}%",
        "clean test accuracy": f"{100 * model.get('test_accuracy', float('nan')):.1f}%",
        "UAP": (
            f"FGSM inner step eps {settings.fgsm_eps} (L-inf, 0-255 scale), max_iter {settings.max_iter}, "
            f"delta {settings.delta}; targeted to '{settings.target}'; computed on {settings.uap_images} training "
            "images, evaluated on the test images"
        ),
    }
    figures = [
        (f"{kind} {row['key']}", f"figures/{kind}_{row['key']}.png")
        for row in rows
        if row["attack"] != "random"
        for kind in ("confusion", "strip")
    ]
    report = markdown_report("art-medical demo: UAPs on synthetic chest X-rays", facts, rows, figures, _NOTES)
    write_text_atomic(folder.path / "report.md", report)
    return table


def run_demo(out: str | Path, settings: DemoSettings | None = None) -> dict[str, Any]:
    """Run (or resume) the demo into the folder ``out``.

    :param out: The run folder; created if missing. A folder made with other settings is refused.
    :param settings: The demo's settings; defaults to :class:`DemoSettings`.
    :return: ``{"rows": [...], "computed": [keys], "skipped": [keys], "model_trained": bool, "table": str}``.
    """
    import keras

    settings = settings or DemoSettings()
    if settings.target not in settings.class_names:
        raise ValueError(f"Unknown target class {settings.target!r}; choose from {settings.class_names}.")
    folder = RunFolder(out, asdict(settings))
    classes = settings.class_names
    x_train, y_train, _ = make_chest_xray_phantoms(
        settings.train_per_class, settings.image_size, classes=classes, seed=settings.seed
    )
    x_test, y_test, _ = make_chest_xray_phantoms(
        settings.test_per_class, settings.image_size, classes=classes, seed=settings.seed + 1
    )

    model_path = folder.path / MODEL_FILE
    model_trained = not (model_path.exists() and "model" in folder.info)
    if model_trained:
        model, training_info = _train_model(settings, x_train, y_train)
        _save_model(model, model_path)
    else:
        model = keras.models.load_model(model_path)
        print(f"Reusing the trained model in {model_path}.")
    classifier = to_art(model, clip_values=(0.0, 255.0))
    clean_probs = classifier.predict(x_test)
    test_accuracy = metrics.accuracy(y_test, clean_probs)
    if model_trained:
        folder.set_info("model", {**training_info, "test_accuracy": test_accuracy})
    print(f"Clean test accuracy: {100 * test_accuracy:.1f}% ({len(x_test)} images)")

    subset = np.random.default_rng(settings.seed).permutation(len(x_train))[: settings.uap_images]
    x_uap = x_train[np.sort(subset)]
    computed, skipped = [], []
    noises = folder.path / "noises"
    configs = _configurations(settings)
    for config in tqdm(configs, desc="configurations"):
        noise_path = noises / f"{config['key']}.npy"
        if folder.has(config["key"]) and noise_path.exists():
            skipped.append(config["key"])
            continue
        norm = NORMS[config["norm"]]
        xi = metrics.xi_from_zeta(x_train, config["zeta"], norm, channels=settings.xi_channels)
        start = time.perf_counter()
        noise, attack_info = _compute_noise(config, xi, classifier, x_uap, settings)
        seconds = time.perf_counter() - start
        write_atomic(noise_path, lambda file: np.save(file, noise))
        row = _evaluate(config, noise, xi, classifier, x_test, y_test, clean_probs, settings, folder.path)
        folder.add_row({**row, **attack_info, "seconds": seconds})
        logger.info("%s: fooling rate %.3f on the test images (%.1f s).", config["key"], row["fooling_rate"], seconds)
        computed.append(config["key"])
    if skipped:
        print(f"Resumed: reused {len(skipped)} finished configuration(s) from {folder.results_path}.")
    table = _write_summary(folder, settings)
    print(table)
    return {
        "rows": folder.rows,
        "computed": computed,
        "skipped": skipped,
        "model_trained": model_trained,
        "table": table,
    }
