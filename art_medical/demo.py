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

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from art_medical import metrics
from art_medical.data.synthetic import make_chest_xray_phantoms
from art_medical.models import ModelCard, save_model, to_art
from art_medical.reports import RunFolder
from art_medical.uap_grid import NOTES, UAPGrid, run_uap_grid, write_grid_report


MODEL_FILE = "model.keras"


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

    def grid(self) -> UAPGrid:
        """The UAP grid these settings describe."""
        return UAPGrid(
            zetas=self.zetas, norms=self.norms, targets=(self.target,), xi_channels=self.xi_channels,
            fgsm_eps=self.fgsm_eps, max_iter=self.max_iter, delta=self.delta, uap_images=self.uap_images,
            batch_size=self.batch_size, strip_images=self.strip_images, seed=self.seed,
        )


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


def _write_summary(folder: RunFolder, settings: DemoSettings) -> str:
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
    notes = NOTES + " The demo computes UAPs on a seeded subset of the training images. Synthetic data: the numbers "
    notes += "show the pipeline working, not the robustness of any clinical model."
    return write_grid_report(folder, "art-medical demo: UAPs on synthetic chest X-rays", facts, notes)


def run_demo(out: str | Path, settings: DemoSettings | None = None) -> dict[str, Any]:
    """Run (or resume) the demo into the folder ``out``.

    :param out: The run folder; created if missing. A folder made with other settings is refused.
    :param settings: The demo's settings; defaults to :class:`DemoSettings`.
    :return: ``{"rows": [...], "computed": [keys], "skipped": [keys], "model_trained": bool, "table": str}``.
    """
    import keras

    settings = settings or DemoSettings()
    settings.grid().configurations()  # rejects unknown norms before any work
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
        card = ModelCard(
            architecture="small_cnn", input_shape=x_train.shape[1:], classes=list(classes),
            recipe=f"Adam lr {settings.learning_rate}, {settings.epochs} epochs, batch {settings.batch_size}",
            data="synthetic chest X-ray phantoms (art_medical.data.synthetic)",
            metrics={"validation_accuracy": training_info["validation_accuracy"]},
        )
        save_model(model, model_path, card)
    else:
        model = keras.models.load_model(model_path)
        print(f"Reusing the trained model in {model_path}.")
    classifier = to_art(model, clip_values=(0.0, 255.0))
    clean_probs = classifier.predict(x_test)
    test_accuracy = metrics.accuracy(y_test, clean_probs)
    if model_trained:
        folder.set_info("model", {**training_info, "test_accuracy": test_accuracy})
    print(f"Clean test accuracy: {100 * test_accuracy:.1f}% ({len(x_test)} images)")

    done = run_uap_grid(folder, classifier, x_train, x_test, y_test, clean_probs, classes, settings.grid())
    computed, skipped = done["computed"], done["skipped"]
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
