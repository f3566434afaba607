"""ART's adversarial trainers on this package's 0-255 Keras models, seeded, with the study 004 eps mapping.

Study 004 names adversarial retraining as the next step for its networks; the project runs ART's
``AdversarialTrainer`` (FGSM and PGD examples alternating batch by batch, half of each batch replaced) and
``AdversarialTrainerMadryPGD`` (Madry et al.: every image replaced by a PGD example), then the same attack table.

Through ``models.to_art``'s classifier (a ``TensorFlowV2Classifier``) ART's trainers call ``fit`` once per
batch, and ART 1.20's ``TensorFlowV2Classifier.fit`` defines a new ``tf.function`` train step on every call:
every batch retraces the model. The builders here give the classifier one train step traced once (ART's own
``train_step`` hook), so each batch costs one optimizer step. Budgets follow ``eps_scale``
(``attacks.eps_scale``): ``"unit"`` reads them on [0, 1] and multiplies them by 255 for a 0-255 model.

Defaults: the FGSM / PGD mix uses ART's attack defaults (``eps=0.3``, ``eps_step=0.1`` on [0, 1], PGD
``max_iter=100``, ``ratio=0.5``); Madry's trainer uses ART's (``eps=8``, ``eps_step=2`` on 0-255, i.e. 8/255 and
2/255 on [0, 1], ``max_iter=7``, one random start, batch 128).

| Paper link: https://arxiv.org/abs/1705.07204 (adversarial training, ART's ``AdversarialTrainer``)
| Paper link: https://arxiv.org/abs/1706.06083 (Madry et al., PGD adversarial training)
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
from art.defences.trainer import AdversarialTrainer, AdversarialTrainerMadryPGD

from art_medical.attacks.eps_scale import EpsScale, check_eps_scale, to_pixel_eps
from art_medical.models.art_estimator import CompiledKerasClassifier

logger = logging.getLogger(__name__)

TrainStep = Callable[[keras.Model, tf.Tensor, tf.Tensor], None]


def compiled_train_step(classifier: CompiledKerasClassifier) -> TrainStep:
    """One optimizer step on a batch, traced once for any batch size, in the form of ART's ``train_step`` hook
    (``train_step(model, images, labels)``, labels one-hot).

    :raises ValueError: If the classifier has no optimizer (compile the Keras model, or pass one to ``to_art``).
    """
    model, loss, optimizer = classifier.model, classifier.loss_object, classifier.optimizer
    if optimizer is None:
        raise ValueError("The classifier has no optimizer: compile the Keras model before wrapping it with to_art.")
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    x_spec = tf.TensorSpec((None, *classifier.input_shape), tf.float32)
    y_spec = tf.TensorSpec((None, classifier.nb_classes), tf.float32)

    @tf.function(input_signature=[x_spec, y_spec])
    def step(images, labels):
        with tf.GradientTape() as tape:
            value = loss(labels, model(images, training=True))
        gradients = tape.gradient(value, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))

    def train_step(_model: keras.Model, images: tf.Tensor, labels: tf.Tensor) -> None:
        step(tf.cast(images, tf.float32), tf.cast(labels, tf.float32))

    return train_step


def _prepare(classifier) -> None:
    """Give a ``models.to_art`` classifier without a train step the compiled one (``TensorFlowV2Classifier``
    keeps its ``train_step`` argument as ``_train_step``)."""
    if isinstance(classifier, CompiledKerasClassifier) and classifier._train_step is None:
        classifier._train_step = compiled_train_step(classifier)


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")


class SeededAdversarialTrainer(AdversarialTrainer):
    """ART's ``AdversarialTrainer`` whose ``fit`` first seeds Python, NumPy and TensorFlow with ``seed`` (ART draws
    the batches and the replaced images from NumPy's global generator).

    | Paper link: https://arxiv.org/abs/1705.07204
    """

    def __init__(self, classifier, attacks, ratio: float = 0.5, seed: int = 0) -> None:
        """
        :param classifier: The classifier to train (``models.to_art``'s gets a compiled train step).
        :param attacks: The attacks, used in turn batch by batch.
        :param ratio: Fraction of each batch replaced by adversarial images, in (0, 1].
        :param seed: Seed set at the start of every ``fit``.
        """
        _check_seed(seed)
        _prepare(classifier)
        super().__init__(classifier, attacks, ratio=ratio)
        self.seed = int(seed)

    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int = 128, nb_epochs: int = 20, **kwargs) -> None:
        """ART's ``fit`` after seeding; ``y``: class indices or one-hot."""
        keras.utils.set_random_seed(self.seed)
        super().fit(x, y, batch_size=batch_size, nb_epochs=nb_epochs, **kwargs)


class SeededAdversarialTrainerMadryPGD(AdversarialTrainerMadryPGD):
    """ART's ``AdversarialTrainerMadryPGD`` whose ``fit`` first seeds Python, NumPy and TensorFlow (PGD's random
    start and ART's batches are drawn from NumPy's global generator).

    | Paper link: https://arxiv.org/abs/1706.06083
    """

    def __init__(
        self,
        classifier,
        nb_epochs: int | None = 205,
        batch_size: int | None = 128,
        eps: float = 8.0,
        eps_step: float = 2.0,
        max_iter: int = 7,
        num_random_init: int = 1,
        seed: int = 0,
    ) -> None:
        """
        :param classifier: The classifier to train (``models.to_art``'s gets a compiled train step).
        :param nb_epochs: Epochs (ART's default 205).
        :param batch_size: Images per batch (ART's default 128).
        :param eps: PGD budget on the classifier's scale.
        :param eps_step: PGD step on the classifier's scale.
        :param max_iter: PGD iterations.
        :param num_random_init: PGD random starts.
        :param seed: Seed set at the start of every ``fit``.
        """
        _check_seed(seed)
        _prepare(classifier)
        super().__init__(classifier, nb_epochs=nb_epochs, batch_size=batch_size, eps=eps, eps_step=eps_step,
                         max_iter=max_iter, num_random_init=num_random_init)
        self.seed = int(seed)

    def fit(self, x: np.ndarray, y: np.ndarray, validation_data=None, batch_size: int | None = None,
            nb_epochs: int | None = None, **kwargs) -> None:
        """ART's ``fit`` after seeding; ``y``: class indices or one-hot."""
        keras.utils.set_random_seed(self.seed)
        super().fit(x, y, validation_data=validation_data, batch_size=batch_size, nb_epochs=nb_epochs, **kwargs)


def fgsm_pgd_trainer(
    classifier,
    eps: float = 0.3,
    eps_step: float = 0.1,
    pgd_max_iter: int = 100,
    ratio: float = 0.5,
    eps_scale: EpsScale = "unit",
    seed: int = 0,
) -> SeededAdversarialTrainer:
    """ART's ``AdversarialTrainer`` with an FGSM and a PGD attack (L-inf, ART's defaults), used batch by batch in
    turn; each batch has ``ratio`` of its images replaced by adversarial ones.

    :param classifier: An ART classifier with loss gradients (``models.to_art``'s for this package's models).
    :param eps: Budget of both attacks, on ``eps_scale``.
    :param eps_step: FGSM's unused step and PGD's step, on ``eps_scale``.
    :param pgd_max_iter: PGD iterations (ART's default 100).
    :param ratio: Fraction of each batch replaced, in (0, 1].
    :param eps_scale: ``"unit"`` (budgets on [0, 1], x 255 on a 0-255 model) or ``"pixel"``.
    :param seed: Seed of the training run.
    """
    check_eps_scale(eps_scale)
    pixel_eps = to_pixel_eps(eps, eps_scale, classifier.clip_values)
    pixel_step = to_pixel_eps(eps_step, eps_scale, classifier.clip_values)
    attacks = [
        FastGradientMethod(classifier, norm=np.inf, eps=pixel_eps, eps_step=pixel_step),
        ProjectedGradientDescent(classifier, norm=np.inf, eps=pixel_eps, eps_step=pixel_step, max_iter=pgd_max_iter,
                                 verbose=False),
    ]
    logger.info("FGSM / PGD adversarial training: eps %g, eps_step %g on the classifier's scale.", pixel_eps, pixel_step)
    return SeededAdversarialTrainer(classifier, attacks, ratio=ratio, seed=seed)


def madry_pgd_trainer(
    classifier,
    eps: float = 8.0 / 255.0,
    eps_step: float = 2.0 / 255.0,
    max_iter: int = 7,
    num_random_init: int = 1,
    nb_epochs: int = 205,
    batch_size: int = 128,
    eps_scale: EpsScale = "unit",
    seed: int = 0,
) -> SeededAdversarialTrainerMadryPGD:
    """ART's ``AdversarialTrainerMadryPGD`` (every training image replaced by a PGD example), ART's defaults.

    :param classifier: An ART classifier with loss gradients (``models.to_art``'s for this package's models).
    :param eps: PGD budget on ``eps_scale`` (ART's default: 8 on 0-255).
    :param eps_step: PGD step on ``eps_scale`` (ART's default: 2 on 0-255).
    :param max_iter: PGD iterations.
    :param num_random_init: PGD random starts.
    :param nb_epochs: Epochs.
    :param batch_size: Images per batch.
    :param eps_scale: ``"unit"`` (budgets on [0, 1], x 255 on a 0-255 model) or ``"pixel"``.
    :param seed: Seed of the training run.
    """
    check_eps_scale(eps_scale)
    return SeededAdversarialTrainerMadryPGD(
        classifier,
        nb_epochs=nb_epochs,
        batch_size=batch_size,
        eps=to_pixel_eps(eps, eps_scale, classifier.clip_values),
        eps_step=to_pixel_eps(eps_step, eps_scale, classifier.clip_values),
        max_iter=max_iter,
        num_random_init=num_random_init,
        seed=seed,
    )
