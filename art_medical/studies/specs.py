"""The sections every study configuration shares: ``seed``, ``title``, ``datasets``, ``models`` and ``training``.

```yaml
seed: 0
datasets:
  chest_xray: {loader: kermany_chest_xray, path: CellData, options: {size: 299, channels: 1}, targets: [PNEUMONIA]}
models:
  vgg16: {architecture: vgg16_transfer, weights: imagenet, title: VGG16}   # trained here
  mine: {file: my_model.keras, input_scale: 0-1}                           # or a saved model, attacked as it is
training: {recipe: study001, overrides: {epochs: 5}}
```

Each study's configuration adds its own sections (``uap``, ``sweep``, ``attacks`` ...) on top, in a frozen dataclass
deriving from :class:`StudyConfig`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from art_medical.models import RECIPES, available_models
from art_medical.studies.config import ConfigError, Section
from art_medical.studies.datasets import LOADERS, check_dataset_spec

INPUT_SCALES: dict[str, tuple[float, float] | None] = {"0-255": None, "0-1": (0.0, 255.0), "-1-1": (127.5, 127.5)}
"""What a model takes -> the ART preprocessing (mean, std) that maps 0-255 pixels to it: (x - mean) / std."""
COMMON_KEYS = ("study", "title", "seed", "datasets", "models", "training")
_DATASET = ("loader", "path", "options", "title", "targets")
_MODEL = ("architecture", "weights", "options", "file", "input_scale", "title", "classes")
_TRAINING = ("recipe", "overrides")


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of the grid: its loader (``art_medical.data.catalog``), its folder below the data root, the
    loader's options, a display title and the target classes of targeted attacks (``None``: every class)."""

    name: str
    loader: str
    path: str = "."
    options: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    targets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A model of the grid: a registry ``architecture`` trained here, or a saved ``file`` attacked as it is.

    ``input_scale`` says what the model takes: raw pixels on 0-255 (this package's models), on [0, 1] or on
    [-1, 1]; the attacks always work on 0-255 pixels. ``classes`` names the model's outputs (saved models without a card).
    """

    name: str
    architecture: str | None = None
    weights: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    input_scale: str = "0-255"
    title: str = ""
    classes: tuple[str, ...] | None = None


def parse_datasets(top: Section) -> tuple[DatasetSpec, ...]:
    raw = top.required("datasets")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("datasets must map dataset names to {loader: ..., path: ..., options: ...}.")
    specs = []
    for name, entry in raw.items():
        section = Section(entry, f"datasets.{name}", _DATASET)
        loader = section.string("loader", choices=LOADERS)
        if loader is None:
            raise ConfigError(f"datasets.{name}.loader is required; choose from {sorted(LOADERS)}.")
        targets = section.raw("targets")
        spec = DatasetSpec(
            name=str(name),
            loader=loader,
            path=str(section.raw("path", ".")),
            options=section.section("options", LOADERS[loader]).mapping,
            title=section.string("title", str(name)) or str(name),
            targets=None if targets in (None, "all") else section.strings("targets", ()),
        )
        check_dataset_spec(spec.loader, spec.options, f"datasets.{name}.options")
        specs.append(spec)
    return tuple(specs)


def parse_models(top: Section, base_dir: Path | None) -> tuple[ModelSpec, ...]:
    raw = top.required("models")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("models must map model names to {architecture: ...} or {file: ...}.")
    specs = []
    for name, entry in raw.items():
        section = Section(entry, f"models.{name}", _MODEL)
        architecture = section.string("architecture", choices=available_models())
        file = section.string("file")
        if (architecture is None) == (file is None):
            raise ConfigError(f"models.{name}: give either architecture (a model trained here) or file (a saved "
                              "model to attack), not both or neither.")
        weights = section.raw("weights")
        if weights is not None and weights != "imagenet":
            weights = _resolve(weights, base_dir, f"models.{name}.weights")
        classes = section.raw("classes")
        specs.append(ModelSpec(
            name=str(name),
            architecture=architecture,
            weights=weights,
            options=section.section("options", _any_key(section.raw("options"))).mapping,
            file=None if file is None else _resolve(file, base_dir, f"models.{name}.file"),
            input_scale=section.string("input_scale", "0-255", choices=INPUT_SCALES) or "0-255",
            title=section.string("title", str(name)) or str(name),
            classes=None if classes is None else section.strings("classes", ()),
        ))
    return tuple(specs)


def _any_key(mapping: Any) -> list[str]:
    return list(mapping) if isinstance(mapping, dict) else []


def _resolve(path: Any, base_dir: Path | None, where: str) -> str:
    if not isinstance(path, str):
        raise ConfigError(f"{where} must be a file path, got {path!r}.")
    resolved = Path(path).expanduser()
    if not resolved.is_absolute() and base_dir is not None:
        resolved = base_dir / resolved
    if not resolved.is_file():
        raise FileNotFoundError(f"{where}: file not found: {resolved}")
    return str(resolved.resolve())


@dataclass(frozen=True)
class StudyConfig:
    """What every checked study configuration holds."""

    study: str
    title: str
    seed: int
    datasets: tuple[DatasetSpec, ...]
    models: tuple[ModelSpec, ...]
    recipe: str
    recipe_overrides: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON values (stored in ``study.json``)."""
        return asdict(self)

    def dataset(self, name: str) -> DatasetSpec:
        return next(spec for spec in self.datasets if spec.name == name)

    def model(self, name: str) -> ModelSpec:
        return next(spec for spec in self.models if spec.name == name)


def parse_common(
    top: Section, study: str, base_dir: Path | None, default_recipe: str
) -> dict[str, Any]:
    """The shared sections of a configuration, checked, as keyword arguments of a :class:`StudyConfig`.

    :param top: The whole configuration (its allowed keys include :data:`COMMON_KEYS`).
    :param study: The study it is run as; a configuration declaring another study is refused.
    :param base_dir: Folder that relative ``weights`` / ``file`` paths are resolved against.
    :param default_recipe: The recipe when ``training.recipe`` is not given.
    """
    declared = top.raw("study")
    if declared is not None and str(declared) != study:
        raise ConfigError(f"study: the configuration is for study {declared!r}, but it is run as study {study!r}.")
    training = top.section("training", _TRAINING)
    recipe = training.string("recipe", default_recipe, choices=RECIPES) or default_recipe
    overrides = training.section("overrides", list(RECIPES[recipe].to_dict()))
    return {
        "study": study,
        "title": top.string("title", f"Study {study}") or "",
        "seed": int(top.number("seed", 0, integer=True, low=0)),
        "datasets": parse_datasets(top),
        "models": parse_models(top, base_dir),
        "recipe": recipe,
        "recipe_overrides": overrides.mapping,
    }
