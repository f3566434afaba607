"""Study 001: UAPs against 7 transfer-learning architectures on skin lesion, OCT and chest X-ray images.

Hirano, Minagi & Takemoto 2021, "Universal adversarial attacks on deep neural networks for medical image
classification", BMC Medical Imaging 21:9 (shared/papers/001_8024686d7d1ef2f9.txt). The grid dataset x
architecture: each model trained with the study's recipe, non-targeted and targeted UAPs (FGSM step 0.0024 on
(x - 128) / 128, i.e. 0.3072 on 0-255, i_max 15) over zeta and p = 2 / inf with random controls; Table 1 (R_f),
Table 2 (R_s per target), R_f against zeta (Fig. 1), transferability across architectures (Tables S3-S8) and
adversarial retraining (Figs. 5-6).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from art_medical.studies.registry import StudyDefinition
from art_medical.studies.uap import UAPStudyRun
from art_medical.studies.uap_config import parse_uap_config

TRAIN_PER_CLASS, TEST_PER_CLASS = 60, 20


def smoke() -> tuple[dict[str, Any], Callable[[Path], None]]:
    """Two small CNNs on a phantom tree in the Kermany chest X-ray layout, every part of the protocol."""
    from art_medical.data.phantom_trees import phantom_loader_options, write_phantom_tree

    config = {
        "study": "001",
        "title": "Study 001 smoke run: UAPs on phantom chest X-rays (Kermany layout), two small CNNs",
        "seed": 0,
        "datasets": {"chest_xray": {
            "loader": "kermany_chest_xray", "path": "kermany", "title": "Chest X-ray (phantoms)",
            "options": {"size": 32, "channels": 1, **phantom_loader_options(
                "kermany_chest_xray", n_train_per_class=TRAIN_PER_CLASS, n_test_per_class=TEST_PER_CLASS)},
        }},
        "models": {
            "cnn8": {"architecture": "small_cnn", "options": {"filters": 8}, "title": "SmallCNN-8"},
            "cnn16": {"architecture": "small_cnn", "options": {"filters": 16}, "title": "SmallCNN-16"},
        },
        "training": {"recipe": "phantoms"},
        "uap": {"zetas": [0.04, 0.08], "norms": ["2", "inf"], "fgsm_eps": 2.0, "max_iter": 3, "uap_images": 60,
                "xi_channels": "first", "strip_images": 3},
        "transfer": {"zetas": [0.08], "norms": ["2", "inf"]},
        "retraining": {"models": ["cnn8"], "attacks": [{"target": None, "norm": "inf", "zeta": 0.08}],
                       "rounds": 2, "uaps_per_round": 2, "epochs": 1, "learning_rate": 3e-4},
    }

    def write_data(root: Path) -> None:
        if not (root / "kermany").exists():  # written whole or not at all; a resumed run reuses it
            write_phantom_tree("kermany_chest_xray", root / "kermany", n_train_per_class=TRAIN_PER_CLASS,
                               n_test_per_class=TEST_PER_CLASS, size=32, seed=0)

    return config, write_data


DEFINITION = StudyDefinition(
    id="001",
    title="Hirano, Minagi & Takemoto 2021: UAPs against 7 architectures on skin lesion, OCT and chest X-ray images",
    reproduces="Table 1 (R_f), Table 2 (R_s per target), R_f vs zeta (Fig. 1), confusion matrices and UAP images "
               "(Figs. 2-4), transferability (Tables S3-S8), adversarial retraining (Figs. 5-6)",
    configs=("study001.yaml", "study001_chest_xray.yaml", "study001_oct.yaml", "study001_skin_lesion.yaml"),
    parse=lambda raw, base_dir: parse_uap_config(raw, "001", base_dir),
    protocol=UAPStudyRun,
    smoke=smoke,
    gpu_time="training 7 models per dataset: about 1-3 h each at 299x299 on one GPU; UAPs (exact algorithm, all "
             "training images, 15 passes) about 10-30 min each: several days for the whole grid on one GPU",
)
