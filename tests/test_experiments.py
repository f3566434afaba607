"""experiments/study001_uaps.py end to end on a folder-per-class tree of phantom PNGs, and its configurations."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from art_medical.data import isic, kermany
from art_medical.data.synthetic import make_chest_xray_phantoms

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
LOADER_CLASSES = {
    "load_kermany_chest_xray": kermany.CHEST_XRAY_CLASSES,
    "load_kermany_oct": kermany.OCT_CLASSES,
    "load_isic2018": isic.CLASSES,
}


def _load_script():
    spec = importlib.util.spec_from_file_location("study001_uaps", EXPERIMENTS / "study001_uaps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def study():
    return _load_script()


@pytest.mark.parametrize("config", sorted((EXPERIMENTS / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_configurations_are_valid(study, config):
    loaded = study.load_config(config)
    classes = LOADER_CLASSES[loaded["dataset"]["loader"]]
    assert set(loaded["uap"]["targets"]) <= set(classes)
    assert loaded["uap"]["max_iter"] == 15 and loaded["uap"]["fgsm_eps"] == pytest.approx(0.0024 * 128)


def _write_tree(root: Path) -> None:
    x, y, names = make_chest_xray_phantoms(80, size=32, classes=("normal", "pneumonia"), seed=3)
    for k, (image, label) in enumerate(zip(x, y)):
        folder = root / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[..., 0].astype(np.uint8)).save(folder / f"img{k:03d}.png")


def _write_config(path: Path, **uap_changes) -> Path:
    config = {
        "seed": 0,
        "dataset": {"loader": "load_image_folders", "options": {"size": 32, "channels": 1, "verbose": False}},
        "model": {"name": "small_cnn", "weights": None, "options": {"filters": 8}},
        "training": {"recipe": "study003", "overrides": {"epochs": 20, "batch_size": 16, "learning_rate": 3e-3,
                                                             "validation_fraction": 0.25}},
        "uap": {"zetas": [0.04], "norms": ["inf"], "targets": ["pneumonia"], "fgsm_eps": 2.0, "max_iter": 3,
                "uap_images": 30, "batch_size": 16, "strip_images": 2, **uap_changes},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_study_runs_end_to_end_and_resumes(study, tmp_path, capsys):
    _write_tree(tmp_path / "data")
    config = _write_config(tmp_path / "config.yaml")
    out = tmp_path / "run"
    assert study.main([str(config), "--data-root", str(tmp_path / "data"), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    rows = {row["key"]: row for row in results["rows"]}
    assert set(rows) == {"uap_pinf_zeta0.04", "targeted_uap_pneumonia_pinf_zeta0.04",
                         "random_pneumonia_pinf_zeta0.04"}
    assert results["info"]["model"]["test_accuracy"] > 0.7
    targeted, control = rows["targeted_uap_pneumonia_pinf_zeta0.04"], rows["random_pneumonia_pinf_zeta0.04"]
    assert targeted["targeted_success_rate"] > control["targeted_success_rate"]
    card = json.loads((out / "model.card.json").read_text())
    assert card["architecture"] == "small_cnn" and card["classes"] == ["normal", "pneumonia"]
    best = json.loads((out / "training" / "best.json").read_text())
    assert card["metrics"]["val_accuracy"] == best["value"] and 1 <= card["metrics"]["best_epoch"] <= 20
    assert (out / "report.md").read_text().count("![") == 4

    model_time, results_text = (out / "model.keras").stat().st_mtime_ns, (out / "results.json").read_text()
    capsys.readouterr()
    assert study.main([str(config), "--data-root", str(tmp_path / "data"), "--out", str(out)]) == 0
    assert "Reusing the trained model" in capsys.readouterr().out
    assert (out / "model.keras").stat().st_mtime_ns == model_time
    assert json.loads((out / "results.json").read_text())["rows"] == json.loads(results_text)["rows"]


def test_bad_configurations_are_refused(study, tmp_path, capsys):
    bad_loader = tmp_path / "bad_loader.yaml"
    bad_loader.write_text(yaml.safe_dump({"dataset": {"loader": "load_everything"}, "model": {}, "uap": {}}))
    assert study.main([str(bad_loader), "--data-root", str(tmp_path), "--out", str(tmp_path / "a")]) == 2
    assert "unknown dataset loader 'load_everything'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown uap option"):
        study.load_config(_write_config(tmp_path / "bad_uap.yaml", zeta=0.1))
    with pytest.raises(FileNotFoundError, match="not found"):
        study.load_config(tmp_path / "missing.yaml")
