"""Attacks on medical-image classifiers: universal perturbations and their random controls."""
from art_medical.attacks.evasion import BatchedUniversalPerturbation, TargetedUniversalPerturbation
from art_medical.attacks.random_uap import random_uap

__all__ = ["BatchedUniversalPerturbation", "TargetedUniversalPerturbation", "random_uap"]
