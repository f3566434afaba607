"""Attack shards: merged shards equal one run, records, saving, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from art_medical.attacks.presets import build_attack
from art_medical.attacks.shards import AttackShard, merge_shards, run_attack_shard
from art_medical.metrics import accuracy
from art_medical.models import to_art


@pytest.fixture(scope="module")
def classifier(trained_cnn):
    return to_art(trained_cnn, batch_size=32)


@pytest.fixture(scope="module")
def held_out():
    """A second data set: 60 phantoms of another seed."""
    from art_medical.data.synthetic import make_chest_xray_phantoms

    return make_chest_xray_phantoms(20, size=32, channels=1, seed=1)


@pytest.mark.parametrize("name,overrides,attack_labels", [
    ("fgsm", {"eps": 0.02}, "predicted"),
    ("pgd", {"eps": 0.02, "eps_step": 0.005, "max_iter": 10}, "true"),
])
def test_merged_shards_equal_one_run(classifier, phantoms, held_out, name, overrides, attack_labels):
    for x, y, _ in (phantoms, held_out):
        preset = build_attack(name, classifier, **overrides)
        whole = run_attack_shard(preset, classifier, x, y, batch_size=16, attack_labels=attack_labels, verbose=False)
        parts = [run_attack_shard(preset, classifier, x, y, start, stop, batch_size=16, attack_labels=attack_labels,
                                  verbose=False) for start, stop in ((32, 48), (0, 32), (48, len(x)))]
        assert len(x) > 48
        merged = merge_shards(parts)
        for key in ("y_true", "clean_probs", "adv_probs", "linf"):
            np.testing.assert_array_equal(getattr(merged, key), getattr(whole, key), err_msg=key)
        assert (merged.start, merged.stop, merged.attack) == (0, len(x), name)
        assert merged.params == whole.params and merged.params["attack_labels"] == attack_labels
        assert merged.adversarial_accuracy == accuracy(y, whole.adv_probs) < merged.clean_accuracy - 0.2
        x_adv = preset.generate(x, None if attack_labels == "predicted" else y)
        np.testing.assert_array_equal(whole.adv_probs, classifier.predict(x_adv, batch_size=16))
        assert np.max(whole.linf) <= 0.02 * 255.0 + 1e-4


def test_spatial_shard_records_its_rotation(classifier, phantoms):
    x, y, _ = phantoms
    preset = build_attack("spatial", classifier, num_rotations=7)
    shards = [run_attack_shard(preset, classifier, x, y, 0, 60, verbose=False),
              run_attack_shard(preset, classifier, x, y, 60, None, verbose=False)]
    for shard in shards:
        (choice,) = shard.info
        assert choice["rotation"] in np.linspace(-30, 30, 7) and choice["translation_x"] == 0
        predictions = np.argmax(shard.clean_probs, axis=1)
        assert choice["fooling_rate"] == np.mean(np.argmax(shard.adv_probs, axis=1) != predictions)
    assert merge_shards(shards).info == [shards[0].info[0], shards[1].info[0]]


def test_save_load_round_trip_and_summary(classifier, phantoms, tmp_path):
    x, y, _ = phantoms
    shard = run_attack_shard(build_attack("fgsm", classifier), classifier, x, y, 8, 40, verbose=False)
    path = shard.save(tmp_path / "cells" / "fgsm_8_40.npz")
    loaded = AttackShard.load(path)
    for key in ("y_true", "clean_probs", "adv_probs", "linf"):
        np.testing.assert_array_equal(getattr(loaded, key), getattr(shard, key))
    assert (loaded.attack, loaded.params, loaded.start, loaded.stop, loaded.seconds) == (
        "fgsm", shard.params, 8, 40, shard.seconds)
    summary = loaded.summary()
    assert summary["images"] == 32 and summary["params"]["eps"] == 76.5
    assert summary["adversarial_accuracy"] == accuracy(y[8:40], shard.adv_probs)
    assert sorted(p.name for p in path.parent.iterdir()) == ["fgsm_8_40.npz"]
    (tmp_path / "bad.npz").write_bytes(b"not a shard")
    with pytest.raises(ValueError, match="not an attack shard"):
        AttackShard.load(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        AttackShard.load(tmp_path / "missing.npz")


def test_bad_input_names_the_problem(classifier, phantoms):
    x, y, _ = phantoms
    fgsm = build_attack("fgsm", classifier)
    for start, stop in ((-1, 10), (10, 10), (0, len(x) + 1)):
        with pytest.raises(ValueError, match="non-empty range"):
            run_attack_shard(fgsm, classifier, x, y, start, stop, verbose=False)
    with pytest.raises(ValueError, match="attack_labels"):
        run_attack_shard(fgsm, classifier, x, y, attack_labels="targets", verbose=False)
    with pytest.raises(ValueError, match="samples"):
        run_attack_shard(fgsm, classifier, x, y[:-1], verbose=False)
    first = run_attack_shard(fgsm, classifier, x, y, 0, 16, verbose=False)
    gap = run_attack_shard(fgsm, classifier, x, y, 32, 48, verbose=False)
    with pytest.raises(ValueError, match="leave a gap"):
        merge_shards([first, gap])
    with pytest.raises(ValueError, match="overlap"):
        merge_shards([first, run_attack_shard(fgsm, classifier, x, y, 8, 24, verbose=False)])
    other = run_attack_shard(build_attack("fgsm", classifier, eps=0.01), classifier, x, y, 16, 32, verbose=False)
    with pytest.raises(ValueError, match="was made by"):
        merge_shards([first, other])
    with pytest.raises(ValueError, match="No shards"):
        merge_shards([])
