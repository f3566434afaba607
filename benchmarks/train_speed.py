"""Training throughput of every registered architecture at its paper input size.

For each model: build it with random weights at the study's input shape (2 classes), compile it with
its study's optimizer, run one warm-up step (tracing), then time ``--steps`` training steps of
``--batch-size`` synthetic 0-255 images. Prints images per second, seconds per step and the ratio to
a baseline architecture measured in the same run, and the device used.

    python benchmarks/train_speed.py --quick                # 4 architectures, batch 2, 2 steps (CPU: minutes)
    python benchmarks/train_speed.py --batch-size 32        # all architectures (GPU)
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from art_medical.models import MODELS, build_model, get_recipe  # noqa: E402

QUICK_MODELS = ("small_cnn", "resnet18", "vgg16_dense64", "inception_v3_transfer")
STUDY_RECIPES = {"001": "study001", "002": "study002", "003": "study003", "004": "study004", "tests": "study003"}


def images_per_second(name: str, batch_size: int, steps: int, seed: int) -> tuple[float, float]:
    """(images per second, seconds per step) of training steps of registered model ``name``."""
    entry = MODELS[name]
    keras.utils.set_random_seed(seed)
    model = build_model(name, 2, entry.paper_input_shape)
    model.compile(optimizer=get_recipe(STUDY_RECIPES[entry.study]).make_optimizer(), loss="categorical_crossentropy")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (batch_size, *entry.paper_input_shape)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, batch_size)]
    model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    elapsed = (time.perf_counter() - start) / steps
    keras.backend.clear_session()
    return batch_size / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_MODELS)}; batch 2, 2 steps")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), help="architectures to time")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--baseline", default="resnet18", help="architecture the ratios refer to")
    parser.add_argument("--mixed-precision", action="store_true", help="mixed_float16 policy (GPU only)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.models or (QUICK_MODELS if args.quick else tuple(MODELS))
    batch_size, steps = (2, 2) if args.quick else (args.batch_size, args.steps)
    gpus = tf.config.list_logical_devices("GPU")
    if args.mixed_precision and gpus:
        keras.config.set_dtype_policy("mixed_float16")
    print(f"device: {[g.name for g in gpus] or 'CPU'}; dtype policy {keras.config.dtype_policy().name}; "
          f"batch {batch_size}, {steps} timed steps")

    results = {}
    for name in names:
        results[name] = images_per_second(name, batch_size, steps, args.seed)
        shape = "x".join(map(str, MODELS[name].paper_input_shape))
        rate, step_seconds = results[name]
        print(f"  {name:30s} {shape:>11s}  {rate:8.2f} images/s  {step_seconds:7.3f} s/step", flush=True)
    if args.baseline in results:
        reference = results[args.baseline][0]
        print(f"\nimages/s relative to {args.baseline}:")
        for name, (rate, _) in results.items():
            print(f"  {name:30s} x{rate / reference:.2f}")


if __name__ == "__main__":
    main()
