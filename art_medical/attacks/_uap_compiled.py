"""One pass of the universal-perturbation walk with an FGSM inner step, compiled into one TensorFlow graph call.

ART's ``UniversalPerturbation`` and ``TargetedUniversalPerturbation`` visit the images one at a time and pay three
estimator calls for each (a prediction, the inner attack, a prediction): with ART 1.20's ``KerasClassifier`` about
25-40 ms per image on a small CNN, mostly the eager loss gradient. Here the whole pass is a ``tf.while_loop`` inside
one ``tf.function`` call. Each iteration takes a window of the images in the visiting order: it predicts them under
the current perturbation, computes the FGSM step of those that need one, predicts the stepped images and keeps the
first accepted step (which ends the window). The FGSM step after the gradient and the projection of the universal
perturbation run in NumPy (``tf.numpy_function``) with the operations of ART's ``FastGradientMethod`` and
``art.utils.projection``, so that a window of one image computes what ART computes, in the same order.

With ``window=1`` every model evaluation is a batch of one, as in ART; with a larger window the predictions and
gradients of a window are batched (float rounding then differs from ART's batch-of-one calls). An image visited under
a perturbation that has not changed since its previous visit, which then left the perturbation unchanged, would
leave it unchanged again (the evaluation is deterministic): it is skipped.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import NamedTuple

import numpy as np

# (x_in, gradients) -> x_adv for a batch of images needing a step: the FGSM step after the loss gradient.
StepFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]
# (x_adv of one image, the clean image) -> the new universal perturbation, shape (1, ...).
ProjectFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


# Compiled walks by model and configuration, so that new attack instances on the same model do not trace again.
_WALKS: "weakref.WeakKeyDictionary[object, dict[Hashable, CompiledFGSMWalk]]" = weakref.WeakKeyDictionary()


def cached_walk(model, key: Hashable, build: Callable[[], "CompiledFGSMWalk"]) -> "CompiledFGSMWalk":
    """The walk for ``model`` and configuration ``key``, built by ``build`` on first use."""
    walks = _WALKS.setdefault(model, {})
    if key not in walks:
        walks[key] = build()
    return walks[key]


class PassResult(NamedTuple):
    """The perturbation after a pass, the number of accepted steps, the skipping state, and the first evaluations.

    ``settled[i]`` is the perturbation version under which image ``i`` last left the perturbation unchanged, and
    ``version`` the number of accepted steps so far (pass both to the next pass). ``probe_*`` hold the first image
    of the pass that needed a step: its index and input ``x + noise``, the stepped image and the model's outputs on
    it (``probe_stepped`` is False when no image needed a step); ``first_*`` the input and outputs of the first image
    evaluated. They let a caller compare the compiled evaluation with the estimator's own calls.
    """

    noise: np.ndarray
    updates: int
    settled: np.ndarray
    version: int
    first_input: np.ndarray
    first_outputs: np.ndarray
    probe_stepped: bool
    probe_index: int
    probe_input: np.ndarray
    probe_adv: np.ndarray
    probe_adv_outputs: np.ndarray


class CompiledFGSMWalk:
    """The UAP walk of one pass over ``x`` for a Keras model, traced once (any number of images) and reused.

    :param model: The Keras model (single input and output, as the estimator calls it).
    :param loss_fn: The per-sample loss ``(y, outputs) -> losses`` whose gradient the inner FGSM follows.
    :param sparse: Whether ``loss_fn`` takes class indices instead of label rows.
    :param targeted: Accept a step if it reaches the target (True) or if it changes the label (False).
    :param step: The FGSM step after the gradient (ART's ``FastGradientMethod`` operations).
    :param project: The projection of ``x_adv - x`` on the perturbation's norm ball.
    """

    def __init__(
        self,
        model,
        loss_fn: Callable,
        sparse: bool,
        targeted: bool,
        step: StepFunction,
        project: ProjectFunction,
    ) -> None:
        self._model = model
        self._loss_fn = loss_fn
        self._sparse = sparse
        self._targeted = targeted
        self._step = step
        self._project = project
        self._function = None

    def run_pass(
        self,
        x,
        order: np.ndarray,
        noise: np.ndarray,
        reference: np.ndarray,
        label_rows: np.ndarray,
        window: int,
        settled: np.ndarray,
        version: int,
    ) -> PassResult:
        """Visit ``x[order]`` once and return the perturbation after the pass.

        :param x: The clean images (a float32 tensor or array of shape ``(n, ...)``).
        :param order: The visiting order.
        :param noise: The universal perturbation at the start of the pass, shape ``(1, ...)``.
        :param reference: Targets (targeted) or true labels (non-targeted), class indices.
        :param label_rows: The label of each image as the inner attack receives it (float32 rows, or indices
                           for a sparse loss).
        :param window: The largest number of images evaluated together; 1 evaluates each image alone, as ART.
        :param settled: Per image, the perturbation version under which it last left the perturbation unchanged
                        (-1 for none); such an image is skipped while the version is the same.
        :param version: The number of accepted steps before this pass.
        """
        if self._function is None:
            self._function = self._build()
        result = self._function(
            x,
            np.asarray(order, dtype=np.int32),
            noise.astype(np.float32),
            np.asarray(reference, dtype=np.int64),
            label_rows,
            np.int32(window),
            np.asarray(settled, dtype=np.int32),
            np.int32(version),
        )
        values = [value.numpy() for value in result]
        noise, updates, settled, version, first_input, first_outputs, stepped, index = values[:8]
        return PassResult(noise, int(updates), settled, int(version), first_input, first_outputs, bool(stepped),
                          int(index), *values[8:])

    def _labels(self, outputs):
        """Class indices as NumPy computes them: the first maximum; ``p >= 0.5`` for one sigmoid output."""
        import tensorflow as tf

        if outputs.shape[-1] == 1:
            return tf.cast(outputs[:, 0] >= 0.5, tf.int64)
        nb_classes = tf.shape(outputs, out_type=tf.int64)[1]
        is_max = tf.equal(outputs, tf.reduce_max(outputs, axis=1, keepdims=True))
        positions = tf.broadcast_to(tf.range(nb_classes, dtype=tf.int64), tf.shape(outputs, out_type=tf.int64))
        return tf.reduce_min(tf.where(is_max, positions, nb_classes), axis=1)

    def _build(self):
        import tensorflow as tf

        model, loss_fn, targeted = self._model, self._loss_fn, self._targeted
        input_shape = tuple(model.input_shape[1:])
        image_spec = tf.TensorSpec((None, *input_shape), tf.float32)
        rows_spec = tf.TensorSpec((None,) if self._sparse else (None, None), tf.float32)

        def forward(images):
            return tf.cast(model(images, training=False), tf.float32)

        def gradient(images, rows):
            with tf.GradientTape() as tape:
                tape.watch(images)
                losses = loss_fn(rows, model(images, training=False))
            return tape.gradient(losses, images)

        def fgsm(images, grads):
            adv = tf.numpy_function(self._step, [images, grads], tf.float32, stateful=False)
            return tf.ensure_shape(adv, images.shape)

        def project(adv, clean):
            noise = tf.numpy_function(self._project, [adv, clean], tf.float32, stateful=False)
            return tf.ensure_shape(noise, (1, *input_shape))

        def first_true(mask):
            positions = tf.range(tf.size(mask, out_type=tf.int32))
            return tf.reduce_min(tf.where(mask, positions, tf.size(mask, out_type=tf.int32)))

        @tf.function(
            input_signature=[
                image_spec,
                tf.TensorSpec((None,), tf.int32),
                tf.TensorSpec((1, *input_shape), tf.float32),
                tf.TensorSpec((None,), tf.int64),
                rows_spec,
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((None,), tf.int32),
                tf.TensorSpec((), tf.int32),
            ],
        )
        def walk(x, order, noise, reference, rows, max_window, settled, version):
            nb_outputs = model.output_shape[-1]
            image_shape = tf.TensorShape((None, *input_shape))
            outputs_shape = tf.TensorShape((None, nb_outputs))

            def evaluate(idx, fresh, noise, settled, version, probe):
                """Predict the fresh images of a window, step those that need it, keep the first accepted step."""
                have_first, first_input, first_outputs, stepped, p_index, p_in, p_adv, p_out = probe
                images = tf.gather(idx, fresh)
                clean = tf.gather(x, images)
                x_in = clean + noise
                image_rows = tf.gather(rows, images)
                # The forward pass is taped: when most images need a step (always, for the single image of the
                # exact mode) their gradients come from it, as from ART's loss_gradient.
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x_in)
                    raw_outputs = model(x_in, training=False)
                    losses = loss_fn(image_rows, raw_outputs)
                outputs = tf.cast(raw_outputs, tf.float32)
                current = self._labels(outputs)
                wanted = tf.gather(reference, images)
                needs = tf.not_equal(current, wanted) if targeted else tf.equal(current, wanted)
                record = tf.logical_not(have_first)
                first_input = tf.where(record, x_in[:1], first_input)
                first_outputs = tf.where(record, outputs[:1], first_outputs)
                candidates = tf.reshape(tf.where(needs), [-1])
                size = tf.size(idx)

                def no_step():
                    return size, noise, tf.constant(0), (stepped, p_index, p_in, p_adv, p_out)

                def step():
                    c_in = tf.gather(x_in, candidates)
                    grads = tf.cond(
                        3 * tf.size(candidates) >= 2 * tf.size(images),
                        lambda: tf.gather(tape.gradient(losses, x_in), candidates),
                        lambda: gradient(c_in, tf.gather(image_rows, candidates)),
                    )
                    adv = fgsm(c_in, grads)
                    adv_outputs = forward(adv)
                    new = self._labels(adv_outputs)
                    if targeted:
                        accepted = tf.equal(new, tf.gather(wanted, candidates))
                    else:
                        accepted = tf.not_equal(new, tf.gather(current, candidates))
                    first = first_true(accepted)
                    probe = tf.logical_not(stepped)
                    new_probe = (
                        tf.constant(True),
                        tf.where(probe, tf.gather(images, candidates[0]), p_index),
                        tf.where(probe, c_in[:1], p_in),
                        tf.where(probe, adv[:1], p_adv),
                        tf.where(probe, adv_outputs[:1], p_out),
                    )

                    def accept():
                        at = tf.cast(candidates[first], tf.int32)
                        noise = project(adv[first : first + 1], clean[at : at + 1])
                        return tf.cast(fresh[at], tf.int32) + 1, noise, tf.constant(1)

                    consumed, new_noise, count = tf.cond(
                        first < tf.size(accepted), accept, lambda: (size, noise, tf.constant(0))
                    )
                    return consumed, new_noise, count, new_probe

                consumed, noise, count, (stepped, p_index, p_in, p_adv, p_out) = tf.cond(
                    tf.size(candidates) > 0, step, no_step
                )
                # The images evaluated up to the end of the consumed part settle under this version (the accepted
                # one too: the version changes with it).
                done = tf.boolean_mask(images, fresh < tf.cast(consumed, fresh.dtype))
                settled = tf.tensor_scatter_nd_update(settled, done[:, None], tf.fill(tf.shape(done), version))
                probe = (tf.constant(True), first_input, first_outputs, stepped, p_index, p_in, p_adv, p_out)
                return consumed, noise, count, settled, probe

            def body(position, window, noise, updates, settled, version, probe):
                idx = order[position : position + window]
                fresh = tf.reshape(tf.where(tf.not_equal(tf.gather(settled, idx), version)), [-1])
                consumed, noise, count, settled, probe = tf.cond(
                    tf.size(fresh) > 0,
                    lambda: evaluate(idx, fresh, noise, settled, version, probe),
                    lambda: (tf.size(idx), noise, tf.constant(0), settled, probe),
                )
                # After an accepted step the next window is as long as the part consumed (the next acceptance is
                # expected as far ahead); after a window without one it doubles.
                grown = tf.where(count > 0, consumed, 2 * consumed)
                return (position + consumed, tf.minimum(grown, max_window), noise, updates + count, settled,
                        version + count, probe)

            blank = tf.zeros((1, *input_shape), tf.float32)
            blank_outputs = tf.zeros((1, nb_outputs), tf.float32)
            probe = (tf.constant(False), blank, blank_outputs, tf.constant(False), tf.constant(0), blank, blank,
                     blank_outputs)
            probe_shapes = (tf.TensorShape(()), image_shape, outputs_shape, tf.TensorShape(()), tf.TensorShape(()),
                            image_shape, image_shape, outputs_shape)
            _, _, noise, updates, settled, version, probe = tf.while_loop(
                lambda position, *rest: position < tf.size(order),
                body,
                (tf.constant(0), max_window, noise, tf.constant(0), settled, version, probe),
                shape_invariants=(
                    tf.TensorShape(()),
                    tf.TensorShape(()),
                    tf.TensorShape((1, *input_shape)),
                    tf.TensorShape(()),
                    tf.TensorShape((None,)),
                    tf.TensorShape(()),
                    probe_shapes,
                ),
                parallel_iterations=1,
            )
            return (noise, updates, settled, version) + tuple(probe[1:])

        return walk
