"""FGSM epsilon sweep (study 003) against ART's FGSM run once per budget.

On the same small CNN and synthetic chest X-rays, for the 11 budgets of study 003's Table 4 on the [0, 1] scale
(x 255 on the 0-255 model): ``FastGradientSweep.sweep`` (one gradient pass, one prediction pass per budget)
against ``FastGradientMethod(eps=255 * e).generate`` followed by ``predict`` on its output, per budget. Both run
through the same classifier, ART's ``KerasClassifier`` and ``models.to_art``'s, after the same warm-up on a few
images; the gradient labels are the true labels (``--labels predicted``: none given, so both predict them, as
ART does by default). Prints both times, the ratio, whether the adversarial predictions are identical, and the
sweep's floor: one gradient pass plus one prediction pass per budget and one on the clean images, timed alone.
The speed-up cannot exceed ``n_eps * (G + P) / (G + (n_eps + 1) * P)`` (``G``, ``P``: one gradient and one
prediction pass; about 2.5x for G = 2P), or ``n_eps * (G + 2P) / (G + (n_eps + 1) * P)`` with predicted labels.

    python benchmarks/fgsm_sweep.py --quick    # about 1-2 minutes on 2 CPU cores
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from art.attacks.evasion import FastGradientMethod  # noqa: E402
from art.estimators.classification import KerasClassifier  # noqa: E402

from art_medical.attacks import FastGradientSweep  # noqa: E402
from art_medical.attacks.evasion.fgsm_sweep import STUDY003_TABLE4_EPSILONS  # noqa: E402
from art_medical.data.synthetic import make_chest_xray_phantoms  # noqa: E402
from art_medical.models import SmallCNN, to_art  # noqa: E402


def art_per_budget(classifier, x: np.ndarray, y: np.ndarray | None, batch_size: int) -> np.ndarray:
    """ART's FGSM once per budget, then the predictions on its adversarial images: ``(n_eps, n, K)``."""
    outputs = []
    for eps in STUDY003_TABLE4_EPSILONS:
        attack = FastGradientMethod(classifier, norm=np.inf, eps=eps * 255.0, batch_size=batch_size)
        outputs.append(classifier.predict(attack.generate(x, y=y), batch_size=batch_size))
    return np.stack(outputs)


def sweep(classifier, x: np.ndarray, y: np.ndarray | None, batch_size: int) -> np.ndarray:
    """The sweep's predictions at every budget: ``(n_eps, n, K)``."""
    attack = FastGradientSweep(classifier, STUDY003_TABLE4_EPSILONS, eps_scale="unit", batch_size=batch_size,
                               verbose=False)
    return attack.sweep(x, y).adv_probs


def floor(classifier, x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    """One loss-gradient pass and ``n_eps + 1`` prediction passes in batches of ``batch_size``, nothing else."""
    labels = np.eye(classifier.nb_classes, dtype=np.float32)[y]
    for start in range(0, len(x), batch_size):
        classifier.loss_gradient(x[start:start + batch_size], labels[start:start + batch_size])
    for _ in range(len(STUDY003_TABLE4_EPSILONS) + 1):
        for start in range(0, len(x), batch_size):
            classifier.predict(x[start:start + batch_size], batch_size=batch_size)


def timed(function, *args):
    """Wall seconds of ``function(*args)`` and its result."""
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="129 test images of 64x64 instead of 513")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32, help="FGSM batch size (ART's default 32)")
    parser.add_argument("--labels", choices=("true", "predicted"), default="true",
                        help="gradient labels: the true ones, or none given (the clean predictions)")
    args = parser.parse_args()
    x_train, y_train, _ = make_chest_xray_phantoms(100, size=64, channels=1, seed=args.seed)
    x, y, _ = make_chest_xray_phantoms(43 if args.quick else 171, size=64, channels=1, seed=args.seed + 1)
    keras.utils.set_random_seed(args.seed)
    model = SmallCNN(input_shape=x.shape[1:], classes=3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy")
    model.fit(x_train, keras.utils.to_categorical(y_train, 3), epochs=15, batch_size=32, verbose=0)
    labels = y if args.labels == "true" else None
    print(f"{len(x)} test images {x.shape[1]}x{x.shape[2]}, SmallCNN, {len(STUDY003_TABLE4_EPSILONS)} budgets "
          f"(study 003 Table 4, x 255), batch {args.batch_size}, {args.labels} labels")

    classifiers = {
        "KerasClassifier": KerasClassifier(model, clip_values=(0.0, 255.0), use_logits=False),
        "to_art": to_art(model, batch_size=args.batch_size),
    }
    for name, classifier in classifiers.items():
        warm = None if labels is None else labels[:8]
        art_per_budget(classifier, x[:8], warm, args.batch_size)
        sweep(classifier, x[:8], warm, args.batch_size)
        floor(classifier, x[:8], y[:8], args.batch_size)
        art_seconds, art_probs = timed(art_per_budget, classifier, x, labels, args.batch_size)
        sweep_seconds, sweep_probs = timed(sweep, classifier, x, labels, args.batch_size)
        floor_seconds, _ = timed(floor, classifier, x, y, args.batch_size)
        same_labels = np.array_equal(np.argmax(art_probs, axis=-1), np.argmax(sweep_probs, axis=-1))
        accuracies = (np.argmax(sweep_probs, axis=-1) == y).mean(axis=1)
        print(f"  {name:16s} ART FGSM per budget {art_seconds:7.2f} s, sweep {sweep_seconds:6.2f} s, "
              f"speed-up x{art_seconds / sweep_seconds:.1f}; sweep / floor {sweep_seconds / floor_seconds:.2f} "
              f"(floor {floor_seconds:.2f} s); adversarial predictions identical: {same_labels} "
              f"(max |prob diff| {np.abs(art_probs - sweep_probs).max():.1e}); accuracy "
              f"{accuracies[0]:.3f} (eps 0.0001) .. {accuracies[-1]:.3f} (eps 0.01)", flush=True)


if __name__ == "__main__":
    main()
