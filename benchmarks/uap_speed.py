"""Time ART's universal perturbation classes against art_medical's on the same model, data and seed.

Prints the wall time of each, the speed-up ratio and whether the perturbations are identical. Target (issue 2):
at least 3x faster than ART's TargetedUniversalPerturbation on a small CNN at 64x64 with 512 images.

    python benchmarks/uap_speed.py            # 512 images, 64x64 (a few minutes on 2 CPU cores)
    python benchmarks/uap_speed.py --quick    # 128 images, 32x32
"""
from __future__ import annotations

import argparse
import os
import random
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from art.attacks.evasion import TargetedUniversalPerturbation as ArtTargetedUAP
from art.attacks.evasion import UniversalPerturbation as ArtUAP
from art.estimators.classification import KerasClassifier

from art_medical.attacks import TargetedUniversalPerturbation
from art_medical.data.synthetic import make_chest_xray_phantoms
from art_medical.metrics import xi_from_zeta
from art_medical.models.small_cnn import SmallCNN

STUDY_FGSM_STEP = 0.0024 * 128  # study 001 scales inputs as (x - 128) / 128 and steps FGSM by 0.0024 there


def _train_classifier(size: int, seed: int) -> KerasClassifier:
    x, y, _ = make_chest_xray_phantoms(200, size=size, seed=seed + 1)
    keras.utils.set_random_seed(seed)
    model = SmallCNN(input_shape=x.shape[1:], classes=3, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=10, batch_size=32, verbose=0)
    return KerasClassifier(model, clip_values=(0.0, 255.0))


def _timed(run, seed: int) -> tuple[float, object]:
    random.seed(seed)
    start = time.perf_counter()
    attack = run()
    return time.perf_counter() - start, attack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=5)
    parser.add_argument("--zeta", type=float, default=0.04, help="xi as a fraction of the mean L-inf image norm")
    parser.add_argument("--fgsm-eps", type=float, default=STUDY_FGSM_STEP,
                        help="inner FGSM step on the 0-255 scale (default: study 001's 0.0024 on (x - 128) / 128)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="128 images at 32x32")
    args = parser.parse_args()
    if args.quick:
        args.images, args.size = 128, 32

    classifier = _train_classifier(args.size, args.seed)
    x, _, _ = make_chest_xray_phantoms(args.images // 3 + 1, size=args.size, seed=args.seed + 2)
    x = x[: args.images]
    clean = classifier.predict(x).argmax(axis=1)
    eps = xi_from_zeta(x, args.zeta, np.inf)
    targets = np.full(len(x), 2)
    common = dict(delta=0.0, max_iter=args.max_iter, eps=eps, norm=np.inf)
    print(f"{len(x)} images {args.size}x{args.size}, L-inf xi={eps:.2f} (zeta {args.zeta:.0%}), "
          f"FGSM step {args.fgsm_eps}, {args.max_iter} passes, seed {args.seed}")

    rows = []
    art_t, art = _timed(lambda: _run(ArtTargetedUAP(classifier, "fgsm", {"eps": args.fgsm_eps, "targeted": True},
                                                    **common), x, np.eye(3)[targets]), args.seed)
    our_t, ours = _timed(lambda: _run(TargetedUniversalPerturbation(
        classifier, "fgsm", {"eps": args.fgsm_eps}, verbose=False, **common), x, targets), args.seed)
    rows.append(("targeted", art_t, our_t, art, ours, art.targeted_success_rate, ours.targeted_success_rate))

    art_t, art = _timed(lambda: _run(ArtUAP(classifier, "fgsm", {"eps": args.fgsm_eps}, verbose=False, **common),
                                     x, np.eye(3)[clean]), args.seed)
    our_t, ours = _timed(lambda: _run(TargetedUniversalPerturbation(
        classifier, "fgsm", {"eps": args.fgsm_eps}, verbose=False, targeted=False, **common), x, clean), args.seed)
    rows.append(("non-targeted", art_t, our_t, art, ours, art.fooling_rate, ours.fooling_rate))

    print(f"\n{'algorithm':<14}{'ART s':>9}{'ours s':>9}{'speed-up':>10}{'max |dnoise|':>14}{'rate ART':>10}"
          f"{'rate ours':>11}")
    for kind, art_t, our_t, art, ours, art_rate, our_rate in rows:
        diff = float(np.abs(np.asarray(art.noise) - ours.noise).max())
        print(f"{kind:<14}{art_t:>9.2f}{our_t:>9.2f}{art_t / our_t:>9.1f}x{diff:>14.2e}{art_rate:>10.3f}"
              f"{our_rate:>11.3f}")
    print("\nidentical noise:", all(np.allclose(r[3].noise, r[4].noise, atol=1e-4) for r in rows))


def _run(attack, x: np.ndarray, y: np.ndarray):
    attack.generate(x, y=y)
    return attack


if __name__ == "__main__":
    main()
