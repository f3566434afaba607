"""The UAP protocol end to end on phantoms: records, determinism, resume, rebuilt figures, failures, warnings."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from art_medical.demo import DEFINITION as DEMO
from art_medical.studies import run_protocol
from art_medical.studies.uap import NearChanceWarning, UAPStudyRun

UAP_KEY = "uap/phantoms/cnn/to-covid/pinf/zeta0.06"


def _records(out):
    return {path.parent.relative_to(out / "cells").as_posix(): json.loads(path.read_text())
            for path in sorted((out / "cells").rglob("record.json"))}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import TINY

    out = tmp_path_factory.mktemp("tiny") / "run"
    result = run_protocol(DEMO, TINY, out, progress=False)
    return out, result


def test_the_grid_has_a_model_clean_random_and_uap_cells(tiny_run):
    out, result = tiny_run
    assert result.outcome.computed == [
        "model/phantoms/cnn", "clean/phantoms/cnn", "random/phantoms/cnn/pinf/zeta0.06",
        "uap/phantoms/cnn/nontargeted/pinf/zeta0.06", UAP_KEY]
    record = _records(out)[UAP_KEY]
    clean = _records(out)["clean/phantoms/cnn"]
    assert record["xi"] == pytest.approx(0.06 * clean["mean_norm_pinf"])
    noise = np.load(out / "cells" / UAP_KEY / "noise.npy")
    assert np.abs(noise).max() <= record["xi"] * (1 + 1e-6)
    assert record["noise_norm"] == pytest.approx(float(np.abs(noise).max()))
    # The targeted UAP moves images into the target well beyond its no-attack baseline and its random control.
    assert record["test_targeted_success_rate"] >= record["test_targeted_success_baseline"] + 0.2
    assert record["test_targeted_success_rate"] >= record["random_test_targeted_success_rate"] + 0.2
    assert clean["clean_accuracy"] > 0.6 and not clean["near_chance"]


def test_the_report_has_the_tables_figures_and_flipped_images(tiny_run):
    out, _ = tiny_run
    record = _records(out)[UAP_KEY]
    header = (out / "tables" / "uap_results.csv").read_text().splitlines()[0]
    assert header.startswith("dataset,model,UAP,p,zeta,xi,R_f test (random)")
    row = [line for line in (out / "tables" / "uap_results.csv").read_text().splitlines() if "covid" in line][0]
    expected = f"{100 * record['test_targeted_success_rate']:.1f} ({100 * record['random_test_targeted_success_rate']:.1f})"
    assert expected in row
    figures = sorted(path.name for path in (out / "figures").iterdir())
    assert figures == sorted([
        "summary_phantoms_cnn.png", "confusion_uap_phantoms_cnn_nontargeted_pinf_zeta0.06.png",
        "strip_uap_phantoms_cnn_nontargeted_pinf_zeta0.06.png", "confusion_uap_phantoms_cnn_to-covid_pinf_zeta0.06.png",
        "strip_uap_phantoms_cnn_to-covid_pinf_zeta0.06.png"])
    report = (out / "report.md").read_text()
    assert "R_s (targeted attack success rate)" in report and "](figures/strip_uap_phantoms_cnn_to-covid" in report
    # The strip shows images the targeted UAP flipped into the target first.
    covid = 2
    flipped = [c != covid and a == covid for c, a in zip(record["strip_clean_pred"], record["strip_adversarial_pred"])]
    assert flipped[0]


def test_a_rerun_reuses_every_cell_and_rebuilds_a_deleted_figure(tiny_run):
    out, first = tiny_run
    strip = out / "figures" / "strip_uap_phantoms_cnn_to-covid_pinf_zeta0.06.png"
    strip.unlink()
    from conftest import TINY

    again = run_protocol(DEMO, TINY, out, progress=False)
    assert again.outcome.computed == [] and len(again.outcome.skipped) == 5
    assert strip.exists() and again.text == first.text


def test_the_same_config_and_seed_give_the_same_numbers(tiny_run, tmp_path):
    out, _ = tiny_run
    from conftest import TINY

    run_protocol(DEMO, TINY, tmp_path / "second", progress=False)
    first, second = _records(out), _records(tmp_path / "second")
    drop = ("seconds", "finished", "attack_seconds")
    assert [{k: v for k, v in r.items() if k not in drop} for r in first.values()] == \
           [{k: v for k, v in r.items() if k not in drop} for r in second.values()]


def test_an_interrupted_run_resumes_with_only_the_unfinished_cells(tiny_config, tmp_path, monkeypatch):
    original = UAPStudyRun.cell_uap

    def interrupted(self, cell):
        if "to-covid" in cell.key:
            raise KeyboardInterrupt
        return original(self, cell)

    monkeypatch.setattr(UAPStudyRun, "cell_uap", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_protocol(DEMO, tiny_config, tmp_path / "run", progress=False)
    monkeypatch.setattr(UAPStudyRun, "cell_uap", original)
    resumed = run_protocol(DEMO, tiny_config, tmp_path / "run", progress=False)
    assert resumed.outcome.computed == [UAP_KEY]
    assert len(resumed.outcome.skipped) == 4


def test_a_corrupt_model_file_is_named_with_the_fix(tiny_config, tmp_path):
    out = tmp_path / "run"
    run_protocol(DEMO, tiny_config, out, progress=False)
    (out / "cells" / "model" / "phantoms" / "cnn" / "model.keras").write_bytes(b"not a zip file")
    (out / "cells" / "clean" / "phantoms" / "cnn" / "record.json").unlink()
    result = run_protocol(DEMO, tiny_config, out, progress=False)
    error = result.outcome.failed["clean/phantoms/cnn"]
    assert "model.keras cannot be loaded" in error and "delete the folder" in error and "cells/model/phantoms/cnn" in error
    assert "cell clean/phantoms/cnn failed" in (out / "report.md").read_text()
    assert len(result.outcome.blocked) == 3 and not result.outcome.complete


def test_a_model_near_chance_is_flagged(tiny_config, tmp_path):
    tiny_config["training"]["overrides"].update(epochs=1, learning_rate=1e-9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_protocol(DEMO, tiny_config, tmp_path / "run", progress=False)
    assert any(issubclass(w.category, NearChanceWarning) for w in caught)
    assert "near chance" in result.text and "near chance" in (tmp_path / "run" / "report.md").read_text()
