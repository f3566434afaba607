"""Study 004's C&W L-inf (ART's defaults, on the [0, 1] view) through ``models.to_art`` against ART's KerasClassifier.

``presets.build_attack("cw_linf", classifier)`` runs ART's ``CarliniLInfMethod`` on the [0, 1] view of the 0-255
classifier. On the same small CNN and the same synthetic chest X-rays it is timed with ``classifier`` =
``models.to_art(model)`` (compiled class gradients) and = ART's ``KerasClassifier(model)``, each after a warm-up
on one image with a one-constant search. ``--quick`` shortens the search to 7 constants (``initial_const`` 1e-3,
``largest_const`` 0.1) instead of ART's 21 (1e-5 .. 10.5); the full run uses ART's defaults. Prints both times,
the ratio, and how far apart the two adversarial images are.

    python benchmarks/cw_to_art.py --quick    # about 2-3 minutes on 2 CPU cores
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from art.estimators.classification import KerasClassifier  # noqa: E402

from art_medical.attacks.presets import ART_DEFAULTS, build_attack  # noqa: E402
from art_medical.data.synthetic import make_chest_xray_phantoms  # noqa: E402
from art_medical.models import SmallCNN, to_art  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="7 constants instead of ART's 21")
    parser.add_argument("--images", type=int, default=2, help="images attacked (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = {"initial_const": 1e-3, "largest_const": 0.1} if args.quick else {}

    x_train, y_train, _ = make_chest_xray_phantoms(40, size=32, channels=1, seed=args.seed)
    x, _, _ = make_chest_xray_phantoms(10, size=32, channels=1, seed=args.seed + 1)
    x = x[:args.images]
    keras.utils.set_random_seed(args.seed)
    model = SmallCNN(input_shape=x.shape[1:], classes=3, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
    model.fit(x_train, keras.utils.to_categorical(y_train, 3), epochs=20, batch_size=16, verbose=0)
    print(f"C&W L-inf on {len(x)} images 32x32, SmallCNN, eps_scale 'unit' ([0, 1] view), "
          f"parameters {({**ART_DEFAULTS['cw_linf'], **settings})}")

    results = {}
    classifiers = {"to_art": to_art(model), "KerasClassifier": KerasClassifier(model, clip_values=(0.0, 255.0))}
    for name, classifier in classifiers.items():
        build_attack("cw_linf", classifier, initial_const=1.0, largest_const=1.5).generate(x[:1])
        preset = build_attack("cw_linf", classifier, **settings)
        start = time.perf_counter()
        x_adv = preset.generate(x)
        seconds = time.perf_counter() - start
        predictions = np.argmax(classifiers["to_art"].predict(x_adv), axis=1)
        results[name] = (seconds, x_adv, predictions)
        linf = ", ".join(f"{value:.2f}" for value in np.abs(x_adv - x).reshape(len(x), -1).max(axis=1))
        print(f"  {name:16s} {seconds:8.2f} s ({seconds / len(x):.2f} s per image); L-inf per image [{linf}] "
              "grey levels", flush=True)
    (ours, x_ours, p_ours), (keras_seconds, x_keras, p_keras) = results["to_art"], results["KerasClassifier"]
    print(f"  speed-up x{keras_seconds / ours:.1f}; max |x_adv difference| {np.abs(x_ours - x_keras).max():.2e}; "
          f"same adversarial predictions: {np.array_equal(p_ours, p_keras)}")


if __name__ == "__main__":
    main()
