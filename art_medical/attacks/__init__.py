"""Attacks on medical-image classifiers: universal perturbations and their random controls, FGSM sweeps."""
from art_medical.attacks.evasion import BatchedUniversalPerturbation, TargetedUniversalPerturbation
from art_medical.attacks.random_uap import random_uap

__all__ = ["BatchedUniversalPerturbation", "TargetedUniversalPerturbation", "random_uap"]

# Studies 003 / 004: the [0, 1] -> pixel budget mapping, the FGSM sweep, ART's attacks at their defaults, shards.
from art_medical.attacks.eps_scale import EPS_SCALES, to_pixel_eps  # noqa: E402
from art_medical.attacks.evasion import FGSMSweepResult, FastGradientSweep  # noqa: E402
from art_medical.attacks.kernel import perturbation_kernel  # noqa: E402
from art_medical.attacks.presets import ART_DEFAULTS, STUDY004_ATTACKS, PresetAttack, build_attack  # noqa: E402
from art_medical.attacks.shards import AttackShard, merge_shards, run_attack_shard  # noqa: E402

__all__ += [
    "ART_DEFAULTS", "AttackShard", "EPS_SCALES", "FGSMSweepResult", "FastGradientSweep", "PresetAttack",
    "STUDY004_ATTACKS", "build_attack", "merge_shards", "perturbation_kernel", "run_attack_shard", "to_pixel_eps",
]
