"""Adversarial retraining against universal adversarial perturbations, as in studies 000 and 001.

Hirano et al. (study 000, section 2.4; study 001, "Adversarial retraining"), after Moosavi-Dezfooli et
al. (2017). Each round:

1. generate ``nb_uaps`` (10) UAPs against the current model from the clean training images;
2. replace a random half of the training images with copies perturbed by a UAP drawn from those;
3. fine-tune the model for ``nb_epochs`` (5) epochs on this modified set;
4. generate a new UAP against the fine-tuned model from the training images;
5. measure its fooling rate R_f (against the clean predictions), targeted success rate R_s (targeted)
   and the clean accuracy on the test images.

The studies repeat this five times. No public code implements it. Round 0 in the history is step 4-5
on the model before any retraining, the starting point of the studies' figures.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from art.attacks.attack import EvasionAttack
from art.defences.trainer.trainer import Trainer
from tqdm.auto import trange

from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._labels import predict_labels, to_class_indices
from art_medical.attacks.evasion.batched_universal import BatchedUniversalPerturbation
from art_medical.defences.trainer._checkpoint import RoundCheckpoint
from art_medical.defences.trainer._keras_model import keras_model, model_labels
from art_medical.metrics import accuracy, fooling_rate, lp_norms, targeted_success_rate

logger = logging.getLogger(__name__)

RoundCallback = Callable[[int, dict[str, Any]], None]


class UAPAdversarialRetrainer(Trainer):
    """Fine-tune a classifier on training images perturbed by its own UAPs, round after round.

    The classifier is fine-tuned in place (through its Keras model); ``history`` holds one record per
    round: ``round``, ``fooling_rate``, ``targeted_success_rate`` (``None`` when non-targeted),
    ``clean_accuracy``, ``uap_norm`` and ``seconds``. With ``checkpoint_dir`` every finished round is
    saved, and a later ``fit`` with the same folder and settings continues after the last one.

    | Studies: Hirano, Koga & Takemoto 2020, "Vulnerability of deep neural networks for detecting COVID-19
      cases from chest X-ray images to universal adversarial attacks" (000); Hirano, Minagi & Takemoto
      2021, BMC Medical Imaging (001).
    """

    def __init__(
        self,
        classifier,
        attack: EvasionAttack | None = None,
        target_class: int | None = None,
        nb_rounds: int = 5,
        nb_uaps: int = 10,
        nb_epochs: int = 5,
        ratio: float = 0.5,
        batch_size: int = 32,
        seed: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        verbose: bool = True,
    ) -> None:
        """
        :param classifier: ART ``KerasClassifier`` whose model is compiled (its optimizer fine-tunes it).
        :param attack: UAP attack on ``classifier`` with a ``noise`` property after ``generate``, e.g.
            :class:`BatchedUniversalPerturbation` or the exact ``TargetedUniversalPerturbation``; its
            ``targeted`` must match ``target_class``. ``None``: a ``BatchedUniversalPerturbation`` with its
            defaults (eps 10, L-inf). If the attack has a ``seed`` parameter, each UAP gets its own seed.
        :param target_class: Class of the targeted UAPs; ``None`` for non-targeted UAPs.
        :param nb_rounds: Rounds of retraining (5 in the studies).
        :param nb_uaps: UAPs generated per round to perturb the training images (10 in the studies).
        :param nb_epochs: Fine-tuning epochs per round (5 in the studies).
        :param ratio: Fraction of the training images replaced by perturbed copies (a half in the studies).
        :param batch_size: Batch size of fine-tuning and of the predictions.
        :param seed: Seed of the image and UAP draws, the UAP seeds and Keras's shuffling.
        :param checkpoint_dir: Folder of the resumable checkpoint; ``None`` saves nothing.
        :param verbose: Show a progress bar over the rounds.
        """
        super().__init__(classifier)
        self._model = keras_model(classifier)
        if attack is None:
            attack = BatchedUniversalPerturbation(
                classifier, targeted=target_class is not None, seed=seed, verbose=False
            )
        self.attack = attack
        self.target_class = target_class
        self.nb_rounds = nb_rounds
        self.nb_uaps = nb_uaps
        self.nb_epochs = nb_epochs
        self.ratio = ratio
        self.batch_size = batch_size
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self._check_params()
        self._history: list[dict[str, Any]] = []

    @property
    def history(self) -> list[dict[str, Any]]:
        """Per-round records (round 0: the model before retraining)."""
        return list(self._history)

    def fit(  # pylint: disable=arguments-differ
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
        callback: RoundCallback | None = None,
        **kwargs,
    ) -> None:
        """Run the rounds of retraining not finished yet.

        :param x: Training images on the classifier's pixel scale; the UAPs are generated from them.
        :param y: Their labels (class indices or one-hot).
        :param x_test: Test images on which R_f, R_s and the clean accuracy are measured (required).
        :param y_test: Their labels.
        :param callback: Called as ``callback(round, record)`` after each round is recorded and saved.
        """
        if x_test is None or y_test is None:
            raise ValueError("fit needs x_test and y_test: R_f, R_s and the accuracy are measured on test images.")
        nb_classes = self.classifier.nb_classes
        for images, labels, name in ((x, y, "x"), (x_test, y_test, "x_test")):
            check_images(images, self.classifier.clip_values, name=name)
            check_same_length(images, labels, y_name="y" if name == "x" else "y_test")
        y = to_class_indices(y, nb_classes, name="y")
        y_test = to_class_indices(y_test, nb_classes, name="y_test")

        checkpoint = RoundCheckpoint(self.checkpoint_dir, self._config(len(x)))
        rng = np.random.default_rng(self.seed)
        start, self._history, rng_state, _ = checkpoint.load(self._model)
        if rng_state is None:
            keras.utils.set_random_seed(int(rng.integers(2**31)))
            record = self._evaluate(0, x, y, x_test, y_test, rng, time.perf_counter())
            self._finish_round(checkpoint, record, rng, callback)
        else:
            rng.bit_generator.state = rng_state
            logger.info("Resuming after round %d from %s", start, self.checkpoint_dir)

        for round_index in trange(
            start + 1, self.nb_rounds + 1, desc="UAP retraining rounds", disable=not self.verbose
        ):
            started = time.perf_counter()
            keras.utils.set_random_seed(int(rng.integers(2**31)))
            uaps = [self._uap(x, y, rng) for _ in range(self.nb_uaps)]
            x_modified = self._perturb_half(x, uaps, rng)
            self._model.fit(
                x_modified,
                model_labels(self._model, y, nb_classes),
                epochs=self.nb_epochs,
                batch_size=self.batch_size,
                verbose=0,
            )
            record = self._evaluate(round_index, x, y, x_test, y_test, rng, started)
            self._finish_round(checkpoint, record, rng, callback)

    def _finish_round(
        self, checkpoint: RoundCheckpoint, record: dict[str, Any], rng: np.random.Generator, callback: RoundCallback | None
    ) -> None:
        self._history.append(record)
        checkpoint.save(self._model, record["round"], self._history, rng)
        logger.info("Round %d: %s", record["round"], record)
        if callback is not None:
            callback(record["round"], record)

    def _uap(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One UAP against the current model from the training images."""
        if "seed" in self.attack.attack_params:
            self.attack.set_params(seed=int(rng.integers(2**31)))
        labels = np.full(len(x), self.target_class, dtype=np.int64) if self.target_class is not None else y
        self.attack.generate(x, labels)
        return np.asarray(self.attack.noise, dtype=np.float32)

    def _perturb_half(self, x: np.ndarray, uaps: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """Copy of ``x`` where a random ``ratio`` of the images carry a UAP drawn from ``uaps``."""
        chosen = rng.permutation(len(x))[: int(round(self.ratio * len(x)))]
        drawn = rng.integers(len(uaps), size=len(chosen))
        x_modified = x.copy()
        x_modified[chosen] = x[chosen] + np.concatenate(uaps)[drawn]
        if self.classifier.clip_values is not None:
            np.clip(x_modified, self.classifier.clip_values[0], self.classifier.clip_values[1], out=x_modified)
        return x_modified

    def _evaluate(
        self,
        round_index: int,
        x: np.ndarray,
        y: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
        rng: np.random.Generator,
        started: float,
    ) -> dict[str, Any]:
        """Steps 4-5: a new UAP from the training images, measured on the test images."""
        uap = self._uap(x, y, rng)
        x_adv = x_test + uap
        if self.classifier.clip_values is not None:
            np.clip(x_adv, self.classifier.clip_values[0], self.classifier.clip_values[1], out=x_adv)
        clean = predict_labels(self.classifier, x_test, self.batch_size)
        adversarial = predict_labels(self.classifier, x_adv, self.batch_size)
        return {
            "round": round_index,
            "fooling_rate": fooling_rate(clean, adversarial),
            "targeted_success_rate": (
                None if self.target_class is None else targeted_success_rate(adversarial, self.target_class)
            ),
            "clean_accuracy": accuracy(y_test, clean),
            "uap_norm": float(lp_norms(uap, getattr(self.attack, "norm", np.inf))[0]),
            "seconds": time.perf_counter() - started,
        }

    def _config(self, nb_samples: int) -> dict[str, Any]:
        """Settings a checkpoint must share to be resumed (``nb_rounds`` may grow)."""
        return {
            "trainer": type(self).__name__,
            "attack": type(self.attack).__name__,
            "target_class": self.target_class,
            "nb_uaps": self.nb_uaps,
            "nb_epochs": self.nb_epochs,
            "ratio": self.ratio,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "nb_samples": nb_samples,
        }

    def _check_params(self) -> None:
        if not isinstance(self.attack, EvasionAttack) or not hasattr(self.attack, "noise"):
            raise ValueError("attack must be an ART EvasionAttack exposing the UAP as `noise` after generate.")
        if self.attack.estimator is not self.classifier:
            raise ValueError("attack must attack the classifier being retrained (attack.estimator is classifier).")
        nb_classes = self.classifier.nb_classes
        if self.target_class is not None and not (
            isinstance(self.target_class, (int, np.integer)) and 0 <= self.target_class < nb_classes
        ):
            raise ValueError(f"target_class must be a class index in 0..{nb_classes - 1} or None, got {self.target_class!r}.")
        if bool(self.attack.targeted) != (self.target_class is not None):
            raise ValueError(
                f"attack.targeted is {self.attack.targeted} but target_class is {self.target_class}: "
                "a targeted attack needs a target_class, a non-targeted one none."
            )
        for name in ("nb_rounds", "nb_uaps", "nb_epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {self.ratio!r}.")
