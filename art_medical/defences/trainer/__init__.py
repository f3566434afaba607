"""ART ``Trainer`` subclasses hardening classifiers against universal adversarial perturbations."""
from art_medical.defences.trainer.uap_retraining import UAPAdversarialRetrainer
from art_medical.defences.trainer.universal_adversarial_training import UniversalAdversarialTrainer

__all__ = ["UAPAdversarialRetrainer", "UniversalAdversarialTrainer"]
