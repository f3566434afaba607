"""to_art / CompiledKerasClassifier: predictions, exact gradients, no retracing, ART attacks accept it."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from art.attacks.evasion import CarliniLInfMethod, DeepFool, FastGradientMethod, ProjectedGradientDescent

from art_medical.models import CompiledKerasClassifier, to_art


def _tape_loss_gradient(model, x, y_onehot, loss):
    x_tf = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        total = tf.reduce_sum(loss(y_onehot, model(x_tf, training=False)))
    return tape.gradient(total, x_tf).numpy()


def _tape_jacobian(model, x):
    x_tf = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        outputs = model(x_tf, training=False)
    return tape.batch_jacobian(outputs, x_tf).numpy()


def test_predictions_equal_model_predict_in_batches(softmax_cnn, images):
    classifier = to_art(softmax_cnn, batch_size=5)
    assert isinstance(classifier, CompiledKerasClassifier)
    assert classifier.nb_classes == 3 and classifier.input_shape == (32, 32, 1)
    assert classifier.clip_values.tolist() == [0.0, 255.0]
    np.testing.assert_allclose(classifier.predict(images), softmax_cnn.predict(images, verbose=0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(classifier.predict(images, batch_size=2), classifier.predict(images), rtol=1e-6)


@pytest.mark.parametrize("kind", ["softmax", "logits"])
def test_loss_gradient_matches_gradient_tape(kind, softmax_cnn, logits_cnn, images):
    model = softmax_cnn if kind == "softmax" else logits_cnn
    classifier = to_art(model, batch_size=5)
    assert classifier.output == kind
    labels = np.arange(len(images)) % 3
    gradients = classifier.loss_gradient(images, labels)
    loss = keras.losses.CategoricalCrossentropy(from_logits=kind == "logits", reduction=None)
    expected = _tape_loss_gradient(model, images, np.eye(3, dtype=np.float32)[labels], loss)
    assert np.isfinite(gradients).all() and np.abs(expected).max() > 0
    np.testing.assert_allclose(gradients, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())
    # integer and one-hot labels agree; per-sample gradients do not depend on the batch size
    np.testing.assert_allclose(classifier.loss_gradient(images, np.eye(3)[labels]), gradients, rtol=1e-6)
    np.testing.assert_allclose(to_art(model, batch_size=64).loss_gradient(images, labels), gradients, rtol=1e-4,
                               atol=1e-6 * np.abs(expected).max())


def test_class_gradients_match_jacobian(softmax_cnn, images):
    classifier = to_art(softmax_cnn, batch_size=5)
    jacobian = _tape_jacobian(softmax_cnn, images)
    scale = np.abs(jacobian).max()
    all_classes = classifier.class_gradient(images)
    assert all_classes.shape == (12, 3, 32, 32, 1)
    np.testing.assert_allclose(all_classes, jacobian, rtol=1e-4, atol=1e-6 * scale)
    labels = np.arange(12) % 3
    per_sample = classifier.class_gradient(images, label=labels)
    assert per_sample.shape == (12, 1, 32, 32, 1)
    np.testing.assert_allclose(per_sample[:, 0], jacobian[np.arange(12), labels], rtol=1e-4, atol=1e-6 * scale)
    np.testing.assert_allclose(classifier.class_gradient(images, label=2)[:, 0], jacobian[:, 2], rtol=1e-4,
                               atol=1e-6 * scale)


def test_sigmoid_model_is_a_two_class_classifier_with_binary_crossentropy(sigmoid_cnn, images):
    classifier = to_art(sigmoid_cnn, batch_size=5)
    assert classifier.output == "sigmoid" and classifier.nb_classes == 2
    p = sigmoid_cnn.predict(images, verbose=0)
    np.testing.assert_allclose(classifier.predict(images), np.hstack([1 - p, p]), rtol=1e-5, atol=1e-7)
    labels = (np.arange(12) % 2).astype(np.int64)
    bce = keras.losses.BinaryCrossentropy(reduction=None)
    expected = _tape_loss_gradient(sigmoid_cnn, images, labels[:, None].astype(np.float32), bce)
    np.testing.assert_allclose(classifier.loss_gradient(images, labels), expected, rtol=1e-3,
                               atol=1e-5 * np.abs(expected).max())
    class_gradients = classifier.class_gradient(images)
    jacobian = _tape_jacobian(sigmoid_cnn, images)[:, 0]
    np.testing.assert_allclose(class_gradients[:, 1], jacobian, rtol=1e-4, atol=1e-6 * np.abs(jacobian).max())
    np.testing.assert_allclose(class_gradients[:, 0], -jacobian, rtol=1e-4, atol=1e-6 * np.abs(jacobian).max())


def test_gradient_functions_are_traced_once(softmax_cnn, images):
    classifier = to_art(softmax_cnn, batch_size=4)
    for n in (1, 3, 12, 7):
        classifier.loss_gradient(images[:n], np.zeros(n, dtype=int))
        classifier.class_gradient(images[:n])
        classifier.class_gradient(images[:n], label=np.ones(n, dtype=int))
    for kind in ("loss_gradient", "all_class_gradients", "selected_class_gradient"):
        assert classifier._function(kind, False).experimental_get_tracing_count() == 1


def test_preprocessing_gradients_are_chained(softmax_cnn, images):
    """With ART preprocessing (x - mean) / std, gradients w.r.t. raw x are the model's divided by std."""
    plain = to_art(softmax_cnn)
    standardised = to_art(softmax_cnn, preprocessing=(10.0, 2.0))
    labels = np.zeros(len(images), dtype=int)
    shifted = (images - 10.0) / 2.0
    np.testing.assert_allclose(standardised.loss_gradient(images, labels), plain.loss_gradient(shifted, labels) / 2.0,
                               rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(standardised.class_gradient(images), plain.class_gradient(shifted) / 2.0,
                               rtol=1e-5, atol=1e-12)


def test_tensor_input_gives_tensor_gradient(softmax_cnn, images):
    classifier = to_art(softmax_cnn)
    gradients = classifier.loss_gradient(tf.constant(images), tf.constant(np.eye(3)[np.zeros(12, int)]))
    assert isinstance(gradients, tf.Tensor) and gradients.shape == images.shape


def test_bad_inputs_raise_clear_errors(softmax_cnn, images):
    classifier = to_art(softmax_cnn)
    with pytest.raises(ValueError, match="shape"):
        classifier.predict(images[:, :16])
    nan_images = images.copy()
    nan_images[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        classifier.loss_gradient(nan_images, np.zeros(12, dtype=int))
    with pytest.raises(ValueError, match="label"):
        classifier.class_gradient(images, label=5)
    with pytest.raises(ValueError, match="batch_size"):
        to_art(softmax_cnn, batch_size=0)
    relu_output = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")])
    with pytest.raises(ValueError, match="output="):
        to_art(relu_output)


def test_art_attacks_accept_the_estimator(softmax_cnn, images):
    classifier = to_art(softmax_cnn, batch_size=8)
    for attack in (FastGradientMethod, ProjectedGradientDescent, CarliniLInfMethod, DeepFool):
        assert all(isinstance(classifier, requirement) for requirement in attack._estimator_requirements)
    labels = classifier.predict(images).argmax(axis=1)
    fgsm = FastGradientMethod(classifier, eps=8.0, batch_size=8)
    adversarial = fgsm.generate(images, y=np.eye(3)[labels])
    assert np.abs(adversarial - images).max() <= 8.0 + 1e-4 and adversarial.min() >= 0 and adversarial.max() <= 255
    losses_before = classifier.compute_loss(images, labels)
    losses_after = classifier.compute_loss(adversarial, labels)
    assert losses_after.mean() > losses_before.mean()
    # FGSM steps exactly along the sign of our loss gradient where no clipping happened
    step = np.sign(classifier.loss_gradient(images, labels)) * 8.0
    unclipped = (images + step >= 0) & (images + step <= 255)
    np.testing.assert_allclose(adversarial[unclipped], (images + step)[unclipped], atol=1e-3)

    pgd = ProjectedGradientDescent(classifier, eps=8.0, eps_step=2.0, max_iter=3, batch_size=8, verbose=False)
    adversarial = pgd.generate(images)
    assert np.abs(adversarial - images).max() <= 8.0 + 1e-3
    deepfool = DeepFool(classifier, max_iter=3, batch_size=4, verbose=False)
    assert deepfool.generate(images[:4]).shape == (4, 32, 32, 1)
    carlini = CarliniLInfMethod(classifier, max_iter=2, batch_size=4, verbose=False)
    assert carlini.generate(images[:4]).shape == (4, 32, 32, 1)


def test_fit_trains_the_wrapped_model_through_the_two_class_view(phantoms):
    x, y, _ = phantoms
    keras.utils.set_random_seed(0)
    from art_medical.models import SmallCNN

    model = SmallCNN(input_shape=(32, 32, 1), classes=1, filters=4, classifier_activation="sigmoid")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    classifier = to_art(model)
    labels = (y > 0).astype(int)
    before = classifier.compute_loss(x, labels).mean()
    classifier.fit(x, labels, batch_size=16, nb_epochs=5)
    assert classifier.compute_loss(x, labels).mean() < before
    with pytest.raises(ValueError, match="fixed shape"):
        to_art(keras.Sequential([keras.Input((None, None, 1)), keras.layers.GlobalAveragePooling2D(),
                                 keras.layers.Dense(2, activation="softmax")]))
