"""Running a TensorFlow 1 meta-graph checkpoint, such as the released COVID-Net models, as a Keras model.

Study 000 (Hirano, Koga & Takemoto 2020) attacked the COVIDNet-CXR Small and Large checkpoints of
github.com/lindawangg/COVID-Net: TF1 ``model.meta`` graphs with ``model-<step>.index/.data`` variables,
written by a proprietary tool (GenSynth) and never published as code. Their variables cannot be mapped
into :func:`art_medical.models.covidnet.COVIDNet` (the per-module widths differ and are unknown), but the
graphs themselves run under TensorFlow 2: :func:`load_tf1_checkpoint` imports the graph, restores its
variables and wraps the input-to-output path as a Keras model that takes raw 0-255 pixels, so the
package's attacks and :func:`art_medical.models.to_art` (``output="softmax"``) apply to it. The tensors of
the 2020 COVIDNet-CXR models are those of :data:`COVIDNET_CXR_TENSORS` (repository docs, and the code
of study 000 at github.com/hkthirano/UAP-COVID-Net).
"""
from __future__ import annotations

import os
from pathlib import Path

import keras
import tensorflow as tf

#: Tensor names of the COVIDNet-CXR Small / Large graphs (input 224x224x3 scaled to [0, 1];
#: ``dense_3/MatMul:0`` is the last layer before its bias, which study 000's code used as logits).
COVIDNET_CXR_TENSORS: dict[str, str] = {"input": "input_1:0", "softmax": "dense_3/Softmax:0",
                                        "logits": "dense_3/MatMul:0"}


class TF1GraphFunction(keras.layers.Layer):
    """A restored TF1 graph path as a Keras layer (not serialisable: reload the checkpoint instead)."""

    def __init__(self, function, output_shape: tuple[int, ...], **kwargs):
        super().__init__(trainable=False, **kwargs)
        self._function = function
        self._graph_output_shape = tuple(output_shape)

    def call(self, inputs):
        return self._function(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._graph_output_shape)


def _tensor_shape(meta_path: str, tensor_name: str) -> tuple[int | None, ...]:
    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(meta_path, clear_devices=True)
        try:
            return tuple(graph.get_tensor_by_name(tensor_name).shape.as_list())
        except (KeyError, ValueError) as error:
            raise ValueError(f"Tensor {tensor_name!r} is not in the graph {meta_path!r}: {error}") from error


def load_tf1_checkpoint(
    meta_path: str | os.PathLike,
    checkpoint_prefix: str | os.PathLike,
    input_tensor: str = COVIDNET_CXR_TENSORS["input"],
    output_tensor: str = COVIDNET_CXR_TENSORS["softmax"],
    input_scale: float = 1.0 / 255.0,
    name: str = "tf1_checkpoint",
) -> keras.Model:
    """Import a TF1 meta graph, restore its checkpoint and return ``pixels -> output_tensor`` as a Keras model.

    :param meta_path: The ``.meta`` file, e.g. ``models/COVIDNet-CXR-Small/model.meta``.
    :param checkpoint_prefix: The checkpoint prefix (the ``.index`` file without its suffix), e.g.
        ``models/COVIDNet-CXR-Small/model-1697``.
    :param input_tensor: Name of the image placeholder the returned model feeds.
    :param output_tensor: Name of the tensor the returned model outputs (softmax probabilities for
        COVID-Net; wrap with ``to_art(model, output="softmax")``).
    :param input_scale: Factor from 0-255 pixels to the graph's input scale (COVID-Net: 1/255).
    :param name: Name of the returned model.
    :return: A Keras model on raw 0-255 pixels with the graph's fixed input shape. Gradients flow through it;
        it cannot be saved or trained with Keras (its variables belong to the imported graph).
    """
    meta_path, checkpoint_prefix = os.fspath(meta_path), os.fspath(checkpoint_prefix)
    if not Path(meta_path).is_file():
        raise FileNotFoundError(f"Meta graph file not found: {meta_path!r}.")
    if not Path(f"{checkpoint_prefix}.index").is_file():
        raise FileNotFoundError(f"Checkpoint not found: {checkpoint_prefix!r} has no '.index' file beside it.")
    if input_scale <= 0:
        raise ValueError(f"input_scale must be positive, got {input_scale}.")
    input_shape = _tensor_shape(meta_path, input_tensor)
    output_shape = _tensor_shape(meta_path, output_tensor)
    if len(input_shape) != 4 or any(d is None for d in input_shape[1:]):
        raise ValueError(f"Input tensor {input_tensor!r} must have a fixed image shape (batch, H, W, C), "
                         f"got {input_shape}.")

    savers = []

    def import_graph(images):
        savers.append(tf.compat.v1.train.import_meta_graph(meta_path, clear_devices=True,
                                                           input_map={input_tensor: images}))
        return tf.compat.v1.get_default_graph().get_tensor_by_name(output_tensor)

    function = tf.compat.v1.wrap_function(import_graph, [tf.TensorSpec((None, *input_shape[1:]), tf.float32)])
    if savers[0] is None:
        raise ValueError(f"The graph {meta_path!r} has no variables to restore.")
    saver_def = savers[0].saver_def
    restore = function.prune(feeds=[function.graph.as_graph_element(saver_def.filename_tensor_name)],
                             fetches=[function.graph.as_graph_element(saver_def.restore_op_name)])
    restore(tf.constant(checkpoint_prefix))

    pixels = keras.Input(shape=input_shape[1:], name="pixels")
    scaled = keras.layers.Rescaling(input_scale, name="rescale")(pixels)
    outputs = TF1GraphFunction(function, output_shape[1:], name="tf1_graph")(scaled)
    return keras.Model(pixels, outputs, name=name)
