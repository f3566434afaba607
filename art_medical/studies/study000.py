"""Study 000: UAPs against COVID-Net (COVIDx chest X-rays: normal / pneumonia / COVID-19).

Hirano, Koga & Takemoto 2020, "Vulnerability of deep neural networks for detecting COVID-19 cases from chest
X-ray images to universal adversarial attacks", PLoS ONE 15(12):e0243963 (shared/papers/000_21ccf09d8b616718.txt).
COVIDNet-CXR Small and Large; non-targeted and targeted UAPs (FGSM eps 0.001 on [0, 1], i.e. 0.255 on 0-255,
i_max 15) at zeta 1 % and 2 %, p = 2 and inf, with random controls; R_f against the true labels and R_s on the
training and the test images (Tables 1-3), confusion matrices (Figs. 1, 3), UAPs and adversarial images (Figs. 2,
4), and adversarial retraining of COVIDNet-CXR Small over 5 iterations (Fig. 5).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from art_medical.studies.registry import StudyDefinition
from art_medical.studies.uap import UAPStudyRun
from art_medical.studies.uap_config import parse_uap_config


def smoke() -> tuple[dict[str, Any], Callable[[Path], None]]:
    """Two small CNNs on a phantom tree in the COVIDx layout (split files, top sixth cropped), trained with the
    COVID-Net recipe (COVID-19 over-sampled in each batch) at a higher rate and without its 1/1/12 class weights,
    which on balanced phantoms make every prediction COVID-19. (COVID-Net's PEPX builders are tested in
    tests/models; shrunk to 32x32 they do not learn the phantoms within a smoke run's budget.)"""
    from art_medical.data.phantom_trees import write_phantom_tree

    config = {
        "study": "000",
        "title": "Study 000 smoke run: UAPs on phantom chest X-rays (COVIDx layout), two small CNNs",
        "seed": 0,
        "fooling_rate": "labels",
        "datasets": {"covidx": {"loader": "covidx", "path": "covidx", "title": "COVIDx (phantoms)",
                                "options": {"size": 32, "channels": 1}}},
        "models": {
            "small": {"architecture": "small_cnn", "options": {"filters": 8}, "title": "Small"},
            "large": {"architecture": "small_cnn", "options": {"filters": 16}, "title": "Large"},
        },
        "training": {"recipe": "covidnet", "overrides": {"learning_rate": 1e-3, "epochs": 20, "class_weights": None,
                                                          "augment": False, "plateau_factor": None}},
        "uap": {"zetas": [0.04, 0.08], "norms": ["2", "inf"], "fgsm_eps": 2.0, "max_iter": 3, "uap_images": 60,
                "strip_images": 3},
        "retraining": {"models": ["small"], "rounds": 2, "uaps_per_round": 2, "epochs": 1, "learning_rate": 3e-4,
                       "attacks": [{"target": None, "norm": "inf", "zeta": 0.08},
                                   {"target": "COVID-19", "norm": "inf", "zeta": 0.04}]},
    }

    def write_data(root: Path) -> None:
        if not (root / "covidx").exists():  # written whole or not at all; a resumed run reuses it
            write_phantom_tree("covidx", root / "covidx", n_train_per_class=60, n_test_per_class=15, size=32, seed=0)

    return config, write_data


DEFINITION = StudyDefinition(
    id="000",
    title="Hirano, Koga & Takemoto 2020: UAPs against COVID-Net (COVIDx)",
    reproduces="Table 1 (R_f, training and test), Tables 2-3 (R_s per target class), confusion matrices (Figs. 1, 3), "
               "UAPs and adversarial images (Figs. 2, 4), adversarial retraining (Fig. 5)",
    configs=("study000_covidx.yaml",),
    parse=lambda raw, base_dir: parse_uap_config(raw, "000", base_dir),
    protocol=UAPStudyRun,
    smoke=smoke,
)
