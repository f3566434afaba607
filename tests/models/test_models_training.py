"""train(): a short run lowers the loss, records history and best checkpoint, resumes after interruption, and
applies class weights, per-step decay and plateau reductions."""
from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from art_medical.models import SmallCNN, get_recipe, train
from art_medical.models.pipeline import stratified_split


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


def test_class_weighted_loss_is_the_batch_mean_of_weighted_cross_entropy(phantoms, tmp_path):
    x, y, _ = phantoms
    weights = (1.0, 2.0, 12.0)
    # One batch holds the whole training split, so the logged loss is that batch's loss before the update.
    recipe = _recipe(1).replace(batch_size=512, class_weights=weights, validation_fraction=0.25)
    _, history = train(_model, x, y, recipe, tmp_path / "weighted", verbose=0)
    x_train, y_train, _, _ = stratified_split(np.asarray(x, np.float32), y, 0.25, seed=0)
    probabilities = _model().predict(x_train, verbose=0)
    cross_entropy = -np.log(probabilities[np.arange(len(y_train)), y_train])
    expected = np.mean(np.asarray(weights)[y_train] * cross_entropy)
    assert history[0]["loss"] == pytest.approx(expected, rel=1e-5)
    assert abs(expected - cross_entropy.mean()) > 0.1  # the weights matter here
    with pytest.raises(ValueError, match="2 class weights"):
        train(_model, x, y, _recipe(1).replace(class_weights=(1.0, 2.0)), tmp_path / "bad", verbose=0)


def test_step_decay_and_plateau_reduction_set_the_recorded_rates(phantoms, tmp_path):
    x, y, _ = phantoms
    decay = get_recipe("study003").replace(epochs=2, batch_size=16, validation_fraction=0.25)
    _, history = train(_model, x, y, decay, tmp_path / "decay", verbose=0)
    steps = int(np.ceil(len(x) * 0.75 / 16))
    expected = [1e-3 / (1 + decay.lr_decay * steps * epoch) for epoch in (1, 2)]
    assert [row["learning_rate"] for row in history] == pytest.approx(expected, rel=1e-6)
    # A rate too small to change the validation loss: each epoch without improvement halves it (patience 1).
    plateau = _recipe(3).replace(learning_rate=1e-12, plateau_factor=0.5, plateau_patience=1)
    _, history = train(_model, x, y, plateau, tmp_path / "plateau", verbose=0)
    assert [row["learning_rate"] for row in history] == pytest.approx([1e-12, 1e-12, 5e-13], rel=1e-6)
