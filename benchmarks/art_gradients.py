"""Gradient speed of ``art_medical.models.to_art`` against ART's own Keras wrappers.

Measures, on the same 16 synthetic 32x32 chest X-rays and the same small CNN:
calls per second of ``loss_gradient`` and ``class_gradient`` (all classes, and one label per image)
through our CompiledKerasClassifier, ART's KerasClassifier and ART's TensorFlowV2Classifier, and the
wall time of ART's Carlini & Wagner L-inf and DeepFool attacks through ours and KerasClassifier.
Prints ratios against KerasClassifier measured in the same run.

    python benchmarks/art_gradients.py --quick    # about 2-4 minutes on 2 CPU cores
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from art.attacks.evasion import CarliniLInfMethod, DeepFool  # noqa: E402
from art.estimators.classification import KerasClassifier, TensorFlowV2Classifier  # noqa: E402

from art_medical.data.synthetic import make_chest_xray_phantoms  # noqa: E402
from art_medical.models import SmallCNN, to_art  # noqa: E402


def calls_per_second(function, min_seconds: float) -> float:
    """Calls per second of ``function`` after one warm-up call, timed for at least ``min_seconds``."""
    function()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        function()
        calls += 1
    return calls / (time.perf_counter() - start)


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def trained_small_cnn(seed: int) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """A SmallCNN trained briefly on 120 phantoms; returns it with the 16 benchmark images and labels."""
    x, y, _ = make_chest_xray_phantoms(40, size=32, channels=1, seed=seed)
    keras.utils.set_random_seed(seed)
    model = SmallCNN(input_shape=(32, 32, 1), classes=3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=10, batch_size=16, verbose=0)
    order = np.random.default_rng(seed).choice(len(x), 16, replace=False)
    return model, x[order], y[order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short timings and a reduced C&W search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    min_seconds = 1.0 if args.quick else 3.0
    carlini_params = {"max_iter": 1, "largest_const": 4e-5} if args.quick else {"max_iter": 10}

    print(f"device: {tf.config.list_logical_devices('GPU') or 'CPU'}; TF {tf.__version__}, Keras {keras.__version__}")
    model, x, y = trained_small_cnn(args.seed)
    labels_onehot = np.eye(3, dtype=np.float32)[y]
    ours = to_art(model, clip_values=(0.0, 255.0))
    baselines = {
        "KerasClassifier": KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False),
        "TensorFlowV2Classifier": TensorFlowV2Classifier(
            model, nb_classes=3, input_shape=(32, 32, 1), clip_values=(0.0, 255.0),
            loss_object=keras.losses.CategoricalCrossentropy(),
        ),
    }
    estimators = {"ours (to_art)": ours, **baselines}
    per_label = np.arange(16) % 3
    operations = {
        "loss_gradient": lambda c: c.loss_gradient(x, labels_onehot),
        "class_gradient (all classes)": lambda c: c.class_gradient(x),
        "class_gradient (label per image)": lambda c: c.class_gradient(x, label=per_label),
    }
    print("\n16 images 32x32x1, SmallCNN, calls per second (ratio vs KerasClassifier):")
    for operation, call in operations.items():
        rates = {name: calls_per_second(lambda c=c: call(c), min_seconds) for name, c in estimators.items()}
        reference = rates["KerasClassifier"]
        row = ", ".join(f"{name} {rate:8.1f}/s (x{rate / reference:5.1f})" for name, rate in rates.items())
        print(f"  {operation:34s} {row}")

    print(f"\nART attacks on the same 16 images, wall seconds (C&W L-inf params {carlini_params}):")
    for attack_name, make_attack in {
        "CarliniLInfMethod": lambda c: CarliniLInfMethod(c, verbose=False, **carlini_params),
        "DeepFool": lambda c: DeepFool(c, max_iter=100, batch_size=16, verbose=False),
    }.items():
        ours_seconds = seconds(lambda: make_attack(ours).generate(x))
        print(f"  {attack_name:18s} ours {ours_seconds:7.2f} s", end="", flush=True)
        keras_seconds = seconds(lambda: make_attack(baselines["KerasClassifier"]).generate(x))
        print(f", KerasClassifier {keras_seconds:7.2f} s, speed-up x{keras_seconds / ours_seconds:.1f}", flush=True)


if __name__ == "__main__":
    main()
