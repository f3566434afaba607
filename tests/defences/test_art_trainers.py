"""ART's adversarial trainers through models.to_art: they raise accuracy under FGSM on held-out images beyond what
the same amount of clean training gives, keep clean accuracy, are reproducible for a seed and reject bad input."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from art_medical.attacks import FastGradientSweep
from art_medical.defences import fgsm_pgd_trainer, madry_pgd_trainer
from art_medical.defences.trainer.art_trainers import compiled_train_step
from art_medical.models import SmallCNN, to_art

EPS = 0.02  # on [0, 1]: 5.1 grey levels, training and attack budget
EPOCHS = 10


@pytest.fixture
def fresh_model(trained_cnn):
    """Factory of copies of the session's trained CNN, compiled with Adam."""

    def make(learning_rate: float = 3e-3, optimizer=keras.optimizers.Adam) -> keras.Model:
        model = keras.models.clone_model(trained_cnn)
        model.set_weights(trained_cnn.get_weights())
        model.compile(optimizer=optimizer(learning_rate), loss="categorical_crossentropy")
        return model

    return make


def accuracies(model, x, y) -> tuple[float, float]:
    """Clean accuracy and accuracy under FGSM (eps EPS on [0, 1], gradient on the true labels)."""
    rows = FastGradientSweep(to_art(model), (0.0, EPS), verbose=False).sweep(x, y).summary(y)
    return rows[0]["accuracy"], rows[1]["accuracy"]


def clean_control(fresh_model, x, y, epochs: int, batch_size: int) -> keras.Model:
    """The same number of extra epochs on clean images only, from the same start."""
    model = fresh_model()
    keras.utils.set_random_seed(0)
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def train(fresh_model, kind: str, x, y, seed: int, epochs: int = EPOCHS) -> keras.Model:
    model = fresh_model()
    classifier = to_art(model)
    if kind == "fgsm_pgd":
        fgsm_pgd_trainer(classifier, eps=EPS, eps_step=EPS / 4, pgd_max_iter=3, seed=seed).fit(
            x, y, batch_size=16, nb_epochs=epochs)
    else:
        madry_pgd_trainer(classifier, eps=EPS, eps_step=EPS / 4, max_iter=3, nb_epochs=epochs, batch_size=16,
                          seed=seed).fit(x, y)
    return model


@pytest.mark.parametrize("kind", ["fgsm_pgd", "madry"])
def test_adversarial_training_raises_fgsm_accuracy(fresh_model, trained_cnn, phantoms, test_phantoms, kind):
    (x, y, _), (x_test, y_test, _) = phantoms, test_phantoms
    clean_before, robust_before = accuracies(trained_cnn, x_test, y_test)
    clean_after, robust_after = accuracies(train(fresh_model, kind, x, y, seed=0), x_test, y_test)
    _, robust_control = accuracies(clean_control(fresh_model, x, y, EPOCHS, 16), x_test, y_test)

    # 60 held-out images: 0.15 is 9 images more resisting FGSM at 5.1 grey levels.
    assert robust_before < 0.35
    assert robust_after >= robust_before + 0.15
    assert robust_after >= robust_control + 0.1
    assert clean_after >= clean_before - 0.05 and clean_after > 0.85


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fgsm_pgd", "madry"])
def test_adversarial_training_gain_holds_over_seeds(fresh_model, trained_cnn, phantoms, test_phantoms, kind):
    (x, y, _), (x_test, y_test, _) = phantoms, test_phantoms
    clean_before, robust_before = accuracies(trained_cnn, x_test, y_test)
    _, robust_control = accuracies(clean_control(fresh_model, x, y, 20, 16), x_test, y_test)
    for seed in (1, 2, 3):
        clean_after, robust_after = accuracies(train(fresh_model, kind, x, y, seed, epochs=20), x_test, y_test)
        assert robust_after >= max(robust_before, robust_control) + 0.2, seed
        assert clean_after >= clean_before - 0.05, seed


def test_same_seed_same_weights(fresh_model, phantoms):
    x, y, _ = phantoms
    weights = []
    for seed in (4, 4, 5):
        model = fresh_model()
        fgsm_pgd_trainer(to_art(model), eps=EPS, pgd_max_iter=2, seed=seed).fit(x, y, batch_size=32, nb_epochs=2)
        weights.append(model.get_weights())
    for a, b in zip(weights[0], weights[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(weights[0], weights[2]))


def test_compiled_train_step_takes_arts_step(fresh_model, phantoms):
    """One step of ART's own per-call train step and of the compiled one, from the same weights, on one batch."""
    x, y, _ = phantoms
    art_model, our_model = (fresh_model(0.05, keras.optimizers.SGD) for _ in range(2))
    art_classifier, our_classifier = to_art(art_model), to_art(our_model)
    our_classifier._train_step = compiled_train_step(our_classifier)
    for classifier in (art_classifier, our_classifier):
        classifier.fit(x[:32], y[:32], batch_size=32, nb_epochs=1)
    start = fresh_model().get_weights()
    for before, ours, arts in zip(start, our_model.get_weights(), art_model.get_weights()):
        np.testing.assert_allclose(ours, arts, rtol=1e-4, atol=1e-6)
    assert any(not np.array_equal(before, ours) for before, ours in zip(start, our_model.get_weights()))


def test_builders_map_budgets(fresh_model):
    classifier = to_art(fresh_model())
    mix = fgsm_pgd_trainer(classifier)
    fgsm, pgd = mix.attacks
    assert (fgsm.eps, pgd.eps, pgd.eps_step, pgd.max_iter, mix.ratio) == (76.5, 76.5, 25.5, 100, 0.5)
    pixel = fgsm_pgd_trainer(classifier, eps=4.0, eps_step=1.0, eps_scale="pixel")
    assert (pixel.attacks[0].eps, pixel.attacks[1].eps_step) == (4.0, 1.0)
    madry = madry_pgd_trainer(classifier)
    assert (madry.attack.eps, madry.attack.eps_step, madry.attack.max_iter, madry.attack.num_random_init) == (
        8.0, 2.0, 7, 1)
    assert (madry.nb_epochs, madry.batch_size) == (205, 128)
    assert classifier._train_step is not None


def test_bad_input_names_the_problem(fresh_model, trained_cnn):
    classifier = to_art(fresh_model())
    with pytest.raises(ValueError, match="seed"):
        fgsm_pgd_trainer(classifier, seed=-1)
    with pytest.raises(ValueError, match="eps_scale"):
        madry_pgd_trainer(classifier, eps_scale="percent")
    with pytest.raises(ValueError, match="non-negative"):
        fgsm_pgd_trainer(classifier, eps=-0.1)
    with pytest.raises(ValueError, match="ratio"):
        fgsm_pgd_trainer(classifier, ratio=0.0)
    uncompiled = SmallCNN(input_shape=trained_cnn.input_shape[1:], classes=3, filters=8)
    with pytest.raises(ValueError, match="no optimizer"):
        fgsm_pgd_trainer(to_art(uncompiled))
