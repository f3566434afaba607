"""Attacks on medical-image classifiers: universal perturbations and their random controls (studies 000 / 001),
the FGSM epsilon sweep (study 003), ART's attacks at their defaults and attack shards (study 004)."""
from art_medical.attacks.eps_scale import EPS_SCALES, to_pixel_eps
from art_medical.attacks.evasion import (
    BatchedUniversalPerturbation,
    FastGradientSweep,
    FGSMSweepResult,
    TargetedUniversalPerturbation,
)
from art_medical.attacks.kernel import perturbation_kernel
from art_medical.attacks.presets import (
    ART_DEFAULTS,
    STUDY004_ATTACKS,
    PresetAttack,
    build_attack,
)
from art_medical.attacks.random_uap import random_uap
from art_medical.attacks.shards import AttackShard, merge_shards, run_attack_shard

__all__ = [
    "ART_DEFAULTS",
    "EPS_SCALES",
    "STUDY004_ATTACKS",
    "AttackShard",
    "BatchedUniversalPerturbation",
    "FGSMSweepResult",
    "FastGradientSweep",
    "PresetAttack",
    "TargetedUniversalPerturbation",
    "build_attack",
    "merge_shards",
    "perturbation_kernel",
    "random_uap",
    "run_attack_shard",
    "to_pixel_eps",
]
