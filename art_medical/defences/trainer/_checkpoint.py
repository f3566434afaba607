"""Resumable training: the state after each finished round, written atomically to a folder.

``state.json`` holds the number of finished rounds, the per-round history, the state of the trainer's
random generator, the trainer's settings and the name of the weights file; the weights file (``.npz``)
holds the model weights, the optimizer variables and any extra arrays (e.g. a shared perturbation).
Both are written to a temporary file first and moved into place with ``os.replace``; ``state.json``
is written last, so a crash leaves the previous round's checkpoint intact.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

_STATE = "state.json"


def _atomic_write(path: Path, write) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class RoundCheckpoint:
    """Save and restore a trainer's finished rounds in ``directory`` (``None``: nothing is saved)."""

    def __init__(self, directory: str | os.PathLike | None, config: dict[str, Any]) -> None:
        self.directory = None if directory is None else Path(directory)
        self.config = config

    def load(self, model: keras.Model) -> tuple[int, list[dict[str, Any]], dict[str, Any] | None, dict[str, np.ndarray]]:
        """Restore the model from the last finished round.

        :return: ``(rounds_done, history, rng_state, extra_arrays)``; ``(0, [], None, {})`` when there is no
            checkpoint yet.
        :raises ValueError: If the checkpoint was made with other settings or is corrupt.
        """
        if self.directory is None or not (self.directory / _STATE).exists():
            return 0, [], None, {}
        try:
            state = json.loads((self.directory / _STATE).read_text())
            with np.load(self.directory / state["weights"]) as arrays:
                stored = {key: arrays[key] for key in arrays.files}
        except (OSError, ValueError, KeyError) as error:
            raise ValueError(f"Corrupt checkpoint in {self.directory}: {error}") from error
        if state["config"] != self.config:
            raise ValueError(
                f"The checkpoint in {self.directory} was made with settings {state['config']}, not {self.config}: "
                "use another checkpoint_dir or the same settings."
            )
        n_weights = state["n_weights"]
        model.set_weights([stored[f"w{i}"] for i in range(n_weights)])
        optimizer_values = [stored[f"o{i}"] for i in range(state["n_optimizer"])]
        if optimizer_values:
            model.optimizer.build(model.trainable_variables)
            for variable, value in zip(model.optimizer.variables, optimizer_values):
                variable.assign(value)
        extra = {key[2:]: value for key, value in stored.items() if key.startswith("x_")}
        return state["rounds_done"], state["history"], state["rng_state"], extra

    def save(
        self,
        model: keras.Model,
        rounds_done: int,
        history: list[dict[str, Any]],
        rng: np.random.Generator,
        extra: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Write the state after ``rounds_done`` finished rounds; earlier weight files are removed."""
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        weights = model.get_weights()
        optimizer_values = [np.asarray(v) for v in model.optimizer.variables]
        arrays = {f"w{i}": w for i, w in enumerate(weights)}
        arrays.update({f"o{i}": v for i, v in enumerate(optimizer_values)})
        arrays.update({f"x_{key}": value for key, value in (extra or {}).items()})
        weights_name = f"weights_round_{rounds_done:03d}.npz"
        _atomic_write(self.directory / weights_name, lambda stream: np.savez(stream, **arrays))
        state = {
            "rounds_done": rounds_done,
            "history": history,
            "rng_state": rng.bit_generator.state,
            "config": self.config,
            "weights": weights_name,
            "n_weights": len(weights),
            "n_optimizer": len(optimizer_values),
        }
        _atomic_write(self.directory / _STATE, lambda stream: stream.write(json.dumps(state, indent=1).encode()))
        for old in self.directory.glob("weights_round_*.npz"):
            if old.name != weights_name:
                old.unlink()
