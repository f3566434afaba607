"""The UAP protocol of studies 000 and 001 (Hirano et al. 2020, 2021) as a grid of cells.

Per dataset and model::

    model/<dataset>/<model>            train the architecture with the recipe (or load a saved model)
    clean/<dataset>/<model>            clean predictions, accuracy, mean image norms (xi = zeta * mean norm)
    random/<dataset>/<model>/p/zeta    the random control: a random vector of norm xi
    uap/<dataset>/<model>/<t>/p/zeta   a UAP computed on the training images (<t>: nontargeted or to-<class>),
                                       evaluated on the training and the test images, beside its random control
    transfer/<dataset>/<A>-to-<B>/...  the UAP made on model A evaluated on model B (study 001, Tables S3-S8)
    retrain/<dataset>/<model>/<t>/...  adversarial retraining against that threat model (Figs. 5-6 / Fig. 5)

Rates: R_f against the clean predictions (study 001) and against the true labels (study 000), R_s to the target
class and its no-attack baseline R_s0, accuracies, mean drop of the true-class probability, confusion matrices.
"""
from __future__ import annotations

import hashlib
import logging
import random
import warnings
from typing import Any

import numpy as np

from art_medical import metrics
from art_medical.studies.cells import Cell, make_key
from art_medical.studies.protocol import MODEL_FILE, ProtocolRun
from art_medical.studies.uap_config import NORMS, UAPStudyConfig

logger = logging.getLogger(__name__)

CHANCE_MARGIN = 0.1
"""Clean accuracy within this of chance (1 / classes, or the majority share) draws a warning."""


class NearChanceWarning(UserWarning):
    """A model's clean accuracy is near chance: attack rates against it mean little."""


def threat(target: str | None) -> str:
    """The key segment of a threat model: ``nontargeted`` or ``to-<class>``."""
    return "nontargeted" if target is None else f"to-{target}"


def rates(y_true: np.ndarray, clean_pred: np.ndarray, adv_pred: np.ndarray, target: int | None) -> dict[str, Any]:
    """The studies' rates of one perturbation on one image set."""
    return {
        "fooling_rate": metrics.fooling_rate(clean_pred, adv_pred),
        "fooling_rate_vs_labels": metrics.fooling_rate_vs_labels(y_true, adv_pred),
        "targeted_success_rate": None if target is None else metrics.targeted_success_rate(adv_pred, target),
        "targeted_success_baseline": None if target is None else metrics.targeted_success_baseline(clean_pred, target),
        "accuracy": metrics.accuracy(y_true, clean_pred),
        "adversarial_accuracy": metrics.accuracy(y_true, adv_pred),
    }


def prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in values.items()}


def noise_hash(noise: np.ndarray) -> str:
    """SHA-256 of the perturbation's float32 bytes (first 16 hex digits)."""
    return hashlib.sha256(np.ascontiguousarray(noise, dtype=np.float32).tobytes()).hexdigest()[:16]


def flipped_indices(clean_pred: np.ndarray, adv_pred: np.ndarray, target: int | None, count: int) -> np.ndarray:
    """Images to show in a strip: those the perturbation flipped (into the target, if any), then the others."""
    if target is None:
        hit = adv_pred != clean_pred
    else:
        hit = (adv_pred == target) & (clean_pred != target)
    order = np.concatenate([np.flatnonzero(hit), np.flatnonzero(~hit)])
    return order[:count]


class UAPStudyRun(ProtocolRun):
    """A run of the UAP protocol (see the module docstring) from a :class:`UAPStudyConfig`."""

    config: UAPStudyConfig

    # ---- the grid -------------------------------------------------------------------------------------

    def cells(self) -> list[Cell]:
        config, uap = self.config, self.config.uap
        cells: list[Cell] = []
        for dataset in config.datasets:
            for model in config.models:
                model_cell = self.model_cell(dataset.name, model)
                clean_key = make_key("clean", dataset.name, model.name)
                cells.append(model_cell)
                cells.append(Cell(clean_key, "clean", self._base(dataset.name, model.name), (model_cell.key,),
                                  gpu=True))
                for norm in uap.norms:
                    for zeta in uap.zetas:
                        random_key = self.random_key(dataset.name, model.name, norm, zeta)
                        params = {**self._base(dataset.name, model.name), "norm": norm, "zeta": zeta}
                        cells.append(Cell(random_key, "random", params, (clean_key,)))
                        for target in self.threats(dataset.name):
                            cells.append(Cell(
                                self.uap_key(dataset.name, model.name, target, norm, zeta), "uap",
                                {**params, "target": target, "attack": self._attack_params()},
                                (clean_key, random_key), gpu=True,
                            ))
            cells += self._transfer_cells(dataset.name)
            cells += self._retrain_cells(dataset.name)
        return cells

    def threats(self, dataset: str) -> list[str | None]:
        """None (non-targeted) and / or every target class of the dataset, as the UAP settings ask."""
        threats: list[str | None] = [None] if self.config.uap.nontargeted else []
        if self.config.uap.targeted:
            threats += list(self.targets(dataset))
        return threats

    def targets(self, dataset: str) -> tuple[str, ...]:
        spec = self.config.dataset(dataset)
        return spec.targets if spec.targets is not None else self.class_names(dataset)

    @staticmethod
    def random_key(dataset: str, model: str, norm: str, zeta: float) -> str:
        return make_key("random", dataset, model, f"p{norm}", f"zeta{zeta:g}")

    @staticmethod
    def uap_key(dataset: str, model: str, target: str | None, norm: str, zeta: float) -> str:
        return make_key("uap", dataset, model, threat(target), f"p{norm}", f"zeta{zeta:g}")

    def _base(self, dataset: str, model: str) -> dict[str, Any]:
        spec = self.config.dataset(dataset)
        uap = self.config.uap
        return {
            "dataset": dataset, "model": model, "loader": spec.loader, "data_path": spec.path,
            "data_options": spec.options, "seed": self.config.seed, "uap_images": uap.uap_images,
            "xi_channels": uap.xi_channels,
        }

    def _attack_params(self) -> dict[str, Any]:
        uap = self.config.uap
        params = {"algorithm": uap.algorithm, "max_iter": uap.max_iter, "delta": uap.delta,
                  "batch_size": uap.batch_size}
        if uap.algorithm in ("exact", "iterative"):
            params["fgsm_eps"] = uap.fgsm_eps
        else:
            params["step_size"] = uap.step_size
        return params

    def _transfer_cells(self, dataset: str) -> list[Cell]:
        transfer = self.config.transfer
        if transfer is None or len(self.config.models) < 2:
            return []
        threats = [None] + (list(self.targets(dataset)) if transfer.targeted else [])
        cells = []
        for source in self.config.models:
            for destination in self.config.models:
                if source.name == destination.name:
                    continue
                for target in threats:
                    for norm in transfer.norms:
                        for zeta in transfer.zetas:
                            uap_key = self.uap_key(dataset, source.name, target, norm, zeta)
                            key = make_key("transfer", dataset, f"{source.name}-to-{destination.name}",
                                           threat(target), f"p{norm}", f"zeta{zeta:g}")
                            params = {"dataset": dataset, "source": source.name, "destination": destination.name,
                                      "target": target, "norm": norm, "zeta": zeta}
                            cells.append(Cell(key, "transfer", params,
                                              (uap_key, make_key("clean", dataset, destination.name))))
        return cells

    def _retrain_cells(self, dataset: str) -> list[Cell]:
        retraining = self.config.retraining
        if retraining is None or dataset not in retraining.datasets:
            return []
        cells = []
        attacks = [attack for attack in retraining.attacks if attack.dataset in (None, dataset)]
        for model in retraining.models:
            for attack in attacks:
                key = make_key("retrain", dataset, model, threat(attack.target), f"p{attack.norm}",
                               f"zeta{attack.zeta:g}")
                params = {**self._base(dataset, model), "target": attack.target, "norm": attack.norm,
                          "zeta": attack.zeta, "attack": self._attack_params(), "rounds": retraining.rounds,
                          "uaps_per_round": retraining.uaps_per_round, "epochs": retraining.epochs,
                          "ratio": retraining.ratio, "learning_rate": retraining.learning_rate,
                          "recipe": self.config.recipe, "overrides": self.config.recipe_overrides}
                needs = (self.model_key(dataset, model), make_key("clean", dataset, model))
                cells.append(Cell(key, "retrain", params, needs, gpu=True))
        return cells

    # ---- checks before any work ------------------------------------------------------------------------

    def check_data(self) -> None:
        """Saved models' classes, target classes of the UAPs and of retraining: no image is decoded."""
        super().check_data()
        for spec in self.config.datasets:
            self.check_classes(f"datasets.{spec.name}.targets", spec.targets or (), spec.name)
            if self.config.retraining is not None and spec.name in self.config.retraining.datasets:
                targets = [a.target for a in self.config.retraining.attacks
                           if a.target is not None and a.dataset in (None, spec.name)]
                self.check_classes("retraining.attacks[].target", targets, spec.name)

    # ---- clean predictions and norms ------------------------------------------------------------------

    def uap_subset(self, n: int) -> np.ndarray:
        """Indices of the training images the UAPs are computed on: a seeded subset, sorted."""
        count = self.config.uap.uap_images or n
        return np.sort(np.random.default_rng(self.config.seed).permutation(n)[:count])

    def cell_clean(self, cell: Cell) -> dict[str, Any]:
        """Clean predictions on the UAP images and the test images; mean Lp norms of the training images."""
        p = cell.params
        data = self.dataset(p["dataset"])
        classifier = self.classifier(p["dataset"], p["model"])
        if classifier.nb_classes != len(data.class_names):
            raise ValueError(f"Model {p['model']} has {classifier.nb_classes} outputs but dataset {p['dataset']} "
                             f"has {len(data.class_names)} classes {list(data.class_names)}.")
        subset = self.uap_subset(len(data.train.y))
        pred_uap = metrics.to_labels(classifier.predict(data.train.x[subset]))
        probs_test = classifier.predict(data.test.x)
        folder = self.folder.cell_dir(cell.key)
        np.save(folder / "uap_indices.npy", subset)
        np.save(folder / "pred_uap.npy", pred_uap)
        np.save(folder / "probs_test.npy", probs_test)
        accuracy = metrics.accuracy(data.test.y, probs_test)
        chance = max(1.0 / len(data.class_names), float(np.bincount(data.test.y).max() / len(data.test.y)))
        near_chance = accuracy < chance + CHANCE_MARGIN
        if near_chance:
            warnings.warn(
                f"{p['model']} on {p['dataset']}: clean test accuracy {accuracy:.1%} is near chance ({chance:.1%}); "
                "attack rates against it mean little.", NearChanceWarning, stacklevel=2)
        norms = {f"mean_norm_p{name}": metrics.xi_from_zeta(data.train.x, 1.0, value, p["xi_channels"])
                 for name, value in NORMS.items()}
        return {
            "dataset": p["dataset"], "model": p["model"], "classes": list(data.class_names),
            "uap_images": int(len(subset)), "test_images": int(len(data.test.y)),
            "clean_accuracy": accuracy, "uap_images_accuracy": metrics.accuracy(data.train.y[subset], pred_uap),
            "chance_accuracy": chance, "near_chance": bool(near_chance), **norms,
            "test_class_counts": np.bincount(data.test.y, minlength=len(data.class_names)).tolist(),
            "test_predicted_counts": np.bincount(metrics.to_labels(probs_test),
                                                 minlength=len(data.class_names)).tolist(),
        }

    def clean(self, dataset: str, model: str) -> dict[str, Any]:
        """The clean cell's record and arrays (UAP image indices, their predictions, test probabilities)."""
        key = make_key("clean", dataset, model)
        folder = self.folder.cell_dir(key)
        return {
            "record": self.folder.record(key),
            "uap_indices": np.load(folder / "uap_indices.npy"),
            "pred_uap": np.load(folder / "pred_uap.npy"),
            "probs_test": np.load(folder / "probs_test.npy"),
        }

    # ---- perturbations --------------------------------------------------------------------------------

    def xi(self, clean_record: dict[str, Any], norm: str, zeta: float) -> float:
        return zeta * clean_record[f"mean_norm_p{norm}"]

    def evaluate(self, dataset: str, model: str, noise: np.ndarray) -> dict[str, np.ndarray]:
        """Adversarial predictions of the UAP images (labels) and the test images (probabilities)."""
        data = self.dataset(dataset)
        classifier = self.classifier(dataset, model)
        subset = self.clean(dataset, model)["uap_indices"]
        adv_uap = np.clip(data.train.x[subset] + noise, 0.0, 255.0)
        adv_test = np.clip(data.test.x + noise, 0.0, 255.0)
        return {"pred_uap": metrics.to_labels(classifier.predict(adv_uap)), "probs_test": classifier.predict(adv_test)}

    def cell_random(self, cell: Cell) -> dict[str, Any]:
        """The random control: a seeded random vector of norm xi, and the predictions under it."""
        from art_medical.attacks import random_uap

        p = cell.params
        clean = self.clean(p["dataset"], p["model"])
        data = self.dataset(p["dataset"])
        xi = self.xi(clean["record"], p["norm"], p["zeta"])
        noise = random_uap(data.train.x.shape[1:], xi, NORMS[p["norm"]], seed=p["seed"])
        adversarial = self.evaluate(p["dataset"], p["model"], noise)
        folder = self.folder.cell_dir(cell.key)
        np.save(folder / "noise.npy", noise)
        np.save(folder / "pred_uap.npy", adversarial["pred_uap"])
        np.save(folder / "pred_test.npy", metrics.to_labels(adversarial["probs_test"]))
        y_uap = data.train.y[clean["uap_indices"]]
        return {
            "dataset": p["dataset"], "model": p["model"], "attack": "random", "norm": p["norm"], "zeta": p["zeta"],
            "xi": xi, "noise_sha256": noise_hash(noise),
            **prefixed("train", rates(y_uap, clean["pred_uap"], adversarial["pred_uap"], None)),
            **prefixed("test", rates(data.test.y, clean["probs_test"], adversarial["probs_test"], None)),
        }

    def make_attack(self, classifier, xi: float, norm: str, targeted: bool, attack: dict[str, Any]):
        """The UAP attack of the configuration on ``classifier`` with radius ``xi``."""
        from art_medical.attacks import BatchedUniversalPerturbation, TargetedUniversalPerturbation

        if attack["algorithm"] in ("exact", "iterative"):
            return TargetedUniversalPerturbation(
                classifier, attacker="fgsm", attacker_params={"eps": attack["fgsm_eps"], "norm": np.inf},
                delta=attack["delta"], max_iter=attack["max_iter"], eps=xi, norm=NORMS[norm],
                batch_size=attack["batch_size"], verbose=True, targeted=targeted,
                exact=attack["algorithm"] == "exact",
            )
        return BatchedUniversalPerturbation(
            classifier, eps=xi, norm=NORMS[norm], targeted=targeted, step_size=attack["step_size"],
            batch_size=attack["batch_size"], max_iter=attack["max_iter"], target_rate=1.0 - attack["delta"],
            seed=self.config.seed, verbose=True,
        )

    def cell_uap(self, cell: Cell) -> dict[str, Any]:
        """One UAP on the training images, evaluated on them and on the test images beside its random control."""
        p = cell.params
        data = self.dataset(p["dataset"])
        clean = self.clean(p["dataset"], p["model"])
        classes = data.class_names
        target = None if p["target"] is None else _class_index(classes, p["target"])
        xi = self.xi(clean["record"], p["norm"], p["zeta"])
        subset = clean["uap_indices"]
        attack = self.make_attack(self.classifier(p["dataset"], p["model"]), xi, p["norm"], target is not None,
                                  p["attack"])
        targets = None if target is None else np.full(len(subset), target)
        random.seed(p["seed"])
        attack.generate(data.train.x[subset], targets)
        noise = np.asarray(attack.noise, dtype=np.float32).reshape((1,) + data.train.x.shape[1:])
        adversarial = self.evaluate(p["dataset"], p["model"], noise)
        folder = self.folder.cell_dir(cell.key)
        np.save(folder / "noise.npy", noise)
        np.save(folder / "pred_uap.npy", adversarial["pred_uap"])
        adv_test = metrics.to_labels(adversarial["probs_test"])
        np.save(folder / "pred_test.npy", adv_test)

        y_uap, clean_test = data.train.y[subset], metrics.to_labels(clean["probs_test"])
        random_folder = self.folder.cell_dir(self.random_key(p["dataset"], p["model"], p["norm"], p["zeta"]))
        shown = flipped_indices(clean_test, adv_test, target, self.config.uap.strip_images)
        return {
            "dataset": p["dataset"], "model": p["model"], "attack": "uap", "algorithm": p["attack"]["algorithm"],
            "target": p["target"], "norm": p["norm"], "zeta": p["zeta"], "xi": xi,
            "xi_channels": p["xi_channels"], "uap_images": int(len(subset)), "test_images": int(len(data.test.y)),
            "clean_accuracy": clean["record"]["clean_accuracy"],
            **prefixed("train", rates(y_uap, clean["pred_uap"], adversarial["pred_uap"], target)),
            **prefixed("test", rates(data.test.y, clean_test, adv_test, target)),
            **prefixed("random_train", rates(y_uap, clean["pred_uap"], np.load(random_folder / "pred_uap.npy"), target)),
            **prefixed("random_test", rates(data.test.y, clean_test, np.load(random_folder / "pred_test.npy"), target)),
            "test_mean_probability_drop": metrics.mean_probability_drop(clean["probs_test"], adversarial["probs_test"],
                                                                        data.test.y),
            "confusion_clean": metrics.confusion_matrix_normalised(data.test.y, clean_test, len(classes)).tolist(),
            "confusion_adversarial": metrics.confusion_matrix_normalised(data.test.y, adv_test, len(classes)).tolist(),
            "noise_norm": float(metrics.lp_norms(noise, NORMS[p["norm"]])[0]), "noise_sha256": noise_hash(noise),
            "attack_fooling_rate": _float(attack.fooling_rate),
            "attack_targeted_success_rate": _float(attack.targeted_success_rate),
            "converged": bool(attack.converged), "passes": len(attack.history),
            "strip_indices": shown.tolist(), "strip_clean_pred": clean_test[shown].tolist(),
            "strip_adversarial_pred": adv_test[shown].tolist(),
        }

    def cell_transfer(self, cell: Cell) -> dict[str, Any]:
        """The UAP made on the source model, evaluated on the destination model's test images."""
        p = cell.params
        data = self.dataset(p["dataset"])
        noise = np.load(self.artifact(cell.needs[0], "noise.npy"))
        clean_probs = self.clean(p["dataset"], p["destination"])["probs_test"]
        classifier = self.classifier(p["dataset"], p["destination"])
        adv_probs = classifier.predict(np.clip(data.test.x + noise, 0.0, 255.0))
        target = None if p["target"] is None else _class_index(data.class_names, p["target"])
        return {**p, **prefixed("test", rates(data.test.y, clean_probs, adv_probs, target))}

    # ---- adversarial retraining -----------------------------------------------------------------------

    def cell_retrain(self, cell: Cell) -> dict[str, Any]:
        """Rounds of UAP adversarial retraining of a copy of the model, resumable inside the cell."""
        import keras

        from art_medical.defences import UAPAdversarialRetrainer
        from art_medical.models import get_recipe, infer_output_kind, load_model

        p = cell.params
        data = self.dataset(p["dataset"])
        clean = self.clean(p["dataset"], p["model"])
        model_path = self.artifact(self.model_key(p["dataset"], p["model"]), MODEL_FILE)
        model, _ = load_model(model_path)
        recipe = get_recipe(p["recipe"]).replace(**p["overrides"])
        learning_rate = p["learning_rate"] or recipe.learning_rate_at(recipe.epochs)
        model.compile(optimizer=recipe.replace(schedule=None, learning_rate=learning_rate).make_optimizer(),
                      loss=keras.losses.CategoricalCrossentropy(from_logits=infer_output_kind(model) == "logits"))
        classifier = self.classifier(p["dataset"], p["model"], keras_model=model)
        target = None if p["target"] is None else _class_index(data.class_names, p["target"])
        xi = self.xi(clean["record"], p["norm"], p["zeta"])
        attack = self.make_attack(classifier, xi, p["norm"], target is not None, p["attack"])
        folder = self.folder.cell_dir(cell.key)
        trainer = UAPAdversarialRetrainer(
            classifier, attack, target_class=target, nb_rounds=p["rounds"], nb_uaps=p["uaps_per_round"],
            nb_epochs=p["epochs"], ratio=p["ratio"], batch_size=recipe.batch_size, seed=p["seed"],
            checkpoint_dir=folder / "checkpoint",
        )
        subset = clean["uap_indices"]
        keras.utils.set_random_seed(p["seed"])
        random.seed(p["seed"])
        trainer.fit(data.train.x[subset], data.train.y[subset], x_test=data.test.x, y_test=data.test.y)
        noise = np.asarray(attack.noise, dtype=np.float32)
        clean_test = metrics.to_labels(classifier.predict(data.test.x))
        adv_test = metrics.to_labels(classifier.predict(np.clip(data.test.x + noise, 0.0, 255.0)))
        classes = len(data.class_names)
        return {
            "dataset": p["dataset"], "model": p["model"], "target": p["target"], "norm": p["norm"],
            "zeta": p["zeta"], "xi": xi, "learning_rate": learning_rate, "history": trainer.history,
            "final_confusion_clean": metrics.confusion_matrix_normalised(data.test.y, clean_test, classes).tolist(),
            "final_confusion_adversarial": metrics.confusion_matrix_normalised(data.test.y, adv_test, classes).tolist(),
        }

    def report(self, outcome) -> str:
        from art_medical.studies.uap_report import write_uap_report

        return write_uap_report(self, outcome)


def _class_index(classes: tuple[str, ...], name: str) -> int:
    if name not in classes:
        raise ValueError(f"Unknown class {name!r}; the classes are {list(classes)}.")
    return classes.index(name)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
