"""Evasion attacks, one per module as in ART."""
from art_medical.attacks.evasion.batched_universal import BatchedUniversalPerturbation
from art_medical.attacks.evasion.fgsm_sweep import FastGradientSweep, FGSMSweepResult
from art_medical.attacks.evasion.universal_perturbation import (
    TargetedUniversalPerturbation,
)

__all__ = ["BatchedUniversalPerturbation", "FGSMSweepResult", "FastGradientSweep", "TargetedUniversalPerturbation"]
