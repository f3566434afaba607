"""Defences against universal adversarial perturbations (studies 000-001; Shafahi et al. 2020)."""
from art_medical.defences.trainer import UAPAdversarialRetrainer, UniversalAdversarialTrainer

__all__ = ["UAPAdversarialRetrainer", "UniversalAdversarialTrainer"]
