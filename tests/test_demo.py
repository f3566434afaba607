"""The main job, ``art-medical demo --quick``, end to end through the command line, and resumed."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from art_medical.cli import main
from art_medical.data.synthetic import make_chest_xray_phantoms

GRID = [(norm, zeta) for norm in ("2", "inf") for zeta in ("0.02", "0.04")]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Run ``art-medical demo --quick`` once; return the run folder and what the command printed."""
    out = tmp_path_factory.mktemp("demo") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["demo", "--quick", "--out", str(out), "--seed", "0"])
    assert status == 0
    return out, printed.getvalue()


def _record(out, key):
    return json.loads((out / "cells" / key / "record.json").read_text())


def test_xi_is_zeta_times_the_mean_norm_of_the_training_images(quick_run):
    out, _ = quick_run
    x_train, _, _ = make_chest_xray_phantoms(40, size=32, seed=0)  # the quick demo's training images
    flat = x_train.reshape(len(x_train), -1).astype(np.float64)
    mean_norm = {"2": np.linalg.norm(flat, axis=1).mean(), "inf": np.abs(flat).max(axis=1).mean()}
    for norm, zeta in GRID:
        record = _record(out, f"uap/phantoms/small_cnn/nontargeted/p{norm}/zeta{zeta}")
        assert record["xi"] == pytest.approx(float(zeta) * mean_norm[norm], rel=1e-5)
        random_noise = np.load(out / "cells" / f"random/phantoms/small_cnn/p{norm}/zeta{zeta}" / "noise.npy")
        measured = np.linalg.norm(random_noise) if norm == "2" else np.abs(random_noise).max()
        assert measured == pytest.approx(record["xi"], rel=1e-5)  # the random control lies on the sphere
        uap_noise = np.load(out / "cells" / f"uap/phantoms/small_cnn/nontargeted/p{norm}/zeta{zeta}" / "noise.npy")
        measured = np.linalg.norm(uap_noise) if norm == "2" else np.abs(uap_noise).max()
        assert 0.0 < measured <= record["xi"] * (1 + 1e-5)


def test_the_largest_uaps_beat_their_random_controls_by_a_wide_margin(quick_run):
    out, _ = quick_run
    nontargeted = _record(out, "uap/phantoms/small_cnn/nontargeted/pinf/zeta0.04")
    targeted = _record(out, "uap/phantoms/small_cnn/to-covid/pinf/zeta0.04")
    assert nontargeted["test_fooling_rate"] - nontargeted["random_test_fooling_rate"] >= 0.25
    assert targeted["test_targeted_success_rate"] - targeted["random_test_targeted_success_rate"] >= 0.3
    assert targeted["test_targeted_success_rate"] - targeted["test_targeted_success_baseline"] >= 0.3


def test_the_run_folder_holds_tables_figures_and_report(quick_run):
    out, printed = quick_run
    rows = (out / "tables" / "uap_results.csv").read_text().splitlines()
    assert len(rows) == 1 + 8  # non-targeted and targeted UAP per p and zeta
    assert "synthetic chest X-rays  SmallCNN  targeted -> covid" in printed and "Cells: 14 computed" in printed
    assert (out / "cells" / "model" / "phantoms" / "small_cnn" / "model.keras").stat().st_size > 0
    assert (out / "cells" / "model" / "phantoms" / "small_cnn" / "model.card.json").exists()
    report = (out / "report.md").read_text()
    assert "## Tables" in report and "figures/summary_phantoms_small_cnn.png" in report
    for name in ("summary_phantoms_small_cnn", "confusion_uap_phantoms_small_cnn_nontargeted_pinf_zeta0.04",
                 "strip_uap_phantoms_small_cnn_to-covid_p2_zeta0.02"):
        with Image.open(out / "figures" / f"{name}.png") as image:
            assert image.format == "PNG" and min(image.size) > 100
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def test_a_rerun_resumes_without_recomputing(quick_run, capsys):
    out, _ = quick_run
    record = out / "cells" / "uap/phantoms/small_cnn/to-covid/pinf/zeta0.04" / "record.json"
    before = record.read_bytes()
    assert main(["demo", "--quick", "--out", str(out), "--seed", "0"]) == 0
    assert "Cells: 0 computed, 14 reused." in capsys.readouterr().out
    assert record.read_bytes() == before


def test_other_settings_in_the_same_folder_are_refused_by_name(quick_run, capsys):
    out, _ = quick_run
    assert main(["demo", "--quick", "--out", str(out), "--seed", "1"]) == 2
    assert "config.seed: 0 in the folder, 1 now" in capsys.readouterr().err


def test_cli_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert all(command in help_text for command in ("demo", "study", "audit"))
