"""The main job, ``art-medical demo --quick``, end to end and resumed (art_medical.demo, art_medical.cli)."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from art_medical.cli import main
from art_medical.demo import DemoSettings, run_demo

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Run ``art-medical demo --quick`` once; return the run folder and what the command printed."""
    out = tmp_path_factory.mktemp("demo") / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["demo", "--quick", "--out", str(out), "--seed", "0"])
    assert status == 0
    return out, printed.getvalue()


def test_results_hold_a_row_per_configuration(quick_run):
    out, _ = quick_run
    results = json.loads((out / "results.json").read_text())
    settings = DemoSettings.quick()
    expected = {
        f"{attack}_p{n}_zeta{z:g}" for attack in ("uap", "targeted_uap_covid", "random_covid")
        for n in settings.norms for z in settings.zetas
    }
    assert {row["key"] for row in results["rows"]} == expected
    assert results["settings"]["image_size"] == 32
    assert 0.0 <= results["info"]["model"]["test_accuracy"] <= 1.0
    for row in results["rows"]:
        for rate in ("fooling_rate", "fooling_rate_vs_labels", "clean_accuracy", "adversarial_accuracy"):
            assert 0.0 <= row[rate] <= 1.0
        if row["attack"] == "uap":
            assert row["target"] is None and row["targeted_success_rate"] is None
        else:
            assert row["target"] == "covid" and 0.0 <= row["targeted_success_rate"] <= 1.0
        cm = np.array(row["confusion_adversarial"])
        assert cm.shape == (3, 3) and np.allclose(cm.sum(axis=1), 1.0)
        assert row["noise_norm"] <= row["xi"] * (1 + 1e-5)


def test_xi_grows_with_zeta_and_random_controls_have_norm_xi(quick_run):
    out, _ = quick_run
    rows = {row["key"]: row for row in json.loads((out / "results.json").read_text())["rows"]}
    for norm in ("2", "inf"):
        assert rows[f"uap_p{norm}_zeta0.04"]["xi"] == pytest.approx(2 * rows[f"uap_p{norm}_zeta0.02"]["xi"])
        for zeta in ("0.02", "0.04"):
            random_row = rows[f"random_covid_p{norm}_zeta{zeta}"]
            assert random_row["noise_norm"] == pytest.approx(random_row["xi"], rel=1e-5)


def test_uaps_fool_at_least_as_often_as_random_controls(quick_run):
    out, _ = quick_run
    rows = {row["key"]: row for row in json.loads((out / "results.json").read_text())["rows"]}
    for norm in ("2", "inf"):
        for zeta in ("0.02", "0.04"):
            random_row = rows[f"random_covid_p{norm}_zeta{zeta}"]
            assert rows[f"uap_p{norm}_zeta{zeta}"]["fooling_rate"] >= random_row["fooling_rate"]
            assert rows[f"targeted_uap_covid_p{norm}_zeta{zeta}"]["targeted_success_rate"] >= random_row["targeted_success_rate"]


def test_run_folder_holds_table_report_model_and_figures(quick_run):
    out, printed = quick_run
    table = (out / "table.txt").read_text()
    assert table.splitlines()[0].startswith("attack") and len(table.splitlines()) == 2 + 12
    assert table in printed and "Clean test accuracy" in printed
    report = (out / "report.md").read_text()
    assert "## Results" in report and "figures/confusion_uap_pinf_zeta0.04.png" in report
    assert (out / "model.keras").stat().st_size > 0
    for row_key in ("uap_pinf_zeta0.04", "targeted_uap_covid_p2_zeta0.02"):
        for kind in ("confusion", "strip"):
            with Image.open(out / "figures" / f"{kind}_{row_key}.png") as image:
                assert image.format == "PNG" and min(image.size) > 100
    assert len(list((out / "noises").glob("*.npy"))) == 12
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_rerun_resumes_without_recomputing(quick_run):
    out, _ = quick_run
    results = out / "results.json"
    before = (results.stat().st_mtime_ns, results.read_bytes())
    summary = run_demo(out, DemoSettings.quick())
    assert summary["computed"] == [] and len(summary["skipped"]) == 12 and not summary["model_trained"]
    assert (results.stat().st_mtime_ns, results.read_bytes()) == before


def test_other_settings_in_the_same_folder_are_refused(quick_run, capsys):
    out, _ = quick_run
    assert main(["demo", "--quick", "--out", str(out), "--seed", "1"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_cli_help_lists_the_demo(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "demo" in capsys.readouterr().out
