"""The studies' training recipes: optimizer, learning-rate schedule, batch size, epochs, augmentation,
class weighting and batch composition.

Learning-rate schedules are pure functions of the 1-based epoch number; ``lr_decay`` is Keras's legacy
per-update decay and ``plateau_factor`` a reduction when the validation loss stalls.
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
    :param augment: Random rotation within ``rotation_degrees`` and shifts of ``shift_fraction``, plus the
        optional horizontal flips, zoom by up to ``zoom_fraction`` and intensity scaling by up to
        ``brightness_fraction``; uncovered pixels are filled by ``fill_mode`` ("nearest" or "constant" 0).
    :param oversample: Randomly oversample minority classes of the training split to the largest class.
    :param monitor: Validation metric that picks the saved checkpoint.
    :param lr_decay: Keras's legacy ``decay``: the rate of update ``t`` (0-based) is
        ``learning_rate / (1 + lr_decay * t)``.
    :param plateau_factor: Multiply the rate by this factor when the validation loss has not improved for
        ``plateau_patience`` epochs (Keras ReduceLROnPlateau); None for no reduction.
    :param class_weights: One loss weight per class (index order): the training loss is the batch mean of
        ``weight[y] * cross-entropy``; validation losses are unweighted.
    :param batch_share_class: A class of which every training batch holds a fixed share (COVID-Net's batch
        re-balancing): the other images are passed through in shuffled order, ``batch_size`` at a time, and
        ``max(1, int(batch_share * n))`` random positions of each batch of ``n`` are given to images of this
        class drawn at random (distinct within the batch); the images they displace wait for the next epoch.
    :param batch_share: That share, in (0, 1).
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
    horizontal_flip: bool = False
    zoom_fraction: float = 0.0
    brightness_fraction: float = 0.0
    fill_mode: str = "nearest"
    oversample: bool = False
    monitor: str = "val_accuracy"
    lr_decay: float = 0.0
    plateau_factor: float | None = None
    plateau_patience: int = 5
    class_weights: tuple[float, ...] | None = None
    batch_share_class: int | None = None
    batch_share: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {self.schedule!r}; expected one of {sorted(SCHEDULES)} or None.")
        if self.learning_rate <= 0 or self.lr_decay < 0:
            raise ValueError(f"learning_rate must be positive and lr_decay >= 0, got {self.learning_rate}, "
                             f"{self.lr_decay}.")
        if sum((self.schedule is not None, self.lr_decay > 0, self.plateau_factor is not None)) > 1:
            raise ValueError("Give at most one of schedule, lr_decay and plateau_factor.")
        if self.plateau_factor is not None and not 0.0 < self.plateau_factor < 1.0:
            raise ValueError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}.")
        if self.plateau_patience < 1:
            raise ValueError(f"plateau_patience must be at least 1, got {self.plateau_patience}.")
        if not 0.0 <= self.zoom_fraction < 1.0 or not 0.0 <= self.brightness_fraction < 1.0:
            raise ValueError("zoom_fraction and brightness_fraction must be in [0, 1).")
        if self.fill_mode not in ("nearest", "constant"):
            raise ValueError(f"fill_mode must be 'nearest' or 'constant', got {self.fill_mode!r}.")
        if self.class_weights is not None:
            object.__setattr__(self, "class_weights", tuple(float(w) for w in self.class_weights))
            if not self.class_weights or min(self.class_weights) <= 0:
                raise ValueError(f"class_weights must be positive, got {self.class_weights}.")
        if self.batch_share_class is not None:
            if not isinstance(self.batch_share_class, int) or self.batch_share_class < 0:
                raise ValueError(f"batch_share_class must be a class index, got {self.batch_share_class!r}.")
            if not 0.0 < self.batch_share < 1.0:
                raise ValueError(f"batch_share must be in (0, 1), got {self.batch_share}.")
            if self.oversample:
                raise ValueError("Give either oversample or batch_share_class, not both.")

    def learning_rate_at(self, epoch: int) -> float:
        """Learning rate at the start of the 1-based ``epoch`` when it depends on the epoch alone (a schedule
        or a constant rate); ``lr_decay`` and plateau reductions change it during training."""
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
        rate = self.learning_rate_at(1)
        if self.lr_decay:
            rate = keras.optimizers.schedules.InverseTimeDecay(rate, decay_steps=1, decay_rate=self.lr_decay)
        return optimizers[self.optimizer](learning_rate=rate, **self.optimizer_options)

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

_COVIDNET = ("Wang, Lin & Wong 2020 (arXiv 2003.09871, sec. 2.4) and repository lindawangg/COVID-Net at commit db6bc0e "
             "(the state study 000 forked on 1 May 2020)")
_STUDY002 = TrainingRecipe(
    name="study002", optimizer="rmsprop", learning_rate=0.045, schedule="study002",
    optimizer_options={"rho": 0.9, "epsilon": 1.0}, batch_size=32, epochs=100,
    source="Asgari Taghanaki et al. 2018, sec. 3: from scratch, RMSProp(decay 0.9, epsilon 1), lr 0.045 x 0.94 "
           "every 4 epochs, batch 32 for Inception-ResNet-v2 (8 for NASNet-Large: recipe study002_nasnet_large); "
           "epochs not stated",
)

RECIPES: dict[str, TrainingRecipe] = {
    "covidnet": TrainingRecipe(
        name="covidnet", optimizer="adam", learning_rate=2e-5, batch_size=8, epochs=22, plateau_factor=0.7,
        plateau_patience=5, class_weights=(1.0, 1.0, 12.0), batch_share_class=2, batch_share=0.3, augment=True,
        rotation_degrees=10.0, shift_fraction=0.1, horizontal_flip=True, zoom_fraction=0.15,
        brightness_fraction=0.1, fill_mode="constant",
        source=f"{_COVIDNET}: Adam, lr 2e-5, 22 epochs, batch 8, lr x 0.7 after 5 epochs without improvement "
               "(paper); loss weights 1 / 1 / 12 for normal / pneumonia / COVID-19 and 30 % COVID-19 per batch, "
               "i.e. 2 of 8 (train_tf.py --covid_weight 12 --covid_percent 0.3, data.py BalanceCovidDataset); "
               "rotation 10 deg, shifts 10 %, horizontal flips, zoom 0.85-1.15, brightness 0.9-1.1, constant "
               "fill (data.py). train_tf.py itself runs 10 epochs from a released checkpoint.",
    ),

    "study001": TrainingRecipe(
        name="study001", optimizer="sgd", learning_rate=1e-3, schedule="study001",
        optimizer_options={"momentum": 0.9, "nesterov": True}, batch_size=32, epochs=50, augment=True,
        source="Hirano, Minagi & Takemoto 2021: SGD(momentum 0.9, nesterov), batch 32, 50 epochs, lr 1e-3 / 1e-4 "
               "after epoch 40 / 1e-5 after 45, rotation 5 deg, 5% shifts; oversampling for ISIC 2018",
    ),
    "study002": _STUDY002,
    "study002_nasnet_large": _STUDY002.replace(name="study002_nasnet_large", batch_size=8),
    "study003": TrainingRecipe(
        name="study003", optimizer="adam", learning_rate=1e-3, lr_decay=1e-3 / 25, batch_size=8, epochs=25,
        source="Appl. Sci. 2021, 11, 4233, secs. 2.3-2.4: Adam, initial lr 1e-3 decayed per step as Keras's "
               "Adam(lr, decay=lr / epochs), binary cross-entropy on the 2-class softmax (equal to categorical), "
               "for both VGG16 and Inception-v3. Epochs and batch size are not stated: 25 and 8 are those of the "
               "Keras COVID-19 X-ray template (INIT_LR 1e-3, EPOCHS 25, BS 8) whose head and optimizer the paper "
               "describes; that template also rotates by up to 15 deg, which the paper does not mention.",
    ),
    "phantoms": TrainingRecipe(
        name="phantoms", optimizer="adam", learning_rate=1e-3, batch_size=8, epochs=20, validation_fraction=0.25,
        source="art_medical's demo and smoke runs: tiny models learning the synthetic phantoms in seconds (no study)",
    ),
    "study004": TrainingRecipe(
        name="study004", optimizer="sgd", learning_rate=1e-2, batch_size=64, epochs=200,
        source="Study 004, sec. III: SGD, 200 epochs, batch 64, 10 % validation split of the training part; "
               "learning rate and momentum not stated: 0.01 without momentum is Keras's SGD default. Keras's "
               "validation_split takes the last 10 % unshuffled; train() holds out a stratified random 10 %.",
    ),
}


def get_recipe(name: str) -> TrainingRecipe:
    """The recipe registered under ``name`` (``"covidnet"``, ``"study001"`` ... ``"study004"``,
    ``"study002_nasnet_large"``)."""
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; available: {sorted(RECIPES)}.")
    return RECIPES[name]
