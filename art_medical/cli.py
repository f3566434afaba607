"""The ``art-medical`` command line: ``demo``, ``study`` and ``audit``.

- ``art-medical demo`` runs the main job on built-in synthetic data (see :mod:`art_medical.demo`).
- ``art-medical study --list`` lists the studies; ``art-medical study 001 --config FILE --data-root DIR --out DIR``
  runs one (``--smoke`` for a few-minute run on phantom data written in the study's layout).
- ``art-medical audit --model my.keras --data DIR --out DIR`` attacks a model you already have.

Every run writes the same run-folder layout and resumes: run the same command again after an interruption.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

EXIT_ERROR, EXIT_FAILED_CELLS, EXIT_INTERRUPTED = 2, 1, 130


def _quiet_start_up() -> None:
    """No TensorFlow / ART start-up banners in normal output; warnings as one line each.

    TensorFlow's C++ runtime writes its banners to the standard error before its log level applies, so the
    libraries are imported with file descriptor 2 pointed at /dev/null.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", message="PyTorch not found")
    warnings.filterwarnings("ignore", module="keras")
    warnings.formatwarning = lambda message, *args, **kwargs: f"art-medical: warning: {message}\n"
    sys.stderr.flush()
    devnull, saved = os.open(os.devnull, os.O_WRONLY), os.dup(2)
    os.dup2(devnull, 2)
    try:
        import art.estimators.classification  # noqa: F401
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _floats(text: str) -> list[float]:
    try:
        return [float(item) for item in _comma_list(text)]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.02,0.04, got {text!r}") from error


def _build_parser() -> argparse.ArgumentParser:
    from art_medical.studies import STUDIES

    parser = argparse.ArgumentParser(
        prog="art-medical",
        description="Universal adversarial perturbations and other ART attacks for medical-image classifiers.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train a small CNN on synthetic chest X-rays and attack it with UAPs (a few minutes)",
        description="Train a small CNN on synthetic chest X-ray phantoms (normal / pneumonia / covid), then run "
                    "non-targeted and targeted UAPs at zeta 2%% and 4%% for p = 2 and inf, with random controls. "
                    "Writes tables/, figures/ and report.md into the output folder; running again resumes.")
    demo.add_argument("--out", default="runs/demo", help="run folder (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="tiny sizes, for tests (about half a minute)")
    demo.add_argument("--seed", type=int, default=0, help="seed of every random choice (default: %(default)s)")
    demo.add_argument("--target", default="covid", choices=("normal", "pneumonia", "covid"),
                      help="target class of the targeted UAPs (default: %(default)s)")

    study = commands.add_parser(
        "study", help="run one of the studies' protocols on your data (or --smoke on phantom data)",
        description="Run (or resume) a study's protocol into a run folder: per-cell JSON records, one CSV per "
                    "paper table, figures and report.md. `art-medical study --list` shows the studies.")
    study.add_argument("id", nargs="?", choices=sorted(STUDIES), metavar="ID", help=f"study: {', '.join(STUDIES)}")
    study.add_argument("--list", action="store_true", help="list the studies, their configs and what they reproduce")
    study.add_argument("--config", help="configuration: a YAML file, or the name of one in experiments/configs/")
    study.add_argument("--data-root", type=Path, help="the folder the configuration's dataset paths are below")
    study.add_argument("--smoke", action="store_true",
                       help="a few-minute run on phantom data written in the study's dataset layout")
    study.add_argument("--out", type=Path, help="run folder (default: runs/<study>_<config name>)")
    study.add_argument("--engine", default="local", choices=("local",), help="where cells run (default: local)")

    audit = commands.add_parser(
        "audit", help="attack a saved Keras model with UAPs on your own images",
        description="Load a saved Keras model (.keras / .h5), read a folder of images (one sub-folder per class) or "
                    "a CSV of file,label rows, hold out a share of the images, compute non-targeted and targeted "
                    "UAPs with random controls over zeta and p = 2 / inf, and write the studies' report.")
    audit.add_argument("--model", required=True, type=Path, help="the saved model (.keras or .h5)")
    audit.add_argument("--data", required=True, type=Path, help="folder of class sub-folders, or a CSV file,label")
    audit.add_argument("--out", required=True, type=Path, help="run folder (created; an existing one resumes)")
    audit.add_argument("--classes", type=_comma_list, help="the model's classes in output order, comma-separated "
                                                           "(default: its model card's, else sorted folder names)")
    audit.add_argument("--input-scale", choices=("0-255", "0-1", "-1-1"),
                       help="pixel range the model takes (default: its model card's; required without one)")
    audit.add_argument("--size", type=int, help="image side, for models whose input size is not fixed")
    audit.add_argument("--holdout", type=float, default=0.5,
                       help="share of the images held out to evaluate the UAPs (default: %(default)s)")
    audit.add_argument("--zetas", type=_floats, default=[0.02, 0.04],
                       help="UAP sizes as fractions of the mean image norm (default: 0.02,0.04)")
    audit.add_argument("--norms", type=_comma_list, default=["2", "inf"], help="p of the UAPs (default: 2,inf)")
    audit.add_argument("--targets", default="all",
                       help="target classes of targeted UAPs: all, none or comma-separated names (default: all)")
    audit.add_argument("--exact", action="store_true",
                       help="the studies' exact iterative algorithm (slower) instead of the batched UAP")
    audit.add_argument("--passes", type=int, help="passes over the images (default: 10 batched, 15 exact)")
    audit.add_argument("--uap-images", type=int, help="compute the UAPs on at most this many images")
    audit.add_argument("--seed", type=int, default=0, help="seed of the split and the attacks (default: 0)")

    for command in (demo, study, audit):
        command.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    return parser


def _list_studies() -> int:
    from art_medical.demo import DEFINITION as DEMO
    from art_medical.studies import STUDIES

    for definition in [*STUDIES.values(), DEMO]:
        print(f"{definition.id}: {definition.title}")
        print(f"    reproduces: {definition.reproduces}")
        for path in definition.config_paths():
            print(f"    config: {path}")
        if definition.smoke is not None:
            print(f"    smoke run: art-medical study {definition.id} --smoke" if definition.id != "demo"
                  else "    run: art-medical demo")
        if definition.gpu_time:
            print(f"    full preset on a GPU: {definition.gpu_time}")
    return 0


def _config_path(name: str) -> Path:
    from art_medical.studies import CONFIG_FOLDER

    path = Path(name).expanduser()
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        return path
    return CONFIG_FOLDER / f"{name}.yaml"


def _run_study(args: argparse.Namespace) -> int:
    from art_medical.studies import STUDIES, read_config, run_protocol

    if args.list:
        return _list_studies()
    if args.id is None:
        raise ValueError("name a study (art-medical study 001 ...) or use --list.")
    definition = STUDIES[args.id]
    if args.smoke:
        if args.config or args.data_root:
            raise ValueError("--smoke writes its own phantom data and configuration: drop --config and --data-root.")
        config, write_data = definition.smoke()
        out = args.out or Path("runs") / f"study{args.id}_smoke"
        data_root = out / "phantom_data"
        result = run_protocol(definition, config, out, data_root=data_root, engine=args.engine,
                              prepare_data=lambda folder: write_data(data_root))
    else:
        if not args.config:
            raise ValueError(f"give --config (one of {[p.name for p in definition.config_paths()]} or your own "
                             "YAML file) and --data-root, or --smoke.")
        path = _config_path(args.config)
        config = read_config(path)
        out = args.out or Path("runs") / f"study{args.id}_{path.stem}"
        result = run_protocol(definition, config, out, data_root=args.data_root, base_dir=path.parent,
                              engine=args.engine)
    return _finish(result)


def _run_audit(args: argparse.Namespace) -> int:
    from art_medical.studies.audit import DEFINITION, audit_config
    from art_medical.studies.registry import run_protocol

    targets = None if args.targets == "all" else [] if args.targets == "none" else _comma_list(args.targets)
    config, data_root, notes = audit_config(
        args.model, args.data, classes=args.classes, input_scale=args.input_scale, size=args.size,
        holdout=args.holdout, zetas=tuple(args.zetas), norms=tuple(args.norms), targets=targets, exact=args.exact,
        max_iter=args.passes, uap_images=args.uap_images, seed=args.seed)
    for note in notes:
        print(note)
    return _finish(run_protocol(DEFINITION, config, args.out, data_root=data_root))


def _run_demo(args: argparse.Namespace) -> int:
    from art_medical.demo import run_demo

    return _finish(run_demo(args.out, quick=args.quick, seed=args.seed, target=args.target))


def _finish(result) -> int:
    print(result.text)
    print(result.outcome.summary())
    print(f"Results in {result.out}/: report.md, tables/, figures/, cells/<key>/record.json.")
    if result.outcome.failed:
        print(f"art-medical: {len(result.outcome.failed)} cell(s) failed (errors above and in report.md); run the "
              "same command again to retry them.", file=sys.stderr)
        return EXIT_FAILED_CELLS
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``art-medical`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not {"-v", "--verbose"}.intersection(argv):
        _quiet_start_up()
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    commands = {"demo": _run_demo, "study": _run_study, "audit": _run_audit}
    out = getattr(args, "out", None)
    try:
        return commands[args.command](args)
    except (ValueError, FileNotFoundError) as error:
        print(f"art-medical: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        where = f" in {out}" if out else ""
        print(f"\nart-medical: interrupted. Every finished cell is saved{where}; run the same command again to "
              "resume.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
