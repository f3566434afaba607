"""Saving and loading .keras / .h5 models with model cards."""
from __future__ import annotations

import json

import numpy as np
import pytest

from art_medical.models import ModelCard, build_model, load_model, load_model_card, save_model


def _card(model, **changes) -> ModelCard:
    fields = dict(
        architecture="vgg16_dense64", input_shape=model.input_shape[1:], classes=["normal", "covid"],
        recipe="study003", data={"name": "phantoms", "train": 80}, metrics={"test_accuracy": 0.5}, study="003",
    )
    return ModelCard(**{**fields, **changes})


@pytest.fixture(scope="module")
def transfer_model():
    return build_model("vgg16_dense64", 2, (32, 32, 1))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_round_trip_gives_identical_predictions_and_card(transfer_model, images, tmp_path, suffix):
    path = tmp_path / f"chest_vgg16{suffix}"
    card_file = save_model(transfer_model, path, _card(transfer_model))
    assert card_file.name == "chest_vgg16.card.json"
    loaded, card = load_model(path)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), transfer_model.predict(images, verbose=0))
    assert card.input_shape == (32, 32, 1) and card.classes == ["normal", "covid"]
    assert card.metrics == {"test_accuracy": 0.5} and card.recipe == "study003"
    assert json.loads(card_file.read_text())["architecture"] == "vgg16_dense64"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, card_file.name])


def test_save_rejects_cards_that_disagree_with_the_model(transfer_model, tmp_path):
    with pytest.raises(ValueError, match="input_shape"):
        save_model(transfer_model, tmp_path / "m.keras", _card(transfer_model, input_shape=(64, 64, 1)))
    with pytest.raises(ValueError, match="classes"):
        save_model(transfer_model, tmp_path / "m.keras", _card(transfer_model, classes=["a", "b", "c"]))
    with pytest.raises(ValueError, match=r"\.keras or \.h5"):
        save_model(transfer_model, tmp_path / "m.pt", _card(transfer_model))
    assert list(tmp_path.iterdir()) == []


def test_load_reports_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.keras")
    (tmp_path / "broken.keras").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="corrupt"):
        load_model(tmp_path / "broken.keras")
    with pytest.raises(FileNotFoundError, match="card"):
        load_model_card(tmp_path / "broken.keras")
    (tmp_path / "broken.card.json").write_text("{}")
    with pytest.raises(ValueError, match="required fields"):
        load_model_card(tmp_path / "broken.keras")
