"""The studies' training recipes: optimizer, learning-rate schedule, batch size, epochs, augmentation.

Learning-rate schedules are pure functions of the 1-based epoch number.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import keras


def study001_learning_rate(epoch: int) -> float:
    """Study 001 (Hirano et al. 2021): 1e-3 for epochs 1-40, 1e-4 for 41-45, 1e-5 from 46 on (1-based)."""
    if epoch < 1:
        raise ValueError(f"epoch is 1-based, got {epoch}.")
    if epoch <= 40:
        return 1e-3
    if epoch <= 45:
        return 1e-4
    return 1e-5


def study002_learning_rate(epoch: int) -> float:
    """Study 002 (Asgari Taghanaki et al. 2018): 0.045, multiplied by 0.94 every 4 epochs (1-based)."""
    if epoch < 1:
        raise ValueError(f"epoch is 1-based, got {epoch}.")
    return 0.045 * 0.94 ** ((epoch - 1) // 4)


@dataclass(frozen=True)
class TrainingRecipe:
    """How a study trains its models.

    :param name: Registry key, e.g. ``"study001"``.
    :param optimizer: ``"sgd"``, ``"adam"`` or ``"rmsprop"``.
    :param learning_rate: Initial (or constant) learning rate.
    :param schedule: Name of a key of :data:`SCHEDULES` giving the rate per 1-based epoch, or None.
    :param optimizer_options: Extra keyword arguments of the Keras optimizer (momentum, nesterov, rho, ...).
    :param batch_size: Training batch size.
    :param epochs: Number of epochs.
    :param validation_fraction: Share of the training data held out (stratified) for model selection.
    :param augment: Random rotation within ``rotation_degrees`` and shifts of ``shift_fraction``.
    :param oversample: Randomly oversample minority classes of the training split to the largest class.
    :param monitor: Validation metric that picks the saved checkpoint.
    :param source: Where the values come from.
    """

    name: str
    optimizer: str
    learning_rate: float
    batch_size: int
    epochs: int
    schedule: str | None = None
    optimizer_options: dict = field(default_factory=dict)
    validation_fraction: float = 0.1
    augment: bool = False
    rotation_degrees: float = 5.0
    shift_fraction: float = 0.05
    oversample: bool = False
    monitor: str = "val_accuracy"
    source: str = ""

    def learning_rate_at(self, epoch: int) -> float:
        """Learning rate of the 1-based ``epoch``."""
        return SCHEDULES[self.schedule](epoch) if self.schedule else self.learning_rate

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        """A fresh Keras optimizer for this recipe."""
        optimizers = {
            "sgd": keras.optimizers.SGD,
            "adam": keras.optimizers.Adam,
            "rmsprop": keras.optimizers.RMSprop,
        }
        if self.optimizer not in optimizers:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; expected one of {sorted(optimizers)}.")
        return optimizers[self.optimizer](learning_rate=self.learning_rate_at(1), **self.optimizer_options)

    def replace(self, **changes) -> TrainingRecipe:
        """A copy with some fields changed (e.g. fewer epochs for a quick run)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"Unknown recipe fields: {sorted(unknown)}.")
        return TrainingRecipe(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        return asdict(self)


SCHEDULES: dict[str, Callable[[int], float]] = {
    "study001": study001_learning_rate,
    "study002": study002_learning_rate,
}

RECIPES: dict[str, TrainingRecipe] = {
    "study001": TrainingRecipe(
        name="study001", optimizer="sgd", learning_rate=1e-3, schedule="study001",
        optimizer_options={"momentum": 0.9, "nesterov": True}, batch_size=32, epochs=50, augment=True,
        source="Hirano, Minagi & Takemoto 2021: SGD(momentum 0.9, nesterov), batch 32, 50 epochs, lr 1e-3 / 1e-4 "
               "after epoch 40 / 1e-5 after 45, rotation 5 deg, 5% shifts; oversampling for ISIC 2018",
    ),
    "study002": TrainingRecipe(
        name="study002", optimizer="rmsprop", learning_rate=0.045, schedule="study002",
        optimizer_options={"rho": 0.9, "epsilon": 1.0}, batch_size=32, epochs=100,
        source="Asgari Taghanaki et al. 2018: RMSProp(decay 0.9, epsilon 1), lr 0.045 x 0.94 every 4 epochs, "
               "batch 32 (Inception-ResNet-v2) or 8 (NASNet-Large); epochs not stated",
    ),
    "study003": TrainingRecipe(
        name="study003", optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=30,
        source="Appl. Sci. 2021, 11, 4233: Adam (initial lr 1e-3) and cross-entropy; batch and epochs not stated",
    ),
    "study004": TrainingRecipe(
        name="study004", optimizer="sgd", learning_rate=1e-2, batch_size=64, epochs=200,
        source="Study 004: SGD, 200 epochs, batch 64, 10% validation split; learning rate not stated",
    ),
}


def get_recipe(name: str) -> TrainingRecipe:
    """The recipe registered under ``name`` (``"study001"`` ... ``"study004"``)."""
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; available: {sorted(RECIPES)}.")
    return RECIPES[name]
