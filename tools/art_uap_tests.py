"""Run ART's own test modules for its universal perturbation classes with art_medical's class swapped in.

ART's ``tests/attacks/test_universal_perturbation.py`` and ``test_targeted_universal_perturbation.py`` are run
unchanged; before they are collected, ``UniversalPerturbation`` and ``TargetedUniversalPerturbation`` in ART's
modules are replaced by art_medical's ``TargetedUniversalPerturbation`` with ART's signature and defaults for each
(``UniversalPerturbation``: attacker ``"deepfool"``, non-targeted), in the default mode or with ``--exact``.

ART's tests are not installed with ART: pass a checkout of ART's repository at the installed version. They download
MNIST and Iris on first use (into ``~/.art/data``) and build TensorFlow, Keras and PyTorch classifiers, so they need
a network connection, PyTorch and ART's test requirements (``requirements_test.txt``)::

    git clone --branch 1.20.1 https://github.com/Trusted-AI/adversarial-robustness-toolbox art-1.20.1
    python tools/art_uap_tests.py art-1.20.1            # default mode; further arguments go to pytest
    python tools/art_uap_tests.py art-1.20.1 --exact    # exact mode
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ART_TEST_MODULES = (
    "tests/attacks/test_universal_perturbation.py",
    "tests/attacks/test_targeted_universal_perturbation.py",
)


def swap_in(exact: bool) -> None:
    """Replace ART's two UAP classes, where ART's test modules import them from, by art_medical's class."""
    import art.attacks.evasion
    import art.attacks.evasion.targeted_universal_perturbation as targeted_module
    import art.attacks.evasion.universal_perturbation as module

    from art_medical.attacks import TargetedUniversalPerturbation as Ours

    class UniversalPerturbation(Ours):
        """ART's ``UniversalPerturbation`` signature and defaults."""

        def __init__(self, classifier, attacker="deepfool", attacker_params=None, delta=0.2, max_iter=20, eps=10.0,
                     norm=np.inf, batch_size=32, verbose=True):
            super().__init__(classifier, attacker, attacker_params, delta, max_iter, eps, norm, batch_size, verbose,
                             targeted=False, exact=exact)

    class TargetedUniversalPerturbation(Ours):
        """ART's ``TargetedUniversalPerturbation`` signature and defaults."""

        def __init__(self, classifier, attacker="fgsm", attacker_params=None, delta=0.2, max_iter=20, eps=10.0,
                     norm=np.inf):
            super().__init__(classifier, attacker, attacker_params, delta, max_iter, eps, norm, targeted=True,
                             exact=exact)

    for owner in (module, art.attacks.evasion):
        owner.UniversalPerturbation = UniversalPerturbation
    for owner in (targeted_module, art.attacks.evasion):
        owner.TargetedUniversalPerturbation = TargetedUniversalPerturbation


def main(argv: list[str]) -> int:
    if not argv or not (Path(argv[0]) / ART_TEST_MODULES[0]).is_file():
        print(__doc__)
        return 2
    import pytest

    checkout, exact = Path(argv[0]).resolve(), "--exact" in argv[1:]
    os.chdir(checkout)
    sys.path.insert(0, str(checkout))
    swap_in(exact)
    print(f"art_medical's TargetedUniversalPerturbation in ART's tests, exact={exact}", flush=True)
    return pytest.main([*ART_TEST_MODULES, "-p", "no:cacheprovider", *(a for a in argv[1:] if a != "--exact")])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
