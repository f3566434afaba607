"""Configurations are checked before anything is loaded or trained, and errors name the key."""
from __future__ import annotations

import pytest

from art_medical.data import catalog
from art_medical.demo import DEFINITION as DEMO
from art_medical.studies import CONFIG_FOLDER, STUDIES, ConfigError, read_config, run_protocol
from art_medical.studies.uap_config import parse_uap_config


def test_a_typo_in_a_key_names_it_and_suggests_the_right_one(tiny_config):
    tiny_config["uap"]["max_itr"] = 5
    with pytest.raises(ConfigError, match=r"uap\.max_itr: unknown key; did you mean 'max_iter'\?"):
        parse_uap_config(tiny_config, "demo")


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("uap", "zetas", [0.0, 0.02], r"uap\.zetas\[0\] must be > 0"),
    ("uap", "norms", ["1"], r"uap\.norms: unknown value\(s\) \['1'\]; choose from \['2', 'inf'\]"),
    ("uap", "algorithm", "fast", r"uap\.algorithm: unknown value 'fast'"),
    ("uap", "max_iter", 2.5, r"uap\.max_iter must be an integer"),
    ("training", "recipe", "study009", r"training\.recipe: unknown value 'study009'; choose from"),
])
def test_bad_values_are_named_with_the_allowed_ones(tiny_config, section, key, value, message):
    tiny_config[section][key] = value
    with pytest.raises(ConfigError, match=message):
        parse_uap_config(tiny_config, "demo")


def test_unknown_model_loader_and_loader_option_are_named(tiny_config):
    bad_model = {**tiny_config, "models": {"cnn": {"architecture": "small_cnnn"}}}
    with pytest.raises(ConfigError, match=r"models\.cnn\.architecture: unknown value 'small_cnnn'.*'small_cnn'"):
        parse_uap_config(bad_model, "demo")
    bad_loader = {**tiny_config, "datasets": {"d": {"loader": "load_covidx"}}}
    with pytest.raises(ConfigError, match=r"datasets\.d\.loader: unknown value 'load_covidx'.*Did you mean 'covidx'"):
        parse_uap_config(bad_loader, "demo")
    bad_option = {**tiny_config, "datasets": {"d": {"loader": "phantoms", "options": {"n_train": 5}}}}
    with pytest.raises(ConfigError, match=r"datasets\.d\.options\.n_train: unknown key; did you mean 'n_train_per_class'"):
        parse_uap_config(bad_option, "demo")


def test_a_config_for_another_study_is_refused(tiny_config):
    with pytest.raises(ConfigError, match="for study 'demo', but it is run as study '001'"):
        parse_uap_config(tiny_config, "001")


def test_an_unknown_target_class_is_refused_before_any_training(tiny_config, tmp_path):
    tiny_config["datasets"]["phantoms"]["targets"] = ["covdi"]
    with pytest.raises(ConfigError, match=r"unknown class\(es\) \['covdi'\]; the data's classes are \['normal', "
                                          r"'pneumonia', 'covid'\]"):
        run_protocol(DEMO, tiny_config, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_retraining_and_transfer_must_fit_the_grid(tiny_config):
    tiny_config["transfer"] = {"zetas": [0.02]}
    with pytest.raises(ConfigError, match=r"transfer: \[0.02\] are not in the UAP grid"):
        parse_uap_config(tiny_config, "demo")
    del tiny_config["transfer"]
    tiny_config["retraining"] = {"models": ["vgg"], "attacks": [{"zeta": 0.06}]}
    with pytest.raises(ConfigError, match=r"retraining\.models: unknown value\(s\) \['vgg'\]"):
        parse_uap_config(tiny_config, "demo")


def test_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Configuration file not found"):
        read_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("uap: [zetas: 0.02\n")
    with pytest.raises(ConfigError, match="bad.yaml is not valid YAML"):
        read_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        read_config(tmp_path / "list.yaml")


def test_a_dataset_on_disk_needs_a_data_root_that_exists(tiny_config, tmp_path):
    tiny_config["datasets"] = {"cxr": {"loader": "image_folders", "path": "cxr", "options": {"size": 24}}}
    with pytest.raises(ConfigError, match=r"datasets\.cxr: the loader image_folders reads a dataset from disk: "
                                          "pass --data-root"):
        run_protocol(DEMO, tiny_config, tmp_path / "run", progress=False)
    with pytest.raises(FileNotFoundError, match=r"datasets\.cxr: dataset folder not found: .*nowhere/cxr"):
        run_protocol(DEMO, tiny_config, tmp_path / "run", data_root=tmp_path / "nowhere", progress=False)


@pytest.mark.parametrize("path", sorted(CONFIG_FOLDER.glob("*.yaml")), ids=lambda path: path.stem)
def test_shipped_configurations_are_valid_and_at_the_papers_values(path):
    raw = read_config(path)
    definition = STUDIES[raw["study"]]
    assert path.name in definition.configs
    config = definition.parse(raw, path.parent)
    for dataset in config.datasets:
        classes = catalog.get_loader(dataset.loader).classes(path.parent, dataset.options)
        assert set(dataset.targets or ()) <= set(classes)
    assert config.uap.algorithm == "exact" and config.uap.max_iter == 15 and config.uap.uap_images is None
    if config.study == "000":  # FGSM eps 0.001 on [0, 1]; zeta 1 % and 2 %; R_f against the labels
        assert config.uap.fgsm_eps == pytest.approx(0.001 * 255) and config.uap.zetas == (0.01, 0.02)
        assert config.fooling_rate == "labels" and config.recipe == "covidnet"
    else:  # FGSM eps 0.0024 on (x - 128) / 128
        assert config.uap.fgsm_eps == pytest.approx(0.0024 * 128) and config.fooling_rate == "predictions"
        assert len(config.models) == 7 and config.recipe == "study001"
