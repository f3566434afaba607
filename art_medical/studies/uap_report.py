"""Tables, figures and the report of a UAP protocol run, from its finished cell records.

Every run gets the long table of all UAPs (``tables/uap_results.csv``), the summary plots of R_f / R_s against
zeta beside the random control, a confusion-matrix figure and an image strip (images the UAP flipped) per UAP,
transferability heatmaps and retraining curves. Study 000 adds Tables 1-3 and study 001 Tables 1-2 in the
papers' layouts. Tables and the report are rewritten on every run; a missing figure is drawn again.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from art_medical.reports import (
    Table,
    markdown_report,
    percent,
    save_confusion_matrices,
    save_heatmap,
    save_image_strip,
    save_line_panels,
    with_control,
    write_text_atomic,
)
from art_medical.studies.cells import make_key
from art_medical.studies.engine import GridOutcome
from art_medical.studies.uap import UAPStudyRun, threat

FIGURES_IN_REPORT = 24
"""Above this many UAPs the report embeds the per-UAP figures of the first model of each dataset only."""

RATE_NOTES = {
    "predictions": "R_f (fooling rate): share of images whose predicted label changes under the perturbation "
                   "(study 001's definition).",
    "labels": "R_f (fooling rate): share of adversarial images not classified into their true label "
              "(study 000's definition; its no-attack value is the clean error).",
}
NOTES = (
    "R_s (targeted attack success rate): share of adversarial images classified into the target class; R_s0 is "
    "its no-attack baseline (the share of clean images already predicted as the target). Values in brackets are "
    "the random controls: random vectors of the same norm xi. xi = zeta x the mean Lp norm of the training images "
    "on the 0-255 pixel scale. UAPs are computed on the training images (the 'train' columns) and evaluated on "
    "the test images; rates are in percent."
)


class _Records:
    """The finished records of a run, looked up by the parts of their keys."""

    def __init__(self, run: UAPStudyRun) -> None:
        self.run = run
        self.by_key = run.folder.records(run.cells())
        self.rate = "fooling_rate" if run.config.fooling_rate == "predictions" else "fooling_rate_vs_labels"

    def uap(self, dataset: str, model: str, target: str | None, norm: str, zeta: float) -> dict[str, Any] | None:
        return self.by_key.get(UAPStudyRun.uap_key(dataset, model, target, norm, zeta))

    def clean(self, dataset: str, model: str) -> dict[str, Any] | None:
        return self.by_key.get(make_key("clean", dataset, model))

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [record for record in self.by_key.values() if record["kind"] == kind]

    def fooling(self, record: dict[str, Any] | None, images: str = "test") -> str:
        if record is None:
            return "-"
        return with_control(record[f"{images}_{self.rate}"], record[f"random_{images}_{self.rate}"])

    def success(self, record: dict[str, Any] | None, images: str = "test") -> str:
        if record is None:
            return "-"
        return with_control(record[f"{images}_targeted_success_rate"], record[f"random_{images}_targeted_success_rate"])


def _threat_title(target: str | None) -> str:
    return "non-targeted" if target is None else f"targeted -> {target}"


def _flat(key: str) -> str:
    return key.replace("/", "_")


# ---- tables -----------------------------------------------------------------------------------------------

def results_table(records: _Records) -> Table:
    """Every UAP of the run, one row each."""
    config = records.run.config
    rows = []
    for record in records.kind("uap"):
        rows.append([
            config.dataset(record["dataset"]).title, config.model(record["model"]).title,
            _threat_title(record["target"]), record["norm"], f"{100 * record['zeta']:g}%", f"{record['xi']:.2f}",
            records.fooling(record), percent(record[f"train_{records.rate}"]), records.success(record),
            percent(record["test_targeted_success_baseline"]), percent(record["clean_accuracy"]),
            percent(record["test_adversarial_accuracy"]),
        ])
    header = ["dataset", "model", "UAP", "p", "zeta", "xi", "R_f test (random)", "R_f train",
              "R_s test (random)", "R_s0", "clean acc", "adv acc"]
    return Table("uap_results", "All UAPs of the run: rates on the test images (%), random controls in brackets, "
                 "R_f on the training images the UAP was computed on, R_s0 the no-attack baseline.", header, rows)


def study001_tables(records: _Records) -> list[Table]:
    """Study 001's Table 1 (R_f of non-targeted UAPs) and Table 2 (R_s per target), one per zeta (and p)."""
    config = records.run.config
    tables = []
    for zeta in config.uap.zetas:
        header = ["model"]
        for dataset in config.datasets:
            header += [f"{dataset.title} p={norm}" for norm in config.uap.norms] + [f"{dataset.title} clean acc"]
        rows = []
        for model in config.models:
            row = [model.title]
            for dataset in config.datasets:
                row += [records.fooling(records.uap(dataset.name, model.name, None, norm, zeta))
                        for norm in config.uap.norms]
                clean = records.clean(dataset.name, model.name)
                row.append("-" if clean is None else percent(clean["clean_accuracy"]))
            rows.append(row)
        if config.uap.nontargeted:
            tables.append(Table(
                f"table1_fooling_rates_zeta{zeta:g}",
                f"Table 1: fooling rates R_f (%) of non-targeted UAPs against the models for the test images, "
                f"zeta = {100 * zeta:g}%. Values in brackets are R_f of random UAPs (random controls).",
                header, rows))
    if not config.uap.targeted:
        return tables
    for norm in config.uap.norms:
        for zeta in config.uap.zetas:
            header = ["model"]
            for dataset in config.datasets:
                for target in records.run.targets(dataset.name):
                    header += [f"{dataset.title} {target}", f"{dataset.title} {target} R_s0"]
            rows = []
            for model in config.models:
                row = [model.title]
                for dataset in config.datasets:
                    for target in records.run.targets(dataset.name):
                        record = records.uap(dataset.name, model.name, target, norm, zeta)
                        row += [records.success(record),
                                "-" if record is None else percent(record["test_targeted_success_baseline"])]
                rows.append(row)
            tables.append(Table(
                f"table2_success_rates_p{norm}_zeta{zeta:g}",
                f"Table 2: targeted attack success rates R_s (%) of targeted UAPs with p = {norm} to each target "
                f"class, test images, zeta = {100 * zeta:g}%. Values in brackets are R_s of random UAPs; R_s0 is the "
                "no-attack baseline.", header, rows))
    return tables


def study000_tables(records: _Records) -> list[Table]:
    """Study 000's Table 1 (R_f per model, training and test) and Tables 2-3 (R_s per target, one per model)."""
    config = records.run.config
    dataset = config.datasets[0]
    grid = [(norm, zeta) for norm in config.uap.norms for zeta in config.uap.zetas]
    tables = []
    if config.uap.nontargeted:
        header = ["p", "zeta"]
        for model in config.models:
            header += [f"{model.title} training", f"{model.title} test", f"{model.title} no attack (train / test)"]
        rows = []
        for norm, zeta in grid:
            row = [norm, f"{100 * zeta:g}%"]
            for model in config.models:
                record = records.uap(dataset.name, model.name, None, norm, zeta)
                baseline = "-" if record is None else (
                    f"{percent(1 - record['train_accuracy'])} / {percent(1 - record['test_accuracy'])}")
                row += [records.fooling(record, "train"), records.fooling(record, "test"), baseline]
            rows.append(row)
        tables.append(Table(
            "table1_fooling_rates",
            "Table 1: fooling rates R_f (%) of non-targeted UAPs against the models. R_f for training and test "
            "images are presented. The values in the brackets indicate R_f of random UAPs (random controls).",
            header, rows))
    if not config.uap.targeted:
        return tables
    for number, model in enumerate(config.models, start=2):
        targets = records.run.targets(dataset.name)
        header = ["p", "zeta"]
        for target in targets:
            header += [f"{target} training", f"{target} test", f"{target} R_s0 test"]
        rows = []
        for norm, zeta in grid:
            row = [norm, f"{100 * zeta:g}%"]
            for target in targets:
                record = records.uap(dataset.name, model.name, target, norm, zeta)
                row += [records.success(record, "train"), records.success(record, "test"),
                        "-" if record is None else percent(record["test_targeted_success_baseline"])]
            rows.append(row)
        tables.append(Table(
            f"table{number}_success_rates_{model.name}",
            f"Table {number}: targeted attack success rates R_s (%) of targeted UAPs against the {model.title} model "
            "to each target class. R_s for training and test images are shown. The values in brackets are R_s of "
            "random UAPs (random controls); R_s0 is the no-attack baseline.", header, rows))
    return tables


def transfer_tables(records: _Records) -> list[tuple[Table, np.ndarray, list[str]]]:
    """Transferability matrices (study 001, Tables S3-S8): R_f (or R_s) of model A's UAP on model B."""
    run, transfer = records.run, records.run.config.transfer
    if transfer is None or len(run.config.models) < 2:
        return []
    models = run.config.models
    found = []
    for dataset in run.config.datasets:
        threats = [None] + (list(run.targets(dataset.name)) if transfer.targeted else [])
        for target in threats:
            rate = records.rate if target is None else "targeted_success_rate"
            for norm in transfer.norms:
                for zeta in transfer.zetas:
                    matrix = np.full((len(models), len(models)), np.nan)
                    for i, source in enumerate(models):
                        for j, destination in enumerate(models):
                            if i == j:
                                record = records.uap(dataset.name, source.name, target, norm, zeta)
                            else:
                                record = records.by_key.get(make_key(
                                    "transfer", dataset.name, f"{source.name}-to-{destination.name}", threat(target),
                                    f"p{norm}", f"zeta{zeta:g}"))
                            if record is not None:
                                matrix[i, j] = record[f"test_{rate}"]
                    name = _flat(make_key("transfer", dataset.name, threat(target), f"p{norm}", f"zeta{zeta:g}"))
                    table = Table(
                        name,
                        f"Transferability, {dataset.title}, {_threat_title(target)}, p = {norm}, zeta = "
                        f"{100 * zeta:g}%: {'R_f' if target is None else 'R_s'} (%) on the test images of the "
                        "column model of the UAP made on the row model (diagonal: white-box).",
                        ["UAP from \\ tested on"] + [m.title for m in models],
                        [[source.title] + [percent(None if np.isnan(v) else v) for v in matrix[i]]
                         for i, source in enumerate(models)])
                    found.append((table, matrix, [m.title for m in models]))
    return found


def retraining_tables(records: _Records) -> list[tuple[Table, dict[str, Any]]]:
    """One table per retraining cell: R_f / R_s and clean accuracy per round (Fig. 5 of 000, Figs. 5-6 of 001)."""
    found = []
    for record in records.kind("retrain"):
        targeted = record["target"] is not None
        rows = [[str(entry["round"]), percent(entry["fooling_rate"]), percent(entry["targeted_success_rate"]),
                 percent(entry["clean_accuracy"])] for entry in record["history"]]
        table = Table(
            _flat(record["key"]),
            f"Adversarial retraining of {records.run.config.model(record['model']).title} on "
            f"{records.run.config.dataset(record['dataset']).title} against {_threat_title(record['target'])}"
            f" UAPs, p = {record['norm']}, zeta = {100 * record['zeta']:g}%: rates of a new UAP on the test images "
            f"after each round (round 0: before retraining){'; R_s is the rate that matters' if targeted else ''}.",
            ["round", "R_f", "R_s", "clean accuracy"], rows)
        found.append((table, record))
    return found


# ---- figures ----------------------------------------------------------------------------------------------

def _draw(path: Path, draw) -> bool:
    """Draw a figure unless it exists; return whether it was drawn."""
    if path.exists():
        return False
    draw()
    return True


def uap_figures(records: _Records, figures: Path) -> list[tuple[str, str]]:
    """A confusion-matrix figure and an image strip per UAP; the captions of those the report embeds."""
    run = records.run
    uaps = records.kind("uap")
    shown = []
    first_models = {dataset.name: run.config.models[0].name for dataset in run.config.datasets}
    for record in uaps:
        dataset = run.config.dataset(record["dataset"])
        classes = list(run.class_names(record["dataset"]))
        title = (f"{run.config.model(record['model']).title}, {dataset.title}: {_threat_title(record['target'])} UAP, "
                 f"p = {record['norm']}, zeta = {100 * record['zeta']:g}%")
        confusion = figures / f"confusion_{_flat(record['key'])}.png"
        _draw(confusion, lambda: save_confusion_matrices(
            confusion, np.asarray(record["confusion_clean"]), np.asarray(record["confusion_adversarial"]), classes,
            ("clean test images", "with the UAP")))
        strip = figures / f"strip_{_flat(record['key'])}.png"
        if record["strip_indices"]:
            _draw(strip, lambda: _save_strip(run, record, classes, strip, title))
        if len(uaps) <= FIGURES_IN_REPORT or record["model"] == first_models[record["dataset"]]:
            shown.append((f"Row-normalised confusion matrices on the test images, clean and under the {title}.",
                          f"figures/{confusion.name}"))
            if record["strip_indices"]:
                shown.append((f"{title}: clean images, the UAP (scaled to [0, 1] for display) and the adversarial "
                               "images, with predicted labels (changed ones in red); images the UAP flipped first.",
                               f"figures/{strip.name}"))
    return shown


def _save_strip(run: UAPStudyRun, record: dict[str, Any], classes: list[str], path: Path, title: str) -> None:
    data = run.dataset(record["dataset"])
    indices = np.asarray(record["strip_indices"])
    noise = np.load(run.artifact(record["key"], "noise.npy"))
    clean = data.test.x[indices]
    adversarial = np.clip(clean + noise, 0.0, 255.0)
    save_image_strip(path, clean, noise, adversarial, data.test.y[indices], record["strip_clean_pred"],
                     record["strip_adversarial_pred"], classes, title=title)


def summary_figures(records: _Records, figures: Path) -> list[tuple[str, str]]:
    """R_f and R_s against zeta beside the random control, per dataset and model."""
    run, uap = records.run, records.run.config.uap
    zetas = [100 * z for z in uap.zetas]
    shown = []
    for dataset in run.config.datasets:
        for model in run.config.models:
            panels = []
            if uap.nontargeted:
                for norm in uap.norms:
                    found = [records.uap(dataset.name, model.name, None, norm, z) for z in uap.zetas]
                    panels.append((f"non-targeted, p = {norm}", [
                        ("R_f test", zetas, [_get(r, f"test_{records.rate}") for r in found], "o-"),
                        ("R_f train", zetas, [_get(r, f"train_{records.rate}") for r in found], "s--"),
                        ("R_f random", zetas, [_get(r, f"random_test_{records.rate}") for r in found], "x:"),
                    ]))
            if uap.targeted:
                for norm in uap.norms:
                    series = []
                    for index, target in enumerate(run.targets(dataset.name)):
                        found = [records.uap(dataset.name, model.name, target, norm, z) for z in uap.zetas]
                        colour = f"C{index % 10}"
                        series += [
                            (f"R_s {target}", zetas, [_get(r, "test_targeted_success_rate") for r in found],
                             f"{colour}o-"),
                            (f"random {target}", zetas, [_get(r, "random_test_targeted_success_rate") for r in found],
                             f"{colour}x:"),
                        ]
                    panels.append((f"targeted, p = {norm}", series))
            path = figures / f"summary_{_flat(make_key(dataset.name, model.name))}.png"
            title = f"{model.title} on {dataset.title}: rates on the test images against zeta"
            _draw(path, lambda: save_line_panels(path, panels, "zeta (%)", "rate", suptitle=title))
            shown.append((f"{title} (train: the images the UAP was computed on); dotted: random controls.",
                          f"figures/{path.name}"))
    return shown


def dataset_figures(records: _Records, figures: Path) -> list[tuple[str, str]]:
    """Study 001's Fig. 1: R_f of non-targeted UAPs against zeta per dataset, every model, random controls dotted."""
    run, uap = records.run, records.run.config.uap
    if not uap.nontargeted or len(run.config.models) < 2:
        return []
    zetas = [100 * z for z in uap.zetas]
    shown = []
    for dataset in run.config.datasets:
        panels = []
        for norm in uap.norms:
            series = []
            for index, model in enumerate(run.config.models):
                found = [records.uap(dataset.name, model.name, None, norm, z) for z in uap.zetas]
                colour = f"C{index % 10}"
                series += [(model.title, zetas, [_get(r, f"test_{records.rate}") for r in found], f"{colour}o-"),
                           (f"{model.title} (random)", zetas, [_get(r, f"random_test_{records.rate}") for r in found],
                            f"{colour}x:")]
            panels.append((f"p = {norm}", series))
        path = figures / f"fooling_rates_{_flat(dataset.name)}.png"
        title = f"{dataset.title}: R_f of non-targeted UAPs on the test images against zeta"
        _draw(path, lambda: save_line_panels(path, panels, "zeta (%)", "R_f", suptitle=title))
        shown.append((f"{title}, every model; dotted: random controls (study 001, Fig. 1).", f"figures/{path.name}"))
    return shown


def _get(record: dict[str, Any] | None, field: str) -> float | None:
    return None if record is None else record[field]


def transfer_figures(found: list[tuple[Table, np.ndarray, list[str]]], figures: Path) -> list[tuple[str, str]]:
    shown = []
    for table, matrix, labels in found:
        path = figures / f"{table.name}.png"
        _draw(path, lambda: save_heatmap(path, matrix, labels, labels, table.name.replace("_", " "),
                                         "tested on", "UAP made on"))
        shown.append((table.caption, f"figures/{path.name}"))
    return shown


def retraining_figures(found: list[tuple[Table, dict[str, Any]]], run: UAPStudyRun, figures: Path):
    shown = []
    for table, record in found:
        rounds = [entry["round"] for entry in record["history"]]
        rate = "targeted_success_rate" if record["target"] is not None else "fooling_rate"
        series = [
            ("R_s" if record["target"] is not None else "R_f", rounds, [e[rate] for e in record["history"]], "o-"),
            ("clean accuracy", rounds, [e["clean_accuracy"] for e in record["history"]], "s--"),
        ]
        curves = figures / f"{table.name}.png"
        _draw(curves, lambda: save_line_panels(curves, [(table.name.replace("_", " "), series)], "retraining round",
                                               "rate"))
        shown.append((table.caption, f"figures/{curves.name}"))
        confusion = figures / f"{table.name}_confusion.png"
        classes = list(run.class_names(record["dataset"]))
        _draw(confusion, lambda: save_confusion_matrices(
            confusion, np.asarray(record["final_confusion_clean"]), np.asarray(record["final_confusion_adversarial"]),
            classes, ("after retraining, clean", "after retraining, with a new UAP")))
        shown.append(("Confusion matrices of the model after the last round of retraining, on the clean test images "
                      "and under a new UAP.", f"figures/{confusion.name}"))
    return shown


# ---- the report -------------------------------------------------------------------------------------------

def write_uap_report(run: UAPStudyRun, outcome: GridOutcome) -> str:
    """Write ``tables/``, ``figures/`` and ``report.md``; return the text the CLI prints."""
    records = _Records(run)
    out = run.folder.path
    figures = out / "figures"
    tables = [results_table(records)]
    if run.config.study == "001":
        tables += study001_tables(records)
    elif run.config.study == "000":
        tables += study000_tables(records)
    transfers = transfer_tables(records)
    retrainings = retraining_tables(records)
    tables += [table for table, _, _ in transfers] + [table for table, _ in retrainings]
    for table in tables:
        table.write_csv(out / "tables")
    shown = dataset_figures(records, figures) + summary_figures(records, figures) + uap_figures(records, figures)
    shown += transfer_figures(transfers, figures) + retraining_figures(retrainings, run, figures)
    notes = [RATE_NOTES[run.config.fooling_rate], NOTES] + _warnings(records, outcome)
    write_text_atomic(out / "report.md", markdown_report(run.config.title, _facts(run, records, outcome), tables,
                                                         shown, notes))
    lines = [tables[0].to_text()] + [f"Warning: {warning}" for warning in _warnings(records, outcome)]
    return "\n".join(lines)


def _facts(run: UAPStudyRun, records: _Records, outcome: GridOutcome) -> dict[str, str]:
    config, uap = run.config, run.config.uap
    facts = {}
    for dataset in config.datasets:
        source = ("built-in synthetic phantoms (art_medical.data.synthetic)" if dataset.loader == "phantoms"
                  else f"{dataset.loader} on {run.data_root / dataset.path}")
        facts[f"data: {dataset.title}"] = f"{source}; classes {', '.join(run.class_names(dataset.name))}"
    for dataset in config.datasets:
        for model in config.models:
            clean = records.clean(dataset.name, model.name)
            source = model.architecture or model.file
            accuracy = "not computed" if clean is None else (
                f"clean test accuracy {percent(clean['clean_accuracy'])}% on {clean['test_images']} images, UAPs "
                f"computed on {clean['uap_images']} training images")
            facts[f"model: {model.title} on {dataset.title}"] = f"{source}; {accuracy}"
    attack = {
        "exact": f"the studies' iterative algorithm with an FGSM step of {uap.fgsm_eps:g} (0-255 scale), ART's "
                 "result bit for bit",
        "iterative": f"the studies' iterative algorithm with an FGSM step of {uap.fgsm_eps:g} (0-255 scale), "
                     "look-ahead evaluated in batches",
        "batched": "batched SGD-UAP (Shafahi et al. 2020)",
    }[uap.algorithm]
    facts["UAPs"] = (f"{attack}, i_max {uap.max_iter}, delta {uap.delta:g}; zeta {', '.join(f'{100 * z:g}%' for z in uap.zetas)}; "
                     f"p = {', '.join(uap.norms)}; xi from the mean norm on {uap.xi_channels} channel(s)")
    if any(model.architecture for model in config.models):
        facts["training"] = f"recipe {config.recipe}" + (f" with {config.recipe_overrides}" if config.recipe_overrides else "")
    facts["seed"] = str(config.seed)
    facts["cells"] = outcome.summary()
    return facts


def _warnings(records: _Records, outcome: GridOutcome) -> list[str]:
    warnings = [f"{record['model']} on {record['dataset']}: clean test accuracy {percent(record['clean_accuracy'])}% "
                f"is near chance ({percent(record['chance_accuracy'])}%): the attack rates against it mean little."
                for record in records.kind("clean") if record["near_chance"]]
    warnings += [f"cell {key} failed: {error}" for key, error in outcome.failed.items()]
    if outcome.blocked:
        warnings.append(f"{len(outcome.blocked)} cells were not run because a cell they need failed.")
    return warnings
