"""The configuration of the UAP protocol (studies 000 and 001, the demo and the audit), checked up front.

A configuration names one or more datasets, one or more models (architectures trained here, or saved models
to attack as they are), the training recipe, the UAP grid (zeta x p, non-targeted and per target class, with
random controls) and, optionally, transferability across models and adversarial retraining. Example:
``experiments/configs/study001_chest_xray.yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from art_medical.studies.config import ConfigError, Section, check_number
from art_medical.studies.specs import COMMON_KEYS, DatasetSpec, ModelSpec, StudyConfig, parse_common

NORMS: dict[str, float] = {"2": 2.0, "inf": np.inf}
ALGORITHMS = ("exact", "iterative", "batched")
"""``exact``: the studies' iterative algorithm, ART's result bit for bit (``TargetedUniversalPerturbation(exact=True)``);
``iterative``: the same algorithm with batched look-ahead, faster, ART's rates in distribution; ``batched``: SGD-UAP."""
FOOLING_RATES = ("predictions", "labels")

_TOP = COMMON_KEYS + ("fooling_rate", "uap", "transfer", "retraining")
_UAP = ("algorithm", "zetas", "norms", "nontargeted", "targeted", "fgsm_eps", "max_iter", "delta", "uap_images",
        "xi_channels", "batch_size", "strip_images", "step_size")
_TRANSFER = ("zetas", "norms", "targeted")
_RETRAINING = ("datasets", "models", "attacks", "rounds", "uaps_per_round", "epochs", "ratio", "learning_rate")
_RETRAIN_ATTACK = ("dataset", "target", "norm", "zeta")


@dataclass(frozen=True)
class UAPSettings:
    """The UAP grid: for each p and zeta a non-targeted UAP and a targeted UAP per target class, each with a
    random control of the same norm xi = zeta * mean Lp norm of the training images.

    ``algorithm`` is ``"exact"`` (the studies' iterative algorithm with an FGSM step, ART's result bit for bit),
    ``"iterative"`` (the same algorithm evaluating look-ahead windows in batches: faster, ART's rates in
    distribution, not its bits) or ``"batched"`` (SGD-UAP: much faster, ``max_iter`` passes). ``fgsm_eps`` and ``step_size`` are on the 0-255
    scale; ``uap_images`` caps the training images the UAPs are computed on (a seeded subset; None for all).
    """

    algorithm: str = "exact"
    zetas: tuple[float, ...] = (0.02, 0.04)
    norms: tuple[str, ...] = ("2", "inf")
    nontargeted: bool = True
    targeted: bool = True
    fgsm_eps: float = 0.3072
    max_iter: int = 15
    delta: float = 0.2
    uap_images: int | None = None
    xi_channels: str = "all"
    batch_size: int = 32
    strip_images: int = 3
    step_size: float | None = None


@dataclass(frozen=True)
class TransferSettings:
    """Which UAPs are carried from each model to every other model of the same dataset."""

    zetas: tuple[float, ...]
    norms: tuple[str, ...] = ("2", "inf")
    targeted: bool = False


@dataclass(frozen=True)
class RetrainAttack:
    """A UAP threat model that adversarial retraining defends against: its target (None: non-targeted), and the
    dataset it applies to (None: every dataset retrained)."""

    target: str | None
    norm: str
    zeta: float
    dataset: str | None = None


@dataclass(frozen=True)
class RetrainingSettings:
    """Adversarial retraining (studies 000 / 001): rounds of fine-tuning on UAP-perturbed training images."""

    datasets: tuple[str, ...]
    models: tuple[str, ...]
    attacks: tuple[RetrainAttack, ...]
    rounds: int = 5
    uaps_per_round: int = 10
    epochs: int = 5
    ratio: float = 0.5
    learning_rate: float | None = None


@dataclass(frozen=True)
class UAPStudyConfig(StudyConfig):
    """A checked configuration of the UAP protocol: the shared sections, the UAP grid, transfer and retraining."""

    uap: UAPSettings
    fooling_rate: str = "predictions"
    transfer: TransferSettings | None = None
    retraining: RetrainingSettings | None = None


def parse_uap_config(raw: dict[str, Any], study: str, base_dir: Path | None = None) -> UAPStudyConfig:
    """Check a raw configuration mapping and return it typed; every error names its key.

    :param raw: The mapping read from YAML (or built by the CLI).
    :param study: The study it is run as (``"000"``, ``"001"``, ``"demo"``, ``"audit"``).
    :param base_dir: Folder that relative ``weights`` / ``file`` paths are resolved against.
    """
    top = Section(raw, "", _TOP)
    common = parse_common(top, study, base_dir, default_recipe="study001")
    uap = _uap(top.section("uap", _UAP))
    return UAPStudyConfig(
        **common,
        uap=uap,
        fooling_rate=top.string("fooling_rate", "predictions", choices=FOOLING_RATES) or "predictions",
        transfer=_transfer(top, uap) if top.has("transfer") else None,
        retraining=_retraining(top, common["datasets"], common["models"]) if top.has("retraining") else None,
    )


def _uap(section: Section) -> UAPSettings:
    defaults = UAPSettings()
    settings = UAPSettings(
        algorithm=section.string("algorithm", defaults.algorithm, choices=ALGORITHMS) or defaults.algorithm,
        zetas=section.numbers("zetas", defaults.zetas, low=0.0, low_open=True, high=1.0),
        norms=section.strings("norms", defaults.norms, choices=NORMS),
        nontargeted=section.boolean("nontargeted", defaults.nontargeted),
        targeted=section.boolean("targeted", defaults.targeted),
        fgsm_eps=float(section.number("fgsm_eps", defaults.fgsm_eps, low=0.0, low_open=True)),
        max_iter=int(section.number("max_iter", defaults.max_iter, integer=True, low=1)),
        delta=float(section.number("delta", defaults.delta, low=0.0, high=1.0)),
        uap_images=section.number("uap_images", defaults.uap_images, integer=True, low=1, allow_none=True),
        xi_channels=section.string("xi_channels", defaults.xi_channels, choices=("all", "first")) or "all",
        batch_size=int(section.number("batch_size", defaults.batch_size, integer=True, low=1)),
        strip_images=int(section.number("strip_images", defaults.strip_images, integer=True, low=0)),
        step_size=section.number("step_size", None, low=0.0, low_open=True, allow_none=True),
    )
    if len(set(settings.zetas)) != len(settings.zetas) or len(set(settings.norms)) != len(settings.norms):
        raise ConfigError(f"{section.name('zetas')} and {section.name('norms')} must not repeat values.")
    if not (settings.nontargeted or settings.targeted):
        raise ConfigError(f"{section.where}: nontargeted and targeted are both false: there is nothing to compute.")
    return settings


def _transfer(top: Section, uap: UAPSettings) -> TransferSettings:
    section = top.section("transfer", _TRANSFER)
    settings = TransferSettings(
        zetas=section.numbers("zetas", uap.zetas, low=0.0, low_open=True, high=1.0),
        norms=section.strings("norms", uap.norms, choices=NORMS),
        targeted=section.boolean("targeted", False),
    )
    _within_grid(section, settings.zetas, settings.norms, uap)
    if settings.targeted and not uap.targeted:
        raise ConfigError("transfer.targeted: the UAP grid computes no targeted UAPs (uap.targeted is false).")
    return settings


def _within_grid(section: Section, zetas: tuple[float, ...], norms: tuple[str, ...], uap: UAPSettings) -> None:
    outside = [z for z in zetas if z not in uap.zetas] + [p for p in norms if p not in uap.norms]
    if outside:
        raise ConfigError(f"{section.where}: {outside} are not in the UAP grid (uap.zetas {list(uap.zetas)}, "
                          f"uap.norms {list(uap.norms)}).")


def _retraining(top: Section, datasets: tuple[DatasetSpec, ...], models: tuple[ModelSpec, ...]) -> RetrainingSettings:
    section = top.section("retraining", _RETRAINING)
    dataset_names = [spec.name for spec in datasets]
    trained = [spec.name for spec in models if spec.architecture is not None]
    raw_attacks = section.required("attacks")
    if not isinstance(raw_attacks, list) or not raw_attacks:
        raise ConfigError("retraining.attacks must list threat models: [{target: null, norm: '2', zeta: 0.04}, ...].")
    attacks = []
    for index, entry in enumerate(raw_attacks):
        attack = Section(entry, f"retraining.attacks[{index}]", _RETRAIN_ATTACK)
        target = attack.raw("target")
        attacks.append(RetrainAttack(
            target=None if target is None else str(target),
            norm=attack.string("norm", "inf", choices=NORMS) or "inf",
            zeta=float(check_number(attack.required("zeta"), attack.name("zeta"), low=0.0, low_open=True, high=1.0)),
            dataset=attack.string("dataset", None, choices=dataset_names),
        ))
    return RetrainingSettings(
        datasets=section.strings("datasets", dataset_names, choices=dataset_names),
        models=section.strings("models", trained, choices=trained),
        attacks=tuple(attacks),
        rounds=int(section.number("rounds", 5, integer=True, low=1)),
        uaps_per_round=int(section.number("uaps_per_round", 10, integer=True, low=1)),
        epochs=int(section.number("epochs", 5, integer=True, low=1)),
        ratio=float(section.number("ratio", 0.5, low=0.0, low_open=True, high=1.0)),
        learning_rate=section.number("learning_rate", None, low=0.0, low_open=True, allow_none=True),
    )
