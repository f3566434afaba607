"""The main job: UAPs against a small CNN trained on synthetic chest X-rays (``art-medical demo``).

A small preset of the UAP protocol of studies 000 and 001 (:mod:`art_medical.studies.uap`) on built-in data, so
it needs no download: phantoms (``normal`` / ``pneumonia`` / ``covid``) generated in memory, a SmallCNN trained
with a validation split carved from the training images, then for p = 2 and inf and zeta = 2 % and 4 % a
non-targeted UAP, a targeted UAP (to ``covid`` by default) and a random control of the same norm, computed on a
seeded subset of the training images and evaluated on the test images. The run folder has the layout of every
study (:mod:`art_medical.studies.folder`) and resumes: the trained model and every finished cell are reused.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from art_medical.data.synthetic import CLASS_NAMES
from art_medical.studies.registry import StudyDefinition, StudyResult, run_protocol
from art_medical.studies.uap import UAPStudyRun
from art_medical.studies.uap_config import parse_uap_config


def demo_config(quick: bool = False, seed: int = 0, target: str = "covid") -> dict[str, Any]:
    """The demo's configuration; ``quick`` shrinks everything for tests (about half a minute)."""
    if target not in CLASS_NAMES:
        raise ValueError(f"Unknown target class {target!r}; choose from {list(CLASS_NAMES)}.")
    size, train, test, epochs, filters, uap_images, passes = (
        (32, 40, 10, 20, 8, 60, 3) if quick else (64, 200, 60, 15, 16, 240, 5))
    return {
        "study": "demo",
        "title": "art-medical demo: UAPs on synthetic chest X-rays",
        "seed": seed,
        "datasets": {"phantoms": {
            "loader": "phantoms", "title": "synthetic chest X-rays", "targets": [target],
            "options": {"n_train_per_class": train, "n_test_per_class": test, "size": size},
        }},
        "models": {"small_cnn": {"architecture": "small_cnn", "options": {"filters": filters}, "title": "SmallCNN"}},
        "training": {"recipe": "phantoms", "overrides": {
            "learning_rate": 3e-3, "epochs": epochs, "batch_size": 16 if quick else 32, "validation_fraction": 0.2}},
        "uap": {"algorithm": "iterative", "zetas": [0.02, 0.04], "norms": ["2", "inf"], "fgsm_eps": 2.0, "max_iter": passes,
                "uap_images": uap_images, "xi_channels": "all", "strip_images": 2 if quick else 3},
    }


def run_demo(out: str | Path, quick: bool = False, seed: int = 0, target: str = "covid",
             progress: bool = True) -> StudyResult:
    """Run (or resume) the demo into the folder ``out``; see :func:`demo_config`."""
    return run_protocol(DEFINITION, demo_config(quick, seed, target), out, progress=progress)


DEFINITION = StudyDefinition(
    id="demo",
    title="The demo: UAPs against a small CNN on synthetic chest X-rays (the protocol of studies 000 / 001)",
    reproduces="R_f / R_s tables with random controls, confusion matrices, UAP image strips, rate-vs-zeta plots",
    configs=(),
    parse=lambda raw, base_dir: parse_uap_config(raw, "demo", base_dir),
    protocol=UAPStudyRun,
    smoke=lambda: (demo_config(quick=True), lambda root: None),
)
