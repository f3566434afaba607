"""Tiny configurations of the UAP protocol: phantoms, a SmallCNN, one zeta (seconds per run)."""
from __future__ import annotations

import copy

import pytest

TINY = {
    "study": "demo",
    "title": "tiny UAP protocol run",
    "seed": 0,
    "datasets": {"phantoms": {"loader": "phantoms", "targets": ["covid"],
                              "options": {"n_train_per_class": 40, "n_test_per_class": 10, "size": 32}}},
    "models": {"cnn": {"architecture": "small_cnn", "options": {"filters": 16}, "title": "SmallCNN"}},
    "training": {"recipe": "phantoms", "overrides": {"learning_rate": 2e-3, "epochs": 15}},
    "uap": {"zetas": [0.06], "norms": ["inf"], "fgsm_eps": 3.0, "max_iter": 2, "uap_images": 60,
            "strip_images": 2},
}


@pytest.fixture
def tiny_config():
    """A fresh copy of the tiny configuration (tests may edit it)."""
    return copy.deepcopy(TINY)
