"""``art-medical audit``: a saved model attacked as it is, on an image folder or a CSV, with the studies' report."""
from __future__ import annotations

import contextlib
import csv
import io
import shutil

import pytest

from art_medical.cli import main
from art_medical.data import make_phantoms, write_phantom_tree

CLASSES = ["round", "stripes", "blob"]
ARGS = ["--zetas", "0.06", "--norms", "inf", "--passes", "20", "--targets", "blob"]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A SmallCNN trained on 3 phantom patterns (RGB 32x32), saved with a model card."""
    import keras

    from art_medical.models import ModelCard, SmallCNN, save_model

    x, y, _ = make_phantoms(60, 3, size=32, channels=3, seed=5)
    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=(32, 32, 3), classes=3, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    folder = tmp_path_factory.mktemp("model")
    save_model(model, folder / "patterns.keras", ModelCard("small_cnn", (32, 32, 3), CLASSES))
    return folder / "patterns.keras"


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_phantom_tree("image_folders", tmp_path_factory.mktemp("data") / "images", n_train_per_class=20,
                              n_test_per_class=20, size=32, seed=1, classes=CLASSES)


def _audit(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(["audit", *args])
        except SystemExit as exit_info:  # argparse's own errors
            status = exit_info.code
    return status, out.getvalue(), err.getvalue()


def _rates(out):
    with open(out / "tables" / "uap_results.csv") as file:
        return [(row["UAP"], row["R_f test (random)"], row["R_s test (random)"]) for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def audited(saved_model, images, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "run"
    status, printed, _ = _audit("--model", str(saved_model), "--data", str(images), "--out", str(out), *ARGS)
    assert status == 0
    return out, printed


def test_audit_attacks_the_saved_model_and_writes_the_report(audited):
    import json

    out, printed = audited
    record = json.loads((out / "cells/uap/data/model/to-blob/pinf/zeta0.06/record.json").read_text())
    clean = json.loads((out / "cells/clean/data/model/record.json").read_text())
    assert clean["clean_accuracy"] > 0.8 and clean["classes"] == CLASSES
    assert (clean["uap_images"], clean["test_images"]) == (60, 60)  # half of the 120 images held out
    assert record["algorithm"] == "batched" and record["passes"] >= 1
    assert record["test_targeted_success_rate"] >= record["random_test_targeted_success_rate"] + 0.3
    assert not (out / "cells" / "model" / "data" / "model" / "model.keras").exists()  # nothing trained or copied
    assert "targeted -> blob" in printed and (out / "report.md").exists()


def test_a_model_without_a_card_needs_its_input_scale(saved_model, images, tmp_path):
    bare = tmp_path / "bare.keras"
    shutil.copy(saved_model, bare)
    status, _, err = _audit("--model", str(bare), "--data", str(images), "--out", str(tmp_path / "run"), *ARGS)
    assert status == 2 and "no model card beside it: state the pixel range it takes with --input-scale" in err
    assert not (tmp_path / "run").exists()
    status, printed, _ = _audit("--model", str(bare), "--data", str(images), "--out", str(tmp_path / "run"),
                                "--input-scale", "0-255", *ARGS)
    assert status == 0 and "class order is taken as the sorted folder" in printed


def test_a_model_on_the_unit_scale_gives_the_same_results(saved_model, images, audited, tmp_path):
    import keras

    from art_medical.models import load_model

    model, _ = load_model(saved_model)
    unit = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(255.0), model])  # takes [0, 1]
    unit.save(tmp_path / "unit.keras")
    status, _, _ = _audit("--model", str(tmp_path / "unit.keras"), "--data", str(images), "--out",
                          str(tmp_path / "run"), "--input-scale", "0-1", "--classes", ",".join(CLASSES), *ARGS)
    assert status == 0
    assert _rates(tmp_path / "run") == _rates(audited[0])


def test_audit_reads_a_csv_of_files_and_labels(saved_model, tmp_path):
    table = write_phantom_tree("image_csv", tmp_path / "csv", n_train_per_class=10, n_test_per_class=10, size=32,
                               seed=2, classes=CLASSES)
    status, printed, _ = _audit("--model", str(saved_model), "--data", str(table), "--out", str(tmp_path / "run"),
                                *ARGS)
    assert status == 0 and "Cells: 5 computed" in printed


@pytest.mark.parametrize(("arguments", "message"), [
    (["--data", "missing_folder"], "--data: no such folder or CSV file"),
    (["--zetas", "0.02,x"], "expected comma-separated numbers"),
    (["--targets", "blobb"], "unknown class(es) ['blobb']"),
    (["--classes", "round,stripes,blop"], "--classes: no folder for ['blop']"),
])
def test_user_mistakes_get_clear_errors(saved_model, images, tmp_path, arguments, message):
    base = {"--model": str(saved_model), "--data": str(images), "--out": str(tmp_path / "run")}
    args = [item for key, value in base.items() if key not in arguments for item in (key, value)] + arguments
    if arguments[0] == "--data":
        args[args.index("missing_folder")] = str(tmp_path / "missing_folder")
    status, _, err = _audit(*args)
    assert status == 2 and message in err
