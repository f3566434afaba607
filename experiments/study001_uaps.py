"""Studies 000 / 001 on your data: train a diagnostic model, then attack it with UAPs over zeta and p.

Hirano, Minagi & Takemoto 2021 (study 001) and Hirano, Koga & Takemoto 2020 (study 000):

1. load the dataset with an ``art_medical.data`` loader, split as the study did;
2. build a model from the registry (``art_medical.models.available_models()``) and train it with a study
   recipe; the checkpoint with the best validation accuracy (a split of the training data, never the test
   set) is the model attacked;
3. for each p and zeta: a non-targeted UAP, a targeted UAP to each target class and a random control,
   computed on the training images (FGSM inner step, i_max 15) and measured on the test images;
4. write ``results.json``, ``table.txt``, ``report.md`` and the figures into the run folder.

Runs resume: the trained model (``model.keras`` with its model card), the training state and every finished
configuration are reused by a later run into the same folder.

    python experiments/study001_uaps.py experiments/configs/study001_chest_xray.yaml \\
        --data-root ~/data/CellData --out runs/study001_chest_xray
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import yaml

from art_medical import data, metrics
from art_medical.models import ModelCard, build_model, get_recipe, load_model, save_model, to_art, train
from art_medical.reports import RunFolder
from art_medical.uap_grid import UAPGrid, run_uap_grid, write_grid_report

SECTIONS = {"dataset", "model", "training", "uap", "seed"}
MODEL_FILE = "model.keras"


def load_config(path: Path) -> dict[str, Any]:
    """Read and check a study configuration (see ``experiments/configs/``)."""
    if not path.is_file():
        raise FileNotFoundError(f"Configuration file not found: {path}")
    config = yaml.safe_load(path.read_text())
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a mapping with the sections {sorted(SECTIONS)}.")
    unknown, missing = set(config) - SECTIONS, {"dataset", "model", "uap"} - set(config)
    if unknown or missing:
        raise ValueError(f"{path}: unknown section(s) {sorted(unknown)}, missing section(s) {sorted(missing)}.")
    loader = config["dataset"].get("loader", "")
    if not loader.startswith("load_") or loader not in data.__all__:
        loaders = sorted(name for name in data.__all__ if name.startswith("load_"))
        raise ValueError(f"{path}: unknown dataset loader {loader!r}; choose from {loaders}.")
    grid_fields = {field.name for field in fields(UAPGrid)} - {"seed"}
    if set(config["uap"]) - grid_fields:
        raise ValueError(f"{path}: unknown uap option(s) {sorted(set(config['uap']) - grid_fields)}.")
    return config


def _trained_model(config: dict[str, Any], split, class_names: list[str], out: Path, seed: int):
    """The model of an earlier run into ``out``, or one built and trained now (resuming its training)."""
    model_path = out / MODEL_FILE
    if model_path.exists():
        model, _ = load_model(model_path)
        print(f"Reusing the trained model in {model_path}.")
        return model
    training = config.get("training", {})
    recipe = replace(get_recipe(training.get("recipe", "study001")), **training.get("overrides", {}))
    spec = config["model"]
    model = build_model(
        spec["name"], len(class_names), split.x.shape[1:], weights=spec.get("weights"), **spec.get("options", {})
    )
    _, history = train(model, split.x, split.y, recipe, out / "training", seed=seed)
    model = keras.models.load_model(out / "training" / "best.keras")  # chosen on validation, never on test
    best = json.loads((out / "training" / "best.json").read_text())
    card = ModelCard(
        architecture=spec["name"],
        input_shape=tuple(split.x.shape[1:]),
        classes=list(class_names),
        recipe=asdict(recipe),
        data=config["dataset"]["loader"],
        metrics={best["monitor"]: best["value"], "best_epoch": best["epoch"], "epochs": len(history)},
        study="001",
    )
    save_model(model, model_path, card)
    return model


def run(config_path: Path, data_root: Path, out: Path) -> str:
    """Run (or resume) the study into ``out``; return the results table."""
    config = load_config(config_path)
    seed = int(config.get("seed", 0))
    folder = RunFolder(out, {**config, "data_root": str(data_root)})
    dataset = getattr(data, config["dataset"]["loader"])(
        data_root, seed=seed, **config["dataset"].get("options", {})
    )
    class_names = list(dataset.class_names)
    model = _trained_model(config, dataset.train, class_names, folder.path, seed)
    classifier = to_art(model)
    clean_probs = classifier.predict(dataset.test.x)
    test_accuracy = metrics.accuracy(dataset.test.y, clean_probs)
    folder.set_info("model", {"test_accuracy": test_accuracy})
    print(f"Clean test accuracy: {100 * test_accuracy:.1f}% ({len(dataset.test.y)} images)")
    grid = UAPGrid(**{key: tuple(v) if isinstance(v, list) else v for key, v in config["uap"].items()}, seed=seed)
    run_uap_grid(folder, classifier, dataset.train.x, dataset.test.x, dataset.test.y, clean_probs, class_names, grid)
    facts = {
        "data": f"{config['dataset']['loader']}({data_root}), classes {', '.join(class_names)}; "
        f"{len(dataset.train.y)} train / {len(dataset.test.y)} test images",
        "model": config["model"]["name"],
        "clean test accuracy": f"{100 * test_accuracy:.1f}%",
        "UAP": f"FGSM inner step {grid.fgsm_eps} (0-255 scale), i_max {grid.max_iter}, delta {grid.delta}",
    }
    table = write_grid_report(folder, f"Study 001 UAPs: {config_path.stem}", facts)
    print(table)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path, help="study configuration (YAML), e.g. experiments/configs/*.yaml")
    parser.add_argument("--data-root", type=Path, required=True, help="the dataset folder as downloaded")
    parser.add_argument("--out", type=Path, required=True, help="run folder (created; an existing one resumes)")
    args = parser.parse_args(argv)
    try:
        run(args.config, args.data_root.expanduser(), args.out)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
