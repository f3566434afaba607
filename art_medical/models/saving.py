"""Saving and loading models (``.keras`` or ``.h5``) with a JSON model card beside each file.

``save_model(model, "models/chest_inception_v3.keras", card)`` writes the model and
``models/chest_inception_v3.card.json`` recording architecture, input shape, classes, recipe, data
and accuracy. Both are written to temporary files first and moved into place, so an interruption
never leaves a half-written model behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import keras

MODEL_SUFFIXES = (".keras", ".h5")


@dataclass
class ModelCard:
    """What a saved model is and how it was made.

    :param architecture: Registry name (see ``available_models()``) or a free description.
    :param input_shape: ``(height, width, channels)`` of raw 0-255 pixels.
    :param classes: Class names in output order.
    :param recipe: Training recipe name or its fields.
    :param data: Data set description (name, split sizes, source).
    :param metrics: Evaluation results, e.g. ``{"test_accuracy": 0.93}``.
    :param study: Study the model reproduces ("001" ... "004"), if any.
    :param notes: Free text.
    :param input_scale: The pixel range the model takes: ``"0-255"`` (every model of this package: any rescaling
        happens inside), ``"0-1"`` or ``"-1-1"``.
    """

    architecture: str
    input_shape: tuple[int, ...]
    classes: list[str]
    recipe: str | dict | None = None
    data: str | dict | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    study: str | None = None
    notes: str = ""
    input_scale: str = "0-255"
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict:
        card = asdict(self)
        card["input_shape"] = list(self.input_shape)
        return card

    @classmethod
    def from_dict(cls, card: dict) -> ModelCard:
        known = {name: card[name] for name in cls.__dataclass_fields__ if name in card}
        missing = {"architecture", "input_shape", "classes"} - set(known)
        if missing:
            raise ValueError(f"Model card lacks required fields {sorted(missing)}.")
        known["input_shape"] = tuple(known["input_shape"])
        return cls(**known)


def card_path(model_path: str | os.PathLike) -> Path:
    """The model card path beside a model file: ``name.keras`` -> ``name.card.json``."""
    path = Path(model_path)
    return path.with_name(path.name.rsplit(".", 1)[0] + ".card.json")


def _check_suffix(path: Path) -> None:
    if path.suffix not in MODEL_SUFFIXES:
        raise ValueError(f"Model file must end in {' or '.join(MODEL_SUFFIXES)}, got {path.name!r}.")


def save_model(model: keras.Model, path: str | os.PathLike, card: ModelCard) -> Path:
    """Save ``model`` to ``path`` (``.keras`` or ``.h5``) and its card beside it; returns the card path.

    The card must agree with the model: its input shape and number of classes are checked.
    """
    path = Path(path)
    _check_suffix(path)
    if tuple(card.input_shape) != tuple(model.input_shape[1:]):
        raise ValueError(
            f"Card input_shape {tuple(card.input_shape)} differs from the model's {model.input_shape[1:]}."
        )
    outputs = model.output_shape[-1]
    if len(card.classes) != max(outputs, 2):
        raise ValueError(f"Card lists {len(card.classes)} classes but the model has {outputs} outputs.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_model = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        model.save(tmp_model)
        fd, tmp_card = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            json.dump(card.to_dict(), handle, indent=1)
        os.replace(tmp_model, path)
        os.replace(tmp_card, card_path(path))
    finally:
        if os.path.exists(tmp_model):
            os.remove(tmp_model)
    return card_path(path)


def load_model_card(path: str | os.PathLike) -> ModelCard:
    """Read the card of a model file (or a card file itself)."""
    path = Path(path)
    card_file = path if path.name.endswith(".card.json") else card_path(path)
    if not card_file.exists():
        raise FileNotFoundError(f"No model card at {str(card_file)!r}.")
    try:
        return ModelCard.from_dict(json.loads(card_file.read_text()))
    except json.JSONDecodeError as error:
        raise ValueError(f"Model card {str(card_file)!r} is not valid JSON: {error}") from error


def load_model(path: str | os.PathLike, compile: bool = False) -> tuple[keras.Model, ModelCard | None]:
    """Load a ``.keras`` or ``.h5`` model and its card (None when there is no card beside it)."""
    path = Path(path)
    _check_suffix(path)
    if not path.exists():
        raise FileNotFoundError(f"Model file not found: {str(path)!r}.")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot load model {str(path)!r} (corrupt or not a Keras model file): {error}") from error
    card = load_model_card(path) if card_path(path).exists() else None
    return model, card
