"""Time ART's universal perturbation classes against art_medical's, in both of its modes, on the same model, data
and seed.

Two regimes in one run, each targeted and non-targeted:
- study: study 001's inner FGSM step (0.0024 on (x - 128) / 128, i.e. 0.3072 on 0-255), xi = 4 % of the mean L-inf
  image norm, 5 passes; few steps are accepted, so the look-ahead windows of the default mode pay off;
- many-steps: an inner FGSM step of 2.0 and 3 passes; a step is accepted at most images that take one, so every
  look-ahead window ends early.
Every attack is warmed up alike before it is timed (the same instance runs one pass on 8 images). Prints the wall
time of ART and of each mode, the speed-ups, and whether the perturbation equals ART's bit for bit. Targets
(issue 12): the default mode at least 10x ART in both regimes, the exact mode at least 3x and identical noise.

    python benchmarks/uap_speed.py            # 512 images, 64x64 (about 5 minutes on 2 CPU cores)
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
REGIMES = {"study": (STUDY_FGSM_STEP, 5), "many-steps": (2.0, 3)}  # inner FGSM step on 0-255, passes
TARGET, WARM_UP_IMAGES = 2, 8


def _train_classifier(size: int, seed: int) -> KerasClassifier:
    x, y, _ = make_chest_xray_phantoms(200, size=size, seed=seed + 1)
    keras.utils.set_random_seed(seed)
    model = SmallCNN(input_shape=x.shape[1:], classes=3, filters=8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, keras.utils.to_categorical(y, 3), epochs=10, batch_size=32, verbose=0)
    return KerasClassifier(model, clip_values=(0.0, 255.0))


def _attacks(classifier, targeted: bool, step: float, passes: int, eps: float) -> dict[str, object]:
    """ART's class for the direction and art_medical's class in its two modes, with the same parameters."""
    common = dict(delta=0.0, max_iter=passes, eps=eps, norm=np.inf)
    if targeted:
        art = ArtTargetedUAP(classifier, "fgsm", {"eps": step, "targeted": True}, **common)
    else:
        art = ArtUAP(classifier, "fgsm", {"eps": step}, verbose=False, **common)
    ours = {
        mode: TargetedUniversalPerturbation(classifier, "fgsm", {"eps": step}, verbose=False, targeted=targeted,
                                            exact=mode == "exact", **common)
        for mode in ("default", "exact")
    }
    return {"ART": art, **ours}


def _timed_run(attack, x: np.ndarray, y: np.ndarray, seed: int, passes: int) -> float:
    """Warm up (one pass on a few images), then time a full run from ``random.seed(seed)``."""
    attack.set_params(max_iter=1)
    random.seed(seed)
    attack.generate(x[:WARM_UP_IMAGES], y=y[:WARM_UP_IMAGES])
    attack.set_params(max_iter=passes)
    random.seed(seed)
    start = time.perf_counter()
    attack.generate(x, y=y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--zeta", type=float, default=0.04, help="xi as a fraction of the mean L-inf image norm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="128 images at 32x32")
    args = parser.parse_args()
    if args.quick:
        args.images, args.size = 128, 32

    classifier = _train_classifier(args.size, args.seed)
    x, _, _ = make_chest_xray_phantoms(args.images // 3 + 1, size=args.size, seed=args.seed + 2)
    x = x[: args.images]
    for n in (1, WARM_UP_IMAGES, len(x)):  # the classifier's forward pass, traced for every shape it will see
        classifier.predict(x[:n])
    clean = classifier.predict(x).argmax(axis=1)
    eps = xi_from_zeta(x, args.zeta, np.inf)
    print(f"{len(x)} images {args.size}x{args.size}, L-inf xi={eps:.2f} (zeta {args.zeta:.0%}), seed {args.seed}; "
          f"regimes: " + ", ".join(f"{name} (FGSM step {step:g}, {passes} passes)"
                                   for name, (step, passes) in REGIMES.items()))
    print(f"\n{'regime':<12}{'algorithm':<14}{'ART s':>8}{'default s':>11}{'speed-up':>10}{'exact s':>9}"
          f"{'speed-up':>10}{'exact = ART':>13}{'default max|dnoise|':>21}{'rate ART / default / exact':>29}")
    speed_ups = {"default": [], "exact": []}
    identical = []
    for regime, (step, passes) in REGIMES.items():
        for targeted in (True, False):
            attacks = _attacks(classifier, targeted, step, passes, eps)
            art_y = np.eye(3)[np.full(len(x), TARGET) if targeted else clean]
            ours_y = np.full(len(x), TARGET) if targeted else clean
            seconds = {name: _timed_run(attack, x, art_y if name == "ART" else ours_y, args.seed, passes)
                       for name, attack in attacks.items()}
            art, default, exact = attacks["ART"], attacks["default"], attacks["exact"]
            rates = [a.targeted_success_rate if targeted else a.fooling_rate for a in (art, default, exact)]
            same = bool(np.array_equal(exact.noise, art.noise))
            identical.append(same)
            for mode in speed_ups:
                speed_ups[mode].append(seconds["ART"] / seconds[mode])
            print(f"{regime:<12}{'targeted' if targeted else 'non-targeted':<14}{seconds['ART']:>8.2f}"
                  f"{seconds['default']:>11.2f}{seconds['ART'] / seconds['default']:>9.1f}x{seconds['exact']:>9.2f}"
                  f"{seconds['ART'] / seconds['exact']:>9.1f}x{str(same):>13}"
                  f"{float(np.abs(default.noise - art.noise).max()):>21.3g}"
                  f"{' / '.join(f'{rate:.3f}' for rate in rates):>29}")
    print(f"\nexact noise identical to ART's in every run: {all(identical)}")
    print(f"smallest speed-up over ART: default {min(speed_ups['default']):.1f}x (target 10x), "
          f"exact {min(speed_ups['exact']):.1f}x (target 3x)")


if __name__ == "__main__":
    main()
