"""What every study protocol provides to the engine and the CLI, and the services all protocols share.

A protocol run holds a checked configuration (a :class:`~art_medical.studies.specs.StudyConfig`), the data root
and the run folder. It lists its grid of cells, computes any one of them (``run(cell)`` dispatches on the cell's
kind to a method ``cell_<kind>``), and writes the study's tables, figures and report from the finished records.
It is picklable, so that an engine can compute cells in other processes; the datasets and models it loads are
cached per process.

Shared by every protocol: the configuration's datasets (loaded once per process, class names read without
decoding an image), and its models through one cell per dataset and model, ``model/<dataset>/<model>``: an
architecture trained with the recipe (resumable, the checkpoint chosen on a validation split, saved with a model
card) or a saved model attacked as it is.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from art_medical.data import Dataset
from art_medical.reports import read_json
from art_medical.studies import datasets
from art_medical.studies.cells import Cell, make_key
from art_medical.studies.config import ConfigError
from art_medical.studies.engine import GridOutcome
from art_medical.studies.folder import StudyFolder
from art_medical.studies.specs import INPUT_SCALES, ModelSpec, StudyConfig

MODEL_FILE = "model.keras"


class ProtocolRun(ABC):
    """Base class of a study protocol's run (see the module docstring).

    :param config: The checked configuration.
    :param data_root: The folder datasets are read below (None for built-in data only).
    :param folder: The run folder (set once the configuration and the data are checked).
    """

    classifier_batch_size = 128
    """Images per forward / backward pass of the ART classifiers."""

    def __init__(self, config: StudyConfig, data_root: Path | None, folder: StudyFolder | None) -> None:
        self.config = config
        self.data_root = None if data_root is None else Path(data_root)
        self.folder = folder
        self._cache: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": {}}

    @abstractmethod
    def cells(self) -> list[Cell]:
        """The grid, in dependency order."""

    @abstractmethod
    def report(self, outcome: GridOutcome) -> str:
        """Write tables, figures and ``report.md`` from the finished records; return the text to print."""

    def check_data(self) -> None:
        """Checks that need the data root but decode no image: every dataset's classes can be read, and saved
        models name the same classes. Protocols extend it (e.g. with their target classes)."""
        for spec in self.config.datasets:
            classes = self.class_names(spec.name)
            for model in self.config.models:
                if model.file is not None:
                    self._check_saved_model(model, classes)

    def __call__(self, cell: Cell) -> dict[str, Any]:
        """Compute one cell: write its artifacts into its folder and return its result fields."""
        return getattr(self, f"cell_{cell.kind}")(cell)

    def cached(self, key: Any, build: Any) -> Any:
        """``build()`` once per process for ``key``."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def artifact(self, key: str, name: str) -> Path:
        """The path of the artifact ``name`` of the cell ``key``."""
        return self.folder.cell_dir(key) / name

    # ---- datasets -------------------------------------------------------------------------------------

    def dataset(self, name: str) -> Dataset:
        """The dataset ``name`` of the configuration, loaded once per process."""
        spec = self.config.dataset(name)

        def build() -> Dataset:
            root = datasets.dataset_root(spec.path, self.data_root, spec.loader, f"datasets.{name}")
            return datasets.load(spec.loader, root, spec.options, self.config.seed)

        return self.cached(("dataset", name), build)

    def class_names(self, dataset: str) -> tuple[str, ...]:
        """The dataset's class names, read without decoding an image."""
        spec = self.config.dataset(dataset)

        def build() -> tuple[str, ...]:
            root = datasets.dataset_root(spec.path, self.data_root, spec.loader, f"datasets.{dataset}")
            return datasets.class_names(spec.loader, root, spec.options)

        return self.cached(("classes", dataset), build)

    def check_classes(self, where: str, names: Any, dataset: str) -> None:
        """Raise a ConfigError naming ``where`` if a name is not a class of ``dataset``."""
        classes = self.class_names(dataset)
        unknown = [name for name in names if name not in classes]
        if unknown:
            raise ConfigError(f"{where}: unknown class(es) {unknown}; the data's classes are {list(classes)}.")

    # ---- models ---------------------------------------------------------------------------------------

    @staticmethod
    def model_key(dataset: str, model: str) -> str:
        return make_key("model", dataset, model)

    def model_cell(self, dataset: str, model: ModelSpec) -> Cell:
        """The cell that provides ``model`` for ``dataset``: trained with the recipe, or a saved file."""
        key = self.model_key(dataset, model.name)
        if model.file is not None:
            return Cell(key, "load", {"dataset": dataset, "model": model.name, "file": model.file,
                                      "input_scale": model.input_scale})
        spec = self.config.dataset(dataset)
        params = {
            "dataset": dataset, "model": model.name, "loader": spec.loader, "data_path": spec.path,
            "data_options": spec.options, "seed": self.config.seed, "architecture": model.architecture,
            "weights": model.weights, "options": model.options, "recipe": self.config.recipe,
            "overrides": self.config.recipe_overrides,
        }
        return Cell(key, "train", params, gpu=True)

    def model(self, dataset: str, model: str):
        """The Keras model of ``model/<dataset>/<model>``, loaded once per process."""
        def build():
            from art_medical.models import load_model

            spec = self.config.model(model)
            path = Path(spec.file) if spec.file else self.artifact(self.model_key(dataset, model), MODEL_FILE)
            try:
                keras_model, _ = load_model(path)
            except (ValueError, OSError) as error:
                fix = ("restore the file" if spec.file else
                       f"delete the folder {path.parent} to train the model again, or restore the file")
                raise ValueError(f"The model file {path} cannot be loaded ({error}); {fix}.") from error
            return keras_model

        return self.cached(("model", dataset, model), build)

    def classifier(self, dataset: str, model: str, keras_model=None):
        """The ART classifier (0-255 pixels in) of a model; ``keras_model`` overrides the stored one."""
        from art_medical.models import to_art

        preprocessing = INPUT_SCALES[self.config.model(model).input_scale]

        def build():
            return to_art(keras_model if keras_model is not None else self.model(dataset, model),
                          clip_values=(0.0, 255.0), batch_size=self.classifier_batch_size,
                          preprocessing=preprocessing)

        if keras_model is not None:
            return build()
        return self.cached(("classifier", dataset, model), build)

    def cell_train(self, cell: Cell) -> dict[str, Any]:
        """Build and train the architecture with the recipe; keep the checkpoint chosen on validation."""
        import keras

        from art_medical.models import ModelCard, build_model, get_recipe, load_model, save_model, train

        p = cell.params
        data = self.dataset(p["dataset"])
        folder = self.folder.cell_dir(cell.key)
        recipe = get_recipe(p["recipe"]).replace(**p["overrides"])
        training_dir = folder / "training"
        if not _training_finished(training_dir, recipe.epochs):
            keras.utils.set_random_seed(p["seed"])  # before the model is built: same config, same numbers
            model = build_model(p["architecture"], len(data.class_names), data.train.x.shape[1:],
                                weights=p["weights"], **p["options"])
            train(model, data.train.x, data.train.y, recipe, training_dir, seed=p["seed"], verbose=0,
                  extra_callbacks=[_epoch_bar(recipe.epochs, cell.key)])
        best, _ = load_model(training_dir / "best.keras")
        info = read_json(training_dir / "best.json")
        history = read_json(training_dir / "history.json")
        card = ModelCard(
            architecture=p["architecture"], input_shape=tuple(data.train.x.shape[1:]), classes=list(data.class_names),
            recipe=recipe.to_dict(), data=f"{p['loader']}({p['data_path']}), {len(data.train.y)} training images",
            metrics={info["monitor"]: info["value"], "best_epoch": info["epoch"]}, study=self.config.study,
        )
        save_model(best, folder / MODEL_FILE, card)
        return {
            "dataset": p["dataset"], "model": p["model"], "architecture": p["architecture"],
            "train_images": int(len(data.train.y)), "epochs": len(history), "best_epoch": info["epoch"],
            info["monitor"]: info["value"], "final_train_accuracy": history[-1].get("accuracy"),
        }

    def cell_load(self, cell: Cell) -> dict[str, Any]:
        """A saved model attacked as it is: check that it loads; record what it is."""
        model = self.model(cell.params["dataset"], cell.params["model"])
        return {"dataset": cell.params["dataset"], "model": cell.params["model"], "file": cell.params["file"],
                "input_shape": list(model.input_shape[1:]), "outputs": int(model.output_shape[-1]),
                "input_scale": cell.params["input_scale"], "sha256": _file_hash(Path(cell.params["file"]))}

    def _check_saved_model(self, model: ModelSpec, classes: tuple[str, ...]) -> None:
        from art_medical.models import load_model_card

        card = None
        try:
            card = load_model_card(model.file)
        except FileNotFoundError:
            pass
        named = model.classes or (tuple(card.classes) if card is not None else None)
        if named is not None and tuple(named) != tuple(classes):
            raise ConfigError(
                f"models.{model.name}: the model's classes {list(named)} (in output order) differ from the data's "
                f"{list(classes)}; pass the data's classes in the model's output order."
            )


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _training_finished(training_dir: Path, epochs: int) -> bool:
    """Whether an earlier attempt finished every epoch (its best checkpoint is kept)."""
    history = training_dir / "history.json"
    if not (history.exists() and (training_dir / "best.keras").exists()):
        return False
    return len(read_json(history)) >= epochs


def _epoch_bar(epochs: int, key: str):
    from tqdm.keras import TqdmCallback

    return TqdmCallback(epochs=epochs, verbose=0, desc=f"training {key}", leave=False)
