"""One attack on a slice of the images, and the merge of slices: the resumable unit of study 004's attack table.

A cell of study 004 is (network, attack); its images can be split into shards ``[start, stop)`` that run
anywhere, are saved on their own (:meth:`AttackShard.save`) and merge into the cell's result
(:func:`merge_shards`). Within a shard the images are attacked ``batch_size`` at a time. With shard boundaries on
multiples of ``batch_size``, the merged result equals that of one shard over all the images.

The spatial transformation chooses one worst transformation for the images it is given: each shard runs it on
all its images at once and records its choice in ``info``; with ART's ``num_rotations=1`` every shard makes the
same choice (study 004 uses one shard per cell for a grid of rotations).
"""
from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from art_medical.attacks._inputs import check_images, check_same_length
from art_medical.attacks._labels import to_class_indices
from art_medical.attacks.presets import PresetAttack
from art_medical.metrics import accuracy

logger = logging.getLogger(__name__)

AttackLabels = Literal["predicted", "true"]


@dataclass(frozen=True)
class AttackShard:
    """Predictions of one attack on images ``[start, stop)`` of a set.

    :ivar attack: The attack's name (``presets.ART_DEFAULTS`` key).
    :ivar params: The parameters the ART attack received, and ``eps_scale`` and ``attack_labels``.
    :ivar start: First image index.
    :ivar stop: One past the last image index.
    :ivar y_true: True labels of the images.
    :ivar clean_probs: Classifier outputs on the clean images.
    :ivar adv_probs: Classifier outputs on the adversarial images.
    :ivar linf: Per image, ``max |x_adv - x|`` on the classifier's scale.
    :ivar seconds: Wall time of the attack and predictions.
    :ivar info: What the attack chose (the spatial transformation's rotation and translations), per shard.
    """

    attack: str
    params: dict[str, Any]
    start: int
    stop: int
    y_true: np.ndarray
    clean_probs: np.ndarray
    adv_probs: np.ndarray
    linf: np.ndarray
    seconds: float
    info: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean_accuracy(self) -> float:
        """Accuracy on the clean images."""
        return accuracy(self.y_true, self.clean_probs)

    @property
    def adversarial_accuracy(self) -> float:
        """Accuracy on the adversarial images (study 004, Table II)."""
        return accuracy(self.y_true, self.adv_probs)

    def summary(self) -> dict[str, Any]:
        """JSON-ready record: attack, parameters, image range, both accuracies, mean / max L-inf, seconds."""
        return {
            "attack": self.attack,
            "params": self.params,
            "start": self.start,
            "stop": self.stop,
            "images": self.stop - self.start,
            "clean_accuracy": self.clean_accuracy,
            "adversarial_accuracy": self.adversarial_accuracy,
            "mean_linf": float(np.mean(self.linf)),
            "max_linf": float(np.max(self.linf)),
            "seconds": self.seconds,
            "info": self.info,
        }

    def save(self, path: str | Path) -> Path:
        """Write the shard to one ``.npz`` file, atomically."""
        from art_medical.reports.files import write_atomic

        meta = {"attack": self.attack, "params": self.params, "start": self.start, "stop": self.stop,
                "seconds": self.seconds, "info": self.info}
        arrays = {"y_true": self.y_true, "clean_probs": self.clean_probs, "adv_probs": self.adv_probs,
                  "linf": self.linf, "meta": np.array(json.dumps(meta))}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return write_atomic(path, lambda handle: handle.write(buffer.getvalue()))

    @classmethod
    def load(cls, path: str | Path) -> AttackShard:
        """Read a shard written by :meth:`save`.

        :raises FileNotFoundError: If the file does not exist.
        :raises ValueError: If it is not a shard file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No attack shard at {path}.")
        try:
            with np.load(path) as stored:
                meta = json.loads(str(stored["meta"]))
                arrays = {key: stored[key] for key in ("y_true", "clean_probs", "adv_probs", "linf")}
            return cls(attack=meta["attack"], params=meta["params"], start=meta["start"], stop=meta["stop"],
                       seconds=meta["seconds"], info=meta["info"], **arrays)
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"{path} is not an attack shard ({error}); delete it to run the shard again.") from error


def run_attack_shard(
    preset: PresetAttack,
    classifier,
    x: np.ndarray,
    y: np.ndarray,
    start: int = 0,
    stop: int | None = None,
    batch_size: int = 32,
    attack_labels: AttackLabels = "predicted",
    verbose: bool = True,
) -> AttackShard:
    """Attack images ``x[start:stop]`` with ``preset`` and predict the clean and adversarial images.

    :param preset: An attack from ``presets.build_attack`` on ``classifier``.
    :param classifier: The ART classifier (pixel scale) whose predictions are recorded.
    :param x: All images of the set (the shard is sliced from it), on the classifier's scale.
    :param y: Their true labels (indices or one-hot).
    :param start: First image of the shard.
    :param stop: One past the last image; None for the end of the set.
    :param batch_size: Images per attack call and per prediction batch.
    :param attack_labels: ``"predicted"``: the attack gets no labels and uses the clean predictions (ART's default);
                          ``"true"``: it gets ``y``.
    :param verbose: Show a progress bar over the batches.
    :raises ValueError: On a range outside the set, an empty range, bad images or labels, or bad settings.
    """
    check_same_length(x, y)
    stop = len(x) if stop is None else stop
    if not (isinstance(start, (int, np.integer)) and isinstance(stop, (int, np.integer)) and 0 <= start < stop <= len(x)):
        raise ValueError(f"The shard [{start}, {stop}) is not a non-empty range inside the {len(x)} images.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if attack_labels not in ("predicted", "true"):
        raise ValueError(f"attack_labels must be 'predicted' or 'true', got {attack_labels!r}.")
    x_shard = x[start:stop]
    check_images(x_shard, classifier.clip_values)
    y_shard = to_class_indices(np.asarray(y)[start:stop], classifier.nb_classes)

    begin = time.perf_counter()
    clean_probs = classifier.predict(x_shard, batch_size=batch_size)
    step = len(x_shard) if preset.name == "spatial" else batch_size
    adv_parts, linf_parts, info = [], [], []
    for offset in tqdm(range(0, len(x_shard), step), desc=f"{preset.name} [{start}, {stop})", disable=not verbose):
        x_batch = x_shard[offset:offset + step]
        labels = y_shard[offset:offset + step] if attack_labels == "true" else None
        if preset.name == "spatial":
            preset.attack.attack_trans_x = preset.attack.attack_trans_y = preset.attack.attack_rot = None
        x_adv = preset.generate(x_batch, labels)
        if preset.name == "spatial":
            info.append({"rotation": float(preset.attack.attack_rot), "translation_x": int(preset.attack.attack_trans_x),
                         "translation_y": int(preset.attack.attack_trans_y),
                         "fooling_rate": float(preset.attack.fooling_rate)})
        adv_parts.append(classifier.predict(x_adv, batch_size=batch_size))
        linf_parts.append(np.abs(x_adv - x_batch).reshape(len(x_batch), -1).max(axis=1))
    return AttackShard(
        attack=preset.name,
        params={**preset.params, "eps_scale": preset.eps_scale, "attack_labels": attack_labels},
        start=int(start),
        stop=int(stop),
        y_true=y_shard,
        clean_probs=clean_probs,
        adv_probs=np.concatenate(adv_parts),
        linf=np.concatenate(linf_parts).astype(np.float64),
        seconds=time.perf_counter() - begin,
        info=info,
    )


def merge_shards(shards: Sequence[AttackShard]) -> AttackShard:
    """One shard from contiguous shards of the same attack and settings (in any order).

    :raises ValueError: If there are none, or they differ in attack or parameters, overlap, or leave a gap.
    """
    if not shards:
        raise ValueError("No shards to merge.")
    ordered = sorted(shards, key=lambda shard: shard.start)
    first = ordered[0]
    for previous, shard in pairwise(ordered):
        if (shard.attack, shard.params) != (first.attack, first.params):
            raise ValueError(f"Shard [{shard.start}, {shard.stop}) was made by {shard.attack} {shard.params}, "
                             f"not {first.attack} {first.params}.")
        if shard.start != previous.stop:
            kind = "overlap" if shard.start < previous.stop else "leave a gap"
            raise ValueError(f"Shards [{previous.start}, {previous.stop}) and [{shard.start}, {shard.stop}) {kind}.")
    return AttackShard(
        attack=first.attack,
        params=first.params,
        start=first.start,
        stop=ordered[-1].stop,
        y_true=np.concatenate([shard.y_true for shard in ordered]),
        clean_probs=np.concatenate([shard.clean_probs for shard in ordered]),
        adv_probs=np.concatenate([shard.adv_probs for shard in ordered]),
        linf=np.concatenate([shard.linf for shard in ordered]),
        seconds=float(sum(shard.seconds for shard in ordered)),
        info=[item for shard in ordered for item in shard.info],
    )
