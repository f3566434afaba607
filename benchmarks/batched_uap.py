"""Benchmark: BatchedUniversalPerturbation (SGD-UAP) against ART's TargetedUniversalPerturbation.

On one small CNN trained on synthetic 64x64 chest X-rays, prints:

1. time for the batched attack to reach the targeted success rate that ART's exact
   TargetedUniversalPerturbation reaches in its run, as a ratio to ART's time (target: >= 10);
2. the batched attack's time per pass / the time of one batched forward + backward pass over the same
   images (compiled TensorFlow, same batch size) (target: <= 1.5);
3. the targeted success rate each reaches within ART's time;
4. peak resident memory of a process streaming an HDF5 file of more than 4 GB through the attack
   (target: < 2 GB). The file is written in chunks in a temporary folder and deleted afterwards.

Usage: ``python benchmarks/batched_uap.py [--quick] [--h5-gb GB]`` (``--quick``: 256 images, one ART
pass and a 0.25 GB file instead of 4.3 GB). One pass over 4.3 GB of 64x64 images is about 270,000
forward and backward passes: minutes on a GPU, close to an hour on two CPU cores.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

IMAGE_SHAPE = (64, 64, 1)
EPS = 8.0  # L-inf xi on the 0-255 scale
TARGET = 2  # "covid"
BATCH_SIZE = 32
FGSM_STEP = 2.0


def _peak_rss_gb() -> float:
    """Peak resident set size of this process (VmHWM), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise RuntimeError("VmHWM not found in /proc/self/status")


def _train_model(n_images: int, weights_path: Path):
    import keras
    from art.estimators.classification import KerasClassifier

    from art_medical.data.synthetic import make_chest_xray_phantoms
    from art_medical.models.small_cnn import SmallCNN

    x, y, _ = make_chest_xray_phantoms(n_images // 3 + 1, size=IMAGE_SHAPE[0], seed=0)
    x, y = x[:n_images], y[:n_images]
    keras.utils.set_random_seed(0)
    model = SmallCNN(input_shape=IMAGE_SHAPE, classes=3, filters=16)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=8, batch_size=32, verbose=0)
    model.save_weights(weights_path)
    classifier = KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False)
    return classifier, x, y


def _success_rate(classifier, x: np.ndarray, noise: np.ndarray) -> float:
    from art_medical.attacks._labels import predict_labels

    adversarial = predict_labels(classifier, np.clip(x + noise, 0.0, 255.0), BATCH_SIZE)
    return float(np.mean(adversarial == TARGET))


def _forward_backward_seconds(classifier, x: np.ndarray) -> float:
    """One compiled forward + backward pass (input gradients) over ``x`` in batches of BATCH_SIZE."""
    import tensorflow as tf

    model = classifier.model
    labels = tf.one_hot(np.full(len(x), TARGET), 3)

    @tf.function(reduce_retracing=True)
    def gradient(x_batch, y_batch):
        with tf.GradientTape() as tape:
            tape.watch(x_batch)
            loss = tf.reduce_sum(tf.keras.losses.categorical_crossentropy(y_batch, model(x_batch, training=False)))
        return tape.gradient(loss, x_batch)

    def one_pass():
        for i in range(0, len(x), BATCH_SIZE):
            gradient(tf.constant(x[i : i + BATCH_SIZE]), labels[i : i + BATCH_SIZE]).numpy()

    one_pass()  # trace
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        one_pass()
        timings.append(time.perf_counter() - start)
    return min(timings)


def _batched(classifier, **kwargs):
    from art_medical.attacks import BatchedUniversalPerturbation

    params = dict(eps=EPS, targeted=True, batch_size=BATCH_SIZE, step_size=EPS / 4, verbose=False, seed=0)
    params.update(kwargs)
    return BatchedUniversalPerturbation(classifier, **params)


def _write_hdf5(path: Path, n_images: int, source: np.ndarray, chunk: int = 4096) -> None:
    """Write ``n_images`` float32 images in chunks (never the whole file in memory)."""
    import h5py

    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", shape=(n_images,) + IMAGE_SHAPE, dtype=np.float32, chunks=(BATCH_SIZE,) + IMAGE_SHAPE)
        y = f.create_dataset("y", shape=(n_images,), dtype=np.int64)
        for start in range(0, n_images, chunk):
            stop = min(start + chunk, n_images)
            picks = rng.integers(len(source), size=stop - start)
            noise = rng.normal(0.0, 2.0, size=(stop - start,) + IMAGE_SHAPE).astype(np.float32)
            x[start:stop] = np.clip(source[picks] + noise, 0.0, 255.0)
            y[start:stop] = TARGET


def _stream_child(h5_path: str, weights_path: str) -> None:
    """Child process: stream the HDF5 file through one pass of the attack, print peak RSS."""
    import h5py
    from art.estimators.classification import KerasClassifier

    from art_medical.models.small_cnn import SmallCNN

    model = SmallCNN(input_shape=IMAGE_SHAPE, classes=3, filters=16)
    model.load_weights(weights_path)
    model.compile(loss="categorical_crossentropy")
    classifier = KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False)
    rss_before = _peak_rss_gb()
    start = time.perf_counter()
    with h5py.File(h5_path, "r") as f:
        attack = _batched(classifier, max_iter=1, batch_size=256, target_rate=1.0)
        attack.compute_noise(f["x"], f["y"])
        n_images = f["x"].shape[0]
    print(
        f"STREAM images={n_images} seconds={time.perf_counter() - start:.1f} "
        f"rate={attack.targeted_success_rate:.3f} rss_before={rss_before:.3f} peak={_peak_rss_gb():.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, one ART pass, a 0.25 GB HDF5 file")
    parser.add_argument("--h5-gb", type=float, default=None, help="size of the streamed HDF5 file (default 4.3, quick 0.25)")
    parser.add_argument("--stream-child", nargs=2, metavar=("H5", "WEIGHTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        _stream_child(*args.stream_child)
        return

    from art.attacks.evasion import TargetedUniversalPerturbation as ArtTargetedUAP

    n_images, art_passes = (256, 1) if args.quick else (512, 2)
    h5_bytes = 1e9 * (args.h5_gb if args.h5_gb is not None else 0.25 if args.quick else 4.3)
    workdir = Path(tempfile.mkdtemp(prefix="batched_uap_bench_"))
    try:
        classifier, x, y = _train_model(n_images, workdir / "model.weights.h5")
        clean_rate = _success_rate(classifier, x, np.zeros((1,) + IMAGE_SHAPE, np.float32))
        print(f"model: SmallCNN 64x64x1, {n_images} phantoms; clean share predicted as target: {clean_rate:.3f}")

        # 1. ART's exact targeted UAP, then the batched attack up to the rate ART reached.
        art = ArtTargetedUAP(
            classifier, "fgsm", {"eps": FGSM_STEP, "targeted": True}, delta=0.0, max_iter=art_passes, eps=EPS
        )
        targets = np.eye(3, dtype=np.float32)[np.full(len(x), TARGET)]
        start = time.perf_counter()
        art.generate(x, targets)
        art_seconds = time.perf_counter() - start
        art_rate = _success_rate(classifier, x, art.noise)
        print(f"ART TargetedUniversalPerturbation: {art_passes} pass(es), {art_seconds:.2f} s, R_s {art_rate:.3f}")

        _batched(classifier, max_iter=1).compute_noise(x[:BATCH_SIZE], np.full(BATCH_SIZE, TARGET))  # trace
        reach = _batched(classifier, max_iter=50, target_rate=max(art_rate, 1e-6))
        start = time.perf_counter()
        reach.compute_noise(x, np.full(len(x), TARGET))
        reach_seconds = time.perf_counter() - start
        print(
            f"batched attack reached R_s {reach.targeted_success_rate:.3f} (>= ART's {art_rate:.3f}) in "
            f"{reach_seconds:.2f} s, {len(reach.history)} pass(es): speed-up {art_seconds / reach_seconds:.1f}x "
            f"(target >= 10x)"
        )

        # 2. Time per pass against one batched forward + backward pass.
        passes = 3
        timed = _batched(classifier, max_iter=passes, target_rate=1.0)
        start = time.perf_counter()
        timed.compute_noise(x, np.full(len(x), TARGET))
        per_pass = (time.perf_counter() - start) / len(timed.history)
        forward_backward = _forward_backward_seconds(classifier, x)
        print(
            f"batched attack: {per_pass:.3f} s per pass (update + rate evaluation); one compiled forward+backward "
            f"pass: {forward_backward:.3f} s; ratio {per_pass / forward_backward:.2f} (target <= 1.5)"
        )

        # 3. Rates at equal time (ART's).
        equal = _batched(classifier, max_iter=1000, target_rate=1.0, time_budget=art_seconds)
        equal.compute_noise(x, np.full(len(x), TARGET))
        print(
            f"at ART's time ({art_seconds:.2f} s): ART R_s {art_rate:.3f}, batched R_s "
            f"{equal.targeted_success_rate:.3f} after {len(equal.history)} pass(es)"
        )

        # 4. Peak memory streaming a large HDF5 file.
        free = shutil.disk_usage(workdir).free
        if free < 1.5 * h5_bytes:
            print(f"HDF5 streaming skipped: {free / 1e9:.1f} GB free, need {1.5 * h5_bytes / 1e9:.1f} GB")
            return
        n_stream = int(h5_bytes // (np.prod(IMAGE_SHAPE) * 4)) + 1
        h5_path = workdir / "stream.h5"
        start = time.perf_counter()
        _write_hdf5(h5_path, n_stream, x)
        size_gb = h5_path.stat().st_size / 1e9
        print(f"wrote {h5_path.name}: {n_stream} images, {size_gb:.2f} GB in {time.perf_counter() - start:.0f} s"
              + (" (smaller than the 4 GB target size)" if size_gb < 4.0 else ""))
        child = subprocess.run(
            [sys.executable, __file__, "--stream-child", str(h5_path), str(workdir / "model.weights.h5")],
            capture_output=True, text=True, check=True,
        )
        line = next(l for l in child.stdout.splitlines() if l.startswith("STREAM"))
        fields = dict(item.split("=") for item in line.split()[1:])
        print(
            f"streamed {fields['images']} images ({size_gb:.2f} GB) through one pass in {fields['seconds']} s: "
            f"peak RSS {float(fields['peak']):.2f} GB (after loading TF and the model: "
            f"{float(fields['rss_before']):.2f} GB) (target < 2 GB)"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
