"""ART ``Trainer`` subclasses: hardening against universal adversarial perturbations, and ART's adversarial
trainers made to work on this package's Keras models."""
from art_medical.defences.trainer.art_trainers import (
    SeededAdversarialTrainer,
    SeededAdversarialTrainerMadryPGD,
    fgsm_pgd_trainer,
    madry_pgd_trainer,
)
from art_medical.defences.trainer.uap_retraining import UAPAdversarialRetrainer
from art_medical.defences.trainer.universal_adversarial_training import (
    UniversalAdversarialTrainer,
)

__all__ = [
    "SeededAdversarialTrainer",
    "SeededAdversarialTrainerMadryPGD",
    "UAPAdversarialRetrainer",
    "UniversalAdversarialTrainer",
    "fgsm_pgd_trainer",
    "madry_pgd_trainer",
]
