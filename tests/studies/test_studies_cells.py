"""Cells, the run folder and the local engine: keys, records, resume, failures, interruption."""
from __future__ import annotations

import json

import pytest

from art_medical.studies import Cell, StudyFolder, make_key, run_grid
from art_medical.studies.folder import settings_diff


def test_keys_are_readable_and_filesystem_safe():
    assert make_key("uap", "covidx", "small", "to-COVID-19", "p2", "zeta0.01") == "uap/covidx/small/to-COVID-19/p2/zeta0.01"
    assert make_key("clean", "no finding", 0.02) == "clean/no_finding/0.02"
    with pytest.raises(ValueError, match="Invalid cell key"):
        Cell("uap/../../etc", "uap")
    with pytest.raises(ValueError, match="empty key segment"):
        make_key("uap", "///")


def test_params_compare_as_they_read_back_from_json(tmp_path):
    cell = Cell("a", "kind", {"zetas": (0.02, 0.04)})
    assert cell.params == {"zetas": [0.02, 0.04]}
    folder = StudyFolder(tmp_path / "run", {"study": "x"})
    folder.write_record(cell, {"value": 1}, seconds=0.5)
    assert folder.finished(Cell("a", "kind", {"zetas": [0.02, 0.04]}))
    assert not folder.finished(Cell("a", "kind", {"zetas": [0.02, 0.05]}))


def test_grid_order_and_duplicates_are_checked(tmp_path):
    folder = StudyFolder(tmp_path / "run", {})
    with pytest.raises(ValueError, match="do not come before it"):
        run_grid([Cell("b", "k", needs=("a",)), Cell("a", "k")], folder, lambda cell: {}, progress=False)
    with pytest.raises(ValueError, match="share the key"):
        run_grid([Cell("a", "k"), Cell("a", "k")], folder, lambda cell: {}, progress=False)


def test_folder_refuses_other_settings_and_names_them(tmp_path):
    StudyFolder(tmp_path / "run", {"config": {"uap": {"max_iter": 15, "zetas": [0.02]}}, "data_root": "/data"})
    with pytest.raises(ValueError) as error:
        StudyFolder(tmp_path / "run", {"config": {"uap": {"max_iter": 5, "zetas": [0.02]}}, "data_root": "/data"})
    assert "config.uap.max_iter: 15 in the folder, 5 now" in str(error.value)
    assert "zetas" not in str(error.value)


def test_folder_refuses_a_file_and_a_foreign_folder(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        StudyFolder(tmp_path / "file.txt", {})
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_text("x")
    with pytest.raises(ValueError, match="not an art-medical run folder"):
        StudyFolder(tmp_path / "photos", {})
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["holiday.jpg"]


def test_settings_diff_walks_lists_of_equal_length():
    assert settings_diff({"m": [{"f": 8}]}, {"m": [{"f": 16}]}) == ["m[0].f: 8 in the folder, 16 now"]
    assert settings_diff({"m": [1]}, {"m": [1, 2]}) == ["m: [1] in the folder, [1, 2] now"]
    assert settings_diff({"a": 1}, {"b": 1}) == ["a: 1 in the folder, absent now", "b: absent in the folder, 1 now"]


def _grid():
    return [Cell("a", "k", {"n": 1}), Cell("b", "k", {"n": 2}, ("a",)), Cell("c", "k", {"n": 3}, ("b",)),
            Cell("d", "k", {"n": 4})]


def test_finished_cells_are_skipped_and_never_recomputed(tmp_path):
    folder, calls = StudyFolder(tmp_path / "run", {}), []

    def run(cell):
        calls.append(cell.key)
        return {"double": 2 * cell.params["n"]}

    first = run_grid(_grid(), folder, run, progress=False)
    second = run_grid(_grid(), folder, run, progress=False)
    assert calls == ["a", "b", "c", "d"]
    assert (first.computed, second.computed, second.skipped) == (["a", "b", "c", "d"], [], ["a", "b", "c", "d"])
    record = json.loads((tmp_path / "run" / "cells" / "c" / "record.json").read_text())
    assert (record["double"], record["status"], record["needs"]) == (6, "done", ["b"])
    assert set(record["versions"]) >= {"adversarial-robustness-toolbox", "tensorflow", "keras", "numpy"}


def test_a_failed_cell_is_recorded_blocks_its_dependents_and_is_retried(tmp_path):
    folder, broken = StudyFolder(tmp_path / "run", {}), {"b"}

    def run(cell):
        if cell.key in broken:
            raise RuntimeError("out of memory")
        return {}

    outcome = run_grid(_grid(), folder, run, progress=False)
    assert outcome.failed == {"b": "RuntimeError: out of memory"}
    assert outcome.blocked == ["c"] and outcome.computed == ["a", "d"] and not outcome.complete
    record = folder.record("b")
    assert record["status"] == "failed" and "out of memory" in record["traceback"]
    broken.clear()
    retry = run_grid(_grid(), folder, run, progress=False)
    assert retry.computed == ["b", "c"] and retry.skipped == ["a", "d"] and retry.complete


def test_an_interrupt_keeps_finished_cells_and_leaves_no_record_of_the_interrupted_one(tmp_path):
    folder = StudyFolder(tmp_path / "run", {})

    def run(cell):
        if cell.key == "c":
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        run_grid(_grid(), folder, run, progress=False)
    assert [key for key in "abcd" if folder.record(key)] == ["a", "b"]
    resumed = run_grid(_grid(), folder, lambda cell: {}, progress=False)
    assert resumed.computed == ["c", "d"] and resumed.skipped == ["a", "b"]
    assert not list((tmp_path / "run").rglob("*.tmp"))


def test_an_unreadable_record_is_computed_again(tmp_path, caplog):
    folder = StudyFolder(tmp_path / "run", {})
    run_grid([Cell("a", "k")], folder, lambda cell: {}, progress=False)
    (tmp_path / "run" / "cells" / "a" / "record.json").write_text("{ truncated")
    outcome = run_grid([Cell("a", "k")], folder, lambda cell: {"again": True}, progress=False)
    assert outcome.computed == ["a"] and folder.record("a")["again"] is True
    assert "not valid JSON" in caplog.text
