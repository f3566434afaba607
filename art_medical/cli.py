"""The ``art-medical`` command line.

``art-medical demo --out runs/demo`` runs the main job (see :mod:`art_medical.demo`).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="art-medical",
        description="Universal adversarial perturbations and other ART attacks for medical-image classifiers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train a small CNN on synthetic chest X-rays and attack it with UAPs (a few minutes on 2 CPU cores)",
        description=(
            "Train a small CNN on synthetic chest X-ray phantoms (normal / pneumonia / covid), then run "
            "non-targeted and targeted UAPs at zeta 2% and 4% for p = 2 and inf, with random controls. "
            "Writes results.json, table.txt, report.md and figures/ into the output folder. Re-running into "
            "the same folder resumes: the model and finished configurations are reused."
        ),
    )
    demo.add_argument("--out", default="runs/demo", help="run folder (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="tiny sizes, for tests (about half a minute)")
    demo.add_argument("--seed", type=int, default=0, help="seed of every random choice (default: %(default)s)")
    demo.add_argument(
        "--target",
        default="covid",
        choices=("normal", "pneumonia", "covid"),
        help="target class of the targeted UAPs (default: %(default)s)",
    )
    demo.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from art_medical.demo import DemoSettings, run_demo

    settings = DemoSettings.quick(seed=args.seed) if args.quick else DemoSettings(seed=args.seed)
    run_demo(args.out, replace(settings, target=args.target))
    print(f"Results in {args.out}/ (results.json, table.txt, report.md, figures/).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``art-medical`` console script; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run_demo(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"art-medical: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
