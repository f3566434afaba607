"""The dataset loaders a study configuration may name, with their options and class names.

A configuration names a loader (``"kermany_chest_xray"``, ``"image_csv"``...), a root and loader
options. :func:`check_loader_options` rejects unknown options (suggesting the closest name) and
:func:`dataset_classes` gives the class names the loader will produce without decoding any image,
so that a configuration naming an unknown target class fails before any data is loaded.
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from art_medical.data import chestxray14, covidx, folders, isic, kermany
from art_medical.data.chestxray14 import load_chestxray14
from art_medical.data.covidx import load_covidx
from art_medical.data.dataset import Dataset
from art_medical.data.folders import class_folder_names, load_covid19_xray, load_covid_ct, load_image_folders
from art_medical.data.image_csv import csv_class_names, load_image_csv
from art_medical.data.isic import load_isic2018
from art_medical.data.kermany import load_kermany_chest_xray, load_kermany_oct
from art_medical.data.medmnist import load_medmnist, medmnist_class_names

ClassFinder = Callable[[Path, Mapping[str, Any]], tuple[str, ...]]


@dataclass(frozen=True)
class LoaderEntry:
    """A loader usable from a study configuration.

    :param function: The loader; its first parameter is the root (folder, CSV or ``.npz`` file).
    :param classes: ``(root, options) -> class names``, reading no image.
    :param layout: What ``root`` must hold, in a few words.
    """

    function: Callable[..., Dataset]
    classes: ClassFinder
    layout: str

    @property
    def options(self) -> tuple[str, ...]:
        """The keyword options the loader accepts (everything but the root), in signature order."""
        parameters = inspect.signature(self.function).parameters.values()
        return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def _fixed(names: tuple[str, ...], option: str | None = None) -> ClassFinder:
    """Constant class names, or those of ``options[option]`` when given."""

    def classes(root: Path, options: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(options[option]) if option is not None and options.get(option) is not None else names

    return classes


def _folder_classes(root: Path, options: Mapping[str, Any]) -> tuple[str, ...]:
    given = options.get("classes")
    return tuple(given) if given is not None else class_folder_names(root)


def _csv_classes(root: Path, options: Mapping[str, Any]) -> tuple[str, ...]:
    return csv_class_names(root, options.get("classes"))


def _medmnist_classes(root: Path, options: Mapping[str, Any]) -> tuple[str, ...]:
    return medmnist_class_names(root, class_names=options.get("class_names"),
                                any_finding=bool(options.get("any_finding", False)))


LOADERS: dict[str, LoaderEntry] = {
    "kermany_chest_xray": LoaderEntry(load_kermany_chest_xray, _fixed(kermany.CHEST_XRAY_CLASSES),
                                      "CellData/chest_xray/{train,test}/{NORMAL,PNEUMONIA}/"),
    "kermany_oct": LoaderEntry(load_kermany_oct, _fixed(kermany.OCT_CLASSES),
                               "CellData/OCT/{train,test}/{CNV,DME,DRUSEN,NORMAL}/"),
    "isic2018": LoaderEntry(load_isic2018, _fixed(isic.CLASSES),
                            "ISIC2018_Task3_Training_Input/ and the one-hot ground-truth CSV"),
    "covidx": LoaderEntry(load_covidx, _fixed(covidx.CLASSES, "classes"),
                          "train/, test/ and the split files train*.txt, test*.txt"),
    "chestxray14": LoaderEntry(load_chestxray14, _fixed(chestxray14.CLASSES),
                               "Data_Entry_2017.csv and the PNG images below the root"),
    "covid_ct": LoaderEntry(load_covid_ct, _fixed(folders.COVID_CT_CLASSES), "CT_COVID/ and CT_NonCOVID/"),
    "covid19_xray": LoaderEntry(load_covid19_xray, _fixed(folders.STUDY_004_CLASSES, "classes"),
                                "COVID-19/, Normal/, Pneumonia-Bacterial/, Pneumonia-Viral/"),
    "image_folders": LoaderEntry(load_image_folders, _folder_classes, "one folder of images per class"),
    "image_csv": LoaderEntry(load_image_csv, _csv_classes, "a CSV of file,label rows (root is the CSV)"),
    "medmnist": LoaderEntry(load_medmnist, _medmnist_classes, "a MedMNIST .npz file (root is the file)"),
}
"""Loaders by the name a study configuration uses."""


def available_loaders() -> tuple[str, ...]:
    """Names of the loaders a configuration may use, sorted."""
    return tuple(sorted(LOADERS))


def get_loader(loader_name: str) -> LoaderEntry:
    """The registry entry of ``loader_name``.

    :raises ValueError: Unknown name (the message lists the names and suggests the closest).
    """
    if loader_name not in LOADERS:
        raise ValueError(f"Unknown dataset loader {loader_name!r}{_suggestion(loader_name, LOADERS)}; "
                         f"available: {', '.join(available_loaders())}.")
    return LOADERS[loader_name]


def _suggestion(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(name), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_loader_options(loader_name: str, options: Mapping[str, Any]) -> None:
    """Reject option names ``loader_name`` does not accept.

    :raises ValueError: An unknown loader, or unknown option keys (each named, with the closest allowed
        name when one is close, and the allowed names listed).
    """
    allowed = get_loader(loader_name).options
    unknown = [key for key in options if key not in allowed]
    if unknown:
        named = ", ".join(f"{key!r}{_suggestion(key, allowed)}" for key in unknown)
        raise ValueError(f"Unknown option(s) for dataset loader {loader_name!r}: {named}; "
                         f"allowed: {', '.join(allowed)}.")


def dataset_classes(loader_name: str, root: Path | str, options: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The class names ``loader_name`` will produce for ``root`` and ``options``, decoding no image.

    Fixed layouts give their constant names (or the ``classes`` option where the loader takes one);
    ``image_folders`` lists the subfolders, ``image_csv`` reads the label column, ``medmnist`` the label
    arrays.

    :raises ValueError: Unknown loader or options, or a bad label table.
    :raises FileNotFoundError: A root that discovery needs is missing.
    """
    options = dict(options or {})
    check_loader_options(loader_name, options)
    return get_loader(loader_name).classes(Path(root).expanduser(), options)


def load_dataset(loader_name: str, root: Path | str, options: Mapping[str, Any] | None = None) -> Dataset:
    """Run ``loader_name`` on ``root`` with ``options``, after checking the option names."""
    options = dict(options or {})
    check_loader_options(loader_name, options)
    return get_loader(loader_name).function(root, **options)
