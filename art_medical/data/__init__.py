"""Datasets of the studies as users have them on disk, plus synthetic phantoms.

Every loader returns a :class:`Dataset` whose splits hold float32 images ``(n, size, size, channels)``
on the 0-255 pixel scale, int64 labels and the class names, split as the study did (seeded), and takes
``size``, ``channels``, ``cache_dir`` (HDF5 cache, see :mod:`art_medical.data.cache`), ``stream``
(batches read from the cache) and, for folder layouts, ``seed`` and ``on_error`` (``"raise"`` or
``"skip"`` with a :class:`SkippedFilesWarning`).
"""
from art_medical.data.chestxray14 import load_chestxray14
from art_medical.data.covidx import load_covidx, parse_split_line
from art_medical.data.dataset import Dataset, SkippedFilesWarning, Split
from art_medical.data.folders import load_covid19_xray, load_covid_ct, load_image_folders
from art_medical.data.images import ImageDecodeError
from art_medical.data.isic import load_isic2018
from art_medical.data.kermany import load_kermany_chest_xray, load_kermany_oct
from art_medical.data.medmnist import load_medmnist
from art_medical.data.splits import balanced_draw, carve_validation, random_split, stratified_holdout
from art_medical.data.stream import StreamingSplit
from art_medical.data.synthetic import make_chest_xray_phantoms
from art_medical.data.image_csv import load_image_csv
from art_medical.data.synthetic import make_phantoms
from art_medical.data.phantom_trees import phantom_loader_options, write_phantom_tree
from art_medical.data.catalog import (
    available_loaders,
    check_loader_options,
    dataset_classes,
    get_loader,
    load_dataset,
)

__all__ = [
    "Dataset",
    "ImageDecodeError",
    "SkippedFilesWarning",
    "Split",
    "StreamingSplit",
    "balanced_draw",
    "carve_validation",
    "load_chestxray14",
    "load_covid19_xray",
    "load_covid_ct",
    "load_covidx",
    "load_image_folders",
    "load_isic2018",
    "load_kermany_chest_xray",
    "load_kermany_oct",
    "load_medmnist",
    "make_chest_xray_phantoms",
    "parse_split_line",
    "random_split",
    "stratified_holdout",
    "load_image_csv",
    "make_phantoms",
    "phantom_loader_options",
    "write_phantom_tree",
    "available_loaders",
    "check_loader_options",
    "dataset_classes",
    "get_loader",
    "load_dataset",
]
