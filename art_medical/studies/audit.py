"""``art-medical audit``: the UAP protocol against a model you already have, on your own images.

The model (``.keras`` / ``.h5``) is attacked as it is: nothing is trained. Its input scale comes from its model
card or from ``input_scale``, never guessed; its class order from the card, from ``classes``, or else from the
sorted folder names (said aloud). The images (one sub-folder per class, or a CSV of ``file,label``) are split,
stratified and seeded, into the images the UAPs are computed on and held-out images they are evaluated on. The
grid: non-targeted and targeted (per class) UAPs with random controls over zeta and p = 2 / inf, with the fast
batched UAP by default or the studies' exact algorithm. The run folder and report are those of the studies.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from art_medical.studies.config import ConfigError
from art_medical.studies.registry import StudyDefinition, StudyResult, run_protocol
from art_medical.studies.uap import UAPStudyRun
from art_medical.studies.specs import INPUT_SCALES
from art_medical.studies.uap_config import parse_uap_config


def _model_facts(model_path: Path) -> tuple[tuple[int, ...], Any]:
    """The model's input shape and its card (None without one); the file is loaded once to read its shape."""
    from art_medical.models import load_model

    model, card = load_model(model_path)
    return tuple(model.input_shape[1:]), card


def audit_config(
    model: str | Path,
    data: str | Path,
    *,
    classes: list[str] | None = None,
    input_scale: str | None = None,
    size: int | None = None,
    holdout: float = 0.5,
    zetas: tuple[float, ...] = (0.02, 0.04),
    norms: tuple[str, ...] = ("2", "inf"),
    targets: list[str] | None = None,
    exact: bool = False,
    max_iter: int | None = None,
    uap_images: int | None = None,
    seed: int = 0,
) -> tuple[dict[str, Any], Path, list[str]]:
    """The audit's configuration, its data root and notes to show; checks the model and the data source.

    :param model: The saved Keras model.
    :param data: A folder with one sub-folder of images per class, or a CSV file of ``file,label`` rows.
    :param classes: The model's classes in output order (default: its card's, else the sorted folder names).
    :param input_scale: What the model takes: ``"0-255"``, ``"0-1"`` or ``"-1-1"`` (default: its card's; the
        package's own models take 0-255).
    :param size: Side of the square model input, for models whose input size is not fixed.
    :param holdout: Share of the images held out to evaluate the UAPs (stratified).
    :param targets: Target classes of the targeted UAPs (default: every class; ``[]`` for none).
    :param exact: The studies' exact iterative algorithm instead of the batched UAP.
    :param max_iter: Passes over the images (default 15 exact, 10 batched).
    """
    model, data = Path(model).expanduser().resolve(), Path(data).expanduser().resolve()
    if not model.is_file():
        raise FileNotFoundError(f"--model: model file not found: {model}")
    if not data.exists():
        raise FileNotFoundError(f"--data: no such folder or CSV file: {data}")
    shape, card = _model_facts(model)
    scale = input_scale or (card.input_scale if card is not None else None)
    if scale is None:
        raise ConfigError(f"{model.name} has no model card beside it: state the pixel range it takes with "
                          f"--input-scale ({' / '.join(INPUT_SCALES)}); the attacks work on 0-255 pixels.")
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise ConfigError(f"The model takes input of shape {shape}; the audit needs images (height, width, 1 or 3).")
    height, width, channels = shape
    if height is None or width is None:
        if size is None:
            raise ConfigError("The model's input size is not fixed: give the image side with --size.")
        height = width = size
    elif size is not None and size != height:
        raise ConfigError(f"--size {size} differs from the model's input {height}x{width}.")
    if height != width:
        raise ConfigError(f"The model takes {height}x{width} images; the image loaders give square images only.")
    notes = []
    classes = classes or (list(card.classes) if card is not None else None)
    if classes is None:
        notes.append("The model's class order is taken as the sorted folder / label names (Keras's "
                      "image_dataset_from_directory order); give --classes in output order if it differs.")
    loader = "image_csv" if data.suffix.lower() == ".csv" else "image_folders"
    if classes and loader == "image_folders":
        _check_class_folders(data, classes)
    options = {"size": int(height), "channels": int(channels), "test_fraction": holdout}
    if classes:
        options["classes"] = list(classes)
    dataset = {"loader": loader, "path": data.name, "options": options, "title": data.name}
    if targets is not None:
        dataset["targets"] = list(targets)
    uap = {"algorithm": "exact" if exact else "batched", "zetas": list(zetas), "norms": list(norms),
           "targeted": targets != [], "max_iter": max_iter or (15 if exact else 10), "uap_images": uap_images}
    config = {
        "study": "audit",
        "title": f"Audit of {model.name} with UAPs",
        "seed": seed,
        "datasets": {"data": dataset},
        "models": {"model": {"file": str(model), "input_scale": scale, "title": model.name, "classes": classes}},
        "uap": uap,
    }
    return config, data.parent, notes


def _check_class_folders(data: Path, classes: list[str]) -> None:
    """Every class needs its folder (matched case-insensitively, as the loader does)."""
    from art_medical.data.folders import class_folder_names

    found = class_folder_names(data)
    missing = [name for name in classes if name.lower() not in {folder.lower() for folder in found}]
    if missing:
        raise ConfigError(f"--classes: no folder for {missing} in {data}; its class folders are {list(found)}.")


def run_audit(out: str | Path, progress: bool = True, **arguments: Any) -> StudyResult:
    """Run (or resume) an audit into ``out``; ``arguments`` as in :func:`audit_config`."""
    config, data_root, _ = audit_config(**arguments)
    return run_protocol(DEFINITION, config, out, data_root=data_root, progress=progress)


DEFINITION = StudyDefinition(
    id="audit",
    title="Audit: UAPs against a saved model on your own images",
    reproduces="R_f / R_s tables with random controls and baselines, confusion matrices, image strips, R_f / R_s "
               "against zeta",
    configs=(),
    parse=lambda raw, base_dir: parse_uap_config(raw, "audit", base_dir),
    protocol=UAPStudyRun,
)
