"""load_tf1_checkpoint: a TF1 meta graph + checkpoint laid out like the released COVID-Net models (same tensor
names, a training loss and Adam slots in the graph) runs as a Keras model on 0-255 pixels, with gradients."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from art_medical.models import COVIDNET_CXR_TENSORS, load_tf1_checkpoint, to_art


@pytest.fixture(scope="module")
def tf1_checkpoint(tmp_path_factory):
    """A linear softmax classifier on 6x6x3 inputs in [0, 1], saved by tf.compat.v1 as model-5.{meta,index,data}."""
    folder = tmp_path_factory.mktemp("covidnet_like")
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(108, 3)).astype(np.float32)
    bias = np.array([0.2, -0.1, 0.05], np.float32)
    with tf.Graph().as_default() as graph:
        images = tf.compat.v1.placeholder(tf.float32, (None, 6, 6, 3), name="input_1")
        flat = tf.reshape(images, (-1, 108), name="flatten_1/Reshape")
        with tf.compat.v1.variable_scope("dense_3"):
            k = tf.compat.v1.get_variable("kernel", initializer=tf.constant(kernel))
            b = tf.compat.v1.get_variable("bias", initializer=tf.constant(bias))
        logits = tf.matmul(flat, k, name="dense_3/MatMul")
        tf.nn.softmax(tf.nn.bias_add(logits, b), name="dense_3/Softmax")
        labels = tf.compat.v1.placeholder(tf.float32, (None, 3), name="dense_3_target")
        weights = tf.compat.v1.placeholder(tf.float32, (None,), name="dense_3_sample_weights")
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits) * weights)
        tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().save(session, str(folder / "model"), global_step=5)
    return folder, kernel, bias


def test_checkpoint_runs_on_raw_pixels_with_its_saved_weights_and_gradients(tf1_checkpoint):
    folder, kernel, bias = tf1_checkpoint
    model = load_tf1_checkpoint(folder / "model-5.meta", folder / "model-5")
    assert model.input_shape == (None, 6, 6, 3) and model.output_shape == (None, 3)
    x = np.random.default_rng(1).uniform(0, 255, (5, 6, 6, 3)).astype(np.float32)
    z = (x / 255.0).reshape(5, -1) @ kernel + bias
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)

    classifier = to_art(model, output="softmax")
    y = np.array([0, 1, 2, 0, 1])
    # Cross-entropy of a linear softmax: d/dx = (p - onehot(y)) kernel^T / 255 on the 0-255 scale.
    analytic = ((expected - np.eye(3)[y]) @ kernel.T / 255.0).reshape(x.shape)
    np.testing.assert_allclose(classifier.loss_gradient(x, y), analytic, rtol=1e-4, atol=1e-8)
    assert COVIDNET_CXR_TENSORS["softmax"] == "dense_3/Softmax:0"


def test_bad_checkpoint_arguments_raise(tf1_checkpoint, tmp_path):
    folder, _, _ = tf1_checkpoint
    meta = folder / "model-5.meta"
    with pytest.raises(FileNotFoundError, match="Meta graph"):
        load_tf1_checkpoint(tmp_path / "missing.meta", folder / "model-5")
    with pytest.raises(FileNotFoundError, match="index"):
        load_tf1_checkpoint(meta, folder / "model-6")
    with pytest.raises(ValueError, match="norm_dense_1/Softmax:0"):
        load_tf1_checkpoint(meta, folder / "model-5", output_tensor="norm_dense_1/Softmax:0")
    with pytest.raises(ValueError, match="fixed image shape"):
        load_tf1_checkpoint(meta, folder / "model-5", input_tensor="dense_3_sample_weights:0")
