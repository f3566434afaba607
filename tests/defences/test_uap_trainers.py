"""UAPAdversarialRetrainer and UniversalAdversarialTrainer: they lower the targeted success rate of fresh
UAPs while keeping clean accuracy, save a history, resume after an interruption and reject bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from art_medical.attacks import BatchedUniversalPerturbation
from art_medical.attacks._labels import predict_labels
from art_medical.defences import UAPAdversarialRetrainer, UniversalAdversarialTrainer

EPS = 6.0
TARGET = 2


def weights_equal(a, b) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


class Interrupt(Exception):
    """Raised from a callback to simulate a crash after a round."""


def _attack(classifier, max_iter=3):
    return BatchedUniversalPerturbation(
        classifier, eps=EPS, targeted=True, batch_size=16, max_iter=max_iter, target_rate=1.0, verbose=False
    )


def _success_and_accuracy(classifier, x_train, x_test, y_test):
    """R_s on the test images of a fresh targeted UAP made on the training images, and clean accuracy."""
    noise = _attack(classifier, max_iter=4).compute_noise(x_train, np.full(len(x_train), TARGET))
    adversarial = predict_labels(classifier, np.clip(x_test + noise, 0.0, 255.0), 64)
    return float(np.mean(adversarial == TARGET)), float(np.mean(predict_labels(classifier, x_test, 64) == y_test))


def test_retraining_lowers_targeted_success_and_keeps_accuracy(make_classifier, phantoms, test_phantoms, tmp_path):
    (x, y, _), (x_test, y_test, _) = phantoms, test_phantoms
    classifier = make_classifier(learning_rate=1e-4)
    trainer = UAPAdversarialRetrainer(
        classifier, _attack(classifier), target_class=TARGET, nb_rounds=2, nb_uaps=2, nb_epochs=2,
        batch_size=16, checkpoint_dir=tmp_path, verbose=False,
    )
    trainer.fit(x, y, x_test, y_test)
    history = trainer.history
    assert [h["round"] for h in history] == [0, 1, 2]
    before, after = history[0], history[-1]
    assert before["targeted_success_rate"] >= 0.7
    assert after["targeted_success_rate"] <= before["targeted_success_rate"] - 0.2
    assert after["clean_accuracy"] >= before["clean_accuracy"] - 0.05
    assert trainer.get_classifier() is classifier
    assert json.loads((tmp_path / "state.json").read_text())["history"] == history
    assert not list(tmp_path.glob("*.tmp"))


def test_universal_adversarial_training_lowers_targeted_success(make_classifier, phantoms, test_phantoms):
    (x, y, _), (x_test, y_test, _) = phantoms, test_phantoms
    classifier = make_classifier(learning_rate=1e-4)
    success_before, accuracy_before = _success_and_accuracy(classifier, x, x_test, y_test)
    trainer = UniversalAdversarialTrainer(
        classifier, eps=EPS, target_class=TARGET, nb_epochs=2, batch_size=16, verbose=False
    )
    trainer.fit(x, y, x_test, y_test)
    success_after, accuracy_after = _success_and_accuracy(classifier, x, x_test, y_test)
    assert success_before >= 0.7
    assert success_after <= success_before - 0.1
    assert accuracy_after >= accuracy_before - 0.05
    assert [h["epoch"] for h in trainer.history] == [1, 2]
    assert trainer.history[-1]["noise_norm"] <= EPS * (1 + 1e-5)
    assert trainer.noise.shape == (1,) + x.shape[1:]


def test_retraining_resumes_after_an_interruption(make_classifier, phantoms, test_phantoms, tmp_path):
    (x, y, _), (x_test, y_test, _) = phantoms, test_phantoms
    x, y, x_test, y_test = x[:48], y[:48], x_test[:24], y_test[:24]
    settings = dict(target_class=TARGET, nb_rounds=2, nb_uaps=1, nb_epochs=1, batch_size=16,
                    checkpoint_dir=tmp_path, verbose=False)

    def stop_after_round_1(round_index, record):
        if round_index == 1:
            raise Interrupt

    crashed = make_classifier()
    with pytest.raises(Interrupt):
        UAPAdversarialRetrainer(crashed, _attack(crashed, max_iter=1), **settings).fit(
            x, y, x_test, y_test, callback=stop_after_round_1
        )
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["rounds_done"] == 1

    resumed = make_classifier()
    assert not weights_equal(resumed.model, crashed.model)
    seen = []
    trainer = UAPAdversarialRetrainer(resumed, _attack(resumed, max_iter=1), **{**settings, "nb_rounds": 1})
    trainer.fit(x, y, x_test, y_test, callback=lambda r, _: seen.append(r))
    assert seen == [] and weights_equal(resumed.model, crashed.model)  # restored, nothing redone

    trainer = UAPAdversarialRetrainer(resumed, _attack(resumed, max_iter=1), **settings)
    trainer.fit(x, y, x_test, y_test, callback=lambda r, _: seen.append(r))
    assert seen == [2]
    assert [h["round"] for h in trainer.history] == [0, 1, 2]
    assert trainer.history[:2] == saved["history"]

    with pytest.raises(ValueError, match="settings"):
        UAPAdversarialRetrainer(resumed, _attack(resumed), **{**settings, "nb_epochs": 3}).fit(x, y, x_test, y_test)


def test_universal_adversarial_training_resumes_after_an_interruption(make_classifier, phantoms, tmp_path):
    x, y = phantoms[0][:48], phantoms[1][:48]
    settings = dict(eps=EPS, nb_epochs=2, batch_size=32, checkpoint_dir=tmp_path, verbose=False)

    def stop_after_epoch_1(epoch, record):
        if epoch == 1:
            raise Interrupt

    crashed = make_classifier()
    with pytest.raises(Interrupt):
        UniversalAdversarialTrainer(crashed, **settings).fit(x, y, callback=stop_after_epoch_1)
    resumed = make_classifier()
    seen = []
    trainer = UniversalAdversarialTrainer(resumed, **settings)
    trainer.fit(x, y, callback=lambda e, _: seen.append(e))
    assert seen == [2]
    assert [h["epoch"] for h in trainer.history] == [1, 2]

    # The same run without the interruption ends with the same model: weights, optimizer, noise and
    # random state were all restored.
    uninterrupted = make_classifier()
    reference = UniversalAdversarialTrainer(uninterrupted, **{**settings, "checkpoint_dir": None})
    reference.fit(x, y)
    np.testing.assert_array_equal(reference.noise, trainer.noise)
    for a, b in zip(uninterrupted.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_settings_are_refused(make_classifier, art_classifier, phantoms):
    x, y, _ = phantoms
    classifier = make_classifier()
    with pytest.raises(ValueError, match="targeted"):
        UAPAdversarialRetrainer(classifier, _attack(classifier), target_class=None)
    with pytest.raises(ValueError, match="attack the classifier"):
        UAPAdversarialRetrainer(classifier, _attack(art_classifier), target_class=TARGET)
    with pytest.raises(ValueError, match="target_class"):
        UAPAdversarialRetrainer(classifier, target_class=5)
    with pytest.raises(ValueError, match="ratio"):
        UAPAdversarialRetrainer(classifier, ratio=0.0)
    with pytest.raises(ValueError, match="x_test"):
        UAPAdversarialRetrainer(classifier).fit(x, y)
    with pytest.raises(ValueError, match="clip_values"):
        UAPAdversarialRetrainer(classifier).fit(x, y, x * 3.0, y)
    with pytest.raises(ValueError, match="eps"):
        UniversalAdversarialTrainer(classifier, eps=0.0)
    with pytest.raises(ValueError, match="norm"):
        UniversalAdversarialTrainer(classifier, norm=1)
    with pytest.raises(ValueError, match="samples"):
        UniversalAdversarialTrainer(classifier).fit(x, y[:-1])
