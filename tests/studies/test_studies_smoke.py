"""``art-medical study 000|001 --smoke`` end to end on phantom trees in the datasets' layouts, interrupted and resumed."""
from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest

from art_medical.cli import main
from art_medical.studies.uap import UAPStudyRun


def _study(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["study", *args])
    return status, out.getvalue(), err.getvalue()


def _interrupt_at(monkeypatch, key_part):
    original = UAPStudyRun.__call__

    def run(self, cell):
        if key_part in cell.key:
            raise KeyboardInterrupt
        return original(self, cell)

    monkeypatch.setattr(UAPStudyRun, "__call__", run)
    return original


def _table(out, name):
    with open(out / "tables" / f"{name}.csv") as file:
        return list(csv.reader(file))


@pytest.fixture(scope="module")
def smoke_001(tmp_path_factory):
    """Study 001's smoke run, interrupted in its first transfer cell, then resumed."""
    out = tmp_path_factory.mktemp("study001") / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _interrupt_at(monkeypatch, "transfer/")
        interrupted = _study("001", "--smoke", "--out", str(out))
    resumed = _study("001", "--smoke", "--out", str(out))
    return out, interrupted, resumed


def test_study_001_smoke_resumes_after_an_interrupt(smoke_001):
    out, (status, _, err), (resumed_status, printed, _) = smoke_001
    assert status == 130 and "interrupted" in err and "run the same command again to resume" in err
    assert resumed_status == 0
    # Model, clean, random and UAP cells were finished before the interrupt: only transfer and retraining remain.
    assert "Cells: 5 computed, 36 reused." in printed
    assert len(list((out / "phantom_data" / "kermany" / "CellData" / "chest_xray" / "test" / "NORMAL").iterdir())) == 20


def test_study_001_smoke_writes_the_papers_tables(smoke_001):
    out, _, _ = smoke_001
    table1 = _table(out, "table1_fooling_rates_zeta0.08")
    assert table1[0] == ["model", "Chest X-ray (phantoms) p=2", "Chest X-ray (phantoms) p=inf",
                         "Chest X-ray (phantoms) clean acc"]
    assert [row[0] for row in table1[1:]] == ["SmallCNN-8", "SmallCNN-16"]
    record = json.loads((out / "cells/uap/chest_xray/cnn16/nontargeted/p2/zeta0.08/record.json").read_text())
    assert table1[2][1] == f"{100 * record['test_fooling_rate']:.1f} ({100 * record['random_test_fooling_rate']:.1f})"
    table2 = _table(out, "table2_success_rates_p2_zeta0.04")
    assert table2[0][1:] == ["Chest X-ray (phantoms) NORMAL", "Chest X-ray (phantoms) NORMAL R_s0",
                             "Chest X-ray (phantoms) PNEUMONIA", "Chest X-ray (phantoms) PNEUMONIA R_s0"]
    transfer = _table(out, "transfer_chest_xray_nontargeted_pinf_zeta0.08")
    cross = json.loads((out / "cells/transfer/chest_xray/cnn8-to-cnn16/nontargeted/pinf/zeta0.08/record.json").read_text())
    assert transfer[1][2] == f"{100 * cross['test_fooling_rate']:.1f}"
    retraining = _table(out, "retrain_chest_xray_cnn8_nontargeted_pinf_zeta0.08")
    assert [row[0] for row in retraining[1:]] == ["0", "1", "2"]
    for figure in ("summary_chest_xray_cnn8", "transfer_chest_xray_nontargeted_pinf_zeta0.08",
                   "retrain_chest_xray_cnn8_nontargeted_pinf_zeta0.08"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 10_000


def test_study_000_smoke_reports_training_and_test_rates_against_labels(tmp_path):
    out = tmp_path / "run"
    status, printed, _ = _study("000", "--smoke", "--out", str(out))
    assert status == 0 and "Cells: 46 computed" in printed
    table1 = _table(out, "table1_fooling_rates")
    assert table1[0][:5] == ["p", "zeta", "Small training", "Small test", "Small no attack (train / test)"]
    record = json.loads((out / "cells/uap/covidx/small/nontargeted/pinf/zeta0.08/record.json").read_text())
    assert table1[4][3] == (f"{100 * record['test_fooling_rate_vs_labels']:.1f} "
                            f"({100 * record['random_test_fooling_rate_vs_labels']:.1f})")
    table2 = _table(out, "table2_success_rates_small")
    assert table2[0][2:5] == ["normal training", "normal test", "normal R_s0 test"]
    retrained = json.loads((out / "cells/retrain/covidx/small/to-COVID-19/pinf/zeta0.04/record.json").read_text())
    assert [entry["round"] for entry in retrained["history"]] == [0, 1, 2]
    assert all(entry["targeted_success_rate"] is not None for entry in retrained["history"])


def test_study_list_and_user_mistakes(tmp_path, capsys):
    status, printed, _ = _study("--list")
    assert status == 0 and "001: Hirano, Minagi & Takemoto 2021" in printed and "study001_chest_xray.yaml" in printed
    status, _, err = _study("001", "--out", str(tmp_path / "run"))
    assert status == 2 and "give --config" in err
    status, _, err = _study("001", "--config", "study001_chest_xrya", "--data-root", str(tmp_path))
    assert status == 2 and "Configuration file not found" in err and "study001_chest_xrya.yaml" in err
    status, _, err = _study("001", "--config", "study001_chest_xray", "--data-root", str(tmp_path / "none"),
                            "--out", str(tmp_path / "run"))
    assert status == 2 and "dataset folder not found" in err and not (tmp_path / "run").exists()
