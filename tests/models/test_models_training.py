"""train(): a short run lowers the loss, records history and best checkpoint, and resumes after interruption."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from art_medical.models import SmallCNN, get_recipe, train


class _Interrupt(keras.callbacks.Callback):
    """Simulates a crash at the end of epoch ``stop_after`` (1-based), after the run's own callbacks."""

    def __init__(self, stop_after: int) -> None:
        super().__init__()
        self.stop_after = stop_after
        self.weights_at_stop = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.stop_after:
            self.weights_at_stop = [w.copy() for w in self.model.get_weights()]
            raise KeyboardInterrupt("simulated interruption")


class _FirstEpochProbe(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self, "first_epoch"):
            self.first_epoch = epoch
            self.weights = [w.copy() for w in self.model.get_weights()]


def _recipe(epochs: int):
    return get_recipe("study001").replace(epochs=epochs, batch_size=16, augment=False, optimizer="adam",
                                         schedule=None, learning_rate=3e-3, optimizer_options={})


def _model():
    keras.utils.set_random_seed(0)
    return SmallCNN(input_shape=(32, 32, 1), classes=3, filters=8)


def test_short_training_lowers_the_loss_and_saves_history_and_best(phantoms, tmp_path):
    x, y, _ = phantoms
    model, history = train(_model, x, y, _recipe(6).replace(oversample=True, augment=True), tmp_path, verbose=0)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["loss"] < history[0]["loss"]
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert (tmp_path / "history.csv").read_text().splitlines()[0].startswith("epoch,learning_rate")
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["value"] == max(row["val_accuracy"] for row in history)
    assert history[best["epoch"] - 1]["val_accuracy"] == best["value"]
    assert keras.saving.load_model(tmp_path / "best.keras").input_shape == model.input_shape
    assert not (tmp_path / "backup").exists()  # removed once the run completed
    assert not list(tmp_path.glob(".*tmp*"))


def test_learning_rate_follows_the_recipe_schedule(phantoms, tmp_path):
    x, y, _ = phantoms
    recipe = get_recipe("study001").replace(epochs=2, batch_size=32, augment=False)
    _, history = train(_model(), x, y, recipe, tmp_path, verbose=0)
    assert [row["learning_rate"] for row in history] == pytest.approx([1e-3, 1e-3])


def test_interrupted_training_resumes_from_its_last_completed_epoch(phantoms, tmp_path):
    x, y, _ = phantoms
    interrupt = _Interrupt(stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        train(_model(), x, y, _recipe(4), tmp_path, verbose=0, extra_callbacks=[interrupt])
    assert [row["epoch"] for row in json.loads((tmp_path / "history.json").read_text())] == [1, 2]

    probe = _FirstEpochProbe()
    fresh = _model()  # new random weights: resuming must restore the interrupted run's
    _, history = train(fresh, x, y, _recipe(4), tmp_path, verbose=0, extra_callbacks=[probe])
    assert probe.first_epoch == 2  # 0-based: continues with the third epoch
    for restored, saved in zip(probe.weights, interrupt.weights_at_stop):
        np.testing.assert_array_equal(restored, saved)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]


def test_train_rejects_mismatched_images(phantoms, tmp_path):
    x, y, _ = phantoms
    model = SmallCNN(input_shape=(16, 16, 1), classes=3, filters=4)
    with pytest.raises(ValueError, match="do not fit"):
        train(model, x, y, "study003", tmp_path, verbose=0)
