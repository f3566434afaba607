"""Defences: against universal adversarial perturbations (studies 000-001; Shafahi et al. 2020) and ART's
adversarial trainers on this package's models (study 004)."""
from art_medical.defences.trainer import (
    SeededAdversarialTrainer,
    SeededAdversarialTrainerMadryPGD,
    UAPAdversarialRetrainer,
    UniversalAdversarialTrainer,
    fgsm_pgd_trainer,
    madry_pgd_trainer,
)

__all__ = [
    "SeededAdversarialTrainer",
    "SeededAdversarialTrainerMadryPGD",
    "UAPAdversarialRetrainer",
    "UniversalAdversarialTrainer",
    "fgsm_pgd_trainer",
    "madry_pgd_trainer",
]
