from __future__ import annotations

from pathlib import Path

import pytest

from nasforge.api import make_space, make_strategy
from nasforge.config import check_params, load_config, parse_config
from nasforge.exceptions import ConfigError
from nasforge.objective import Objective

DIGITS = {"data": {"builtin": "digits"}}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "data: required field is missing"),
        ({**DIGITS, "budget": {"trials": 0}}, "budget.trials: must be >= 1, got 0"),
        (
            {**DIGITS, "objective": {"metric": "auc"}},
            "objective.metric: must be one of 'accuracy', 'f1', 'loss', 'mse', 'mae' or 'r2'",
        ),
        ({"data": {"builtin": "digits", "path": "x.npz"}}, "data: give exactly one of builtin"),
        ({"data": {"builtin": "digits", "valid": 0.5, "test": 0.5}}, "data: valid + test must leave data"),
        ({**DIGITS, "colour": "red"}, "colour: unknown field (allowed: name, seed, data"),
        ({"data": {"path": "x.npz", "size": 32}}, "data: unexpected option(s) size for a file (allowed: path,"),
        ([1, 2], "config: must be a mapping"),
        ({**DIGITS, "final": {"front": 0}}, "final.front: must be >= 1, got 0"),
        ({**DIGITS, "final": {"points": 3}}, "final.points: unknown field (allowed: rerank, repeats, seeds, front)"),
        ({**DIGITS, "final": {"repeats": 0}}, "final.repeats: must be >= 1, got 0"),
        ({**DIGITS, "proxies": "nwot"}, "proxies: must be a list, got 'nwot'"),
        ({**DIGITS, "latency": {"batch": 0}}, "latency.batch: must be >= 1, got 0"),
        ({**DIGITS, "seed": 2**32}, "seed: must be <= 4294967295, got 4294967296"),
    ],
)
def test_config_errors_are_one_line_naming_the_field(raw, message):
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_builtin_options_reach_the_dataset_and_typos_fail_as_one_line():
    from nasforge.api import components_from_config
    from nasforge.exceptions import DataError

    raw = {"data": {"builtin": "synthetic", "kind": "sequence", "n": 40, "classes": 4, "shape": [2, 16]}}
    data = components_from_config(parse_config(raw))["data"]
    assert (data.input_shape, data.num_classes) == ((2, 16), 4)
    with pytest.raises(DataError, match=r"^data: unexpected option\(s\) clases for builtin 'synthetic'"):
        components_from_config(parse_config({"data": {"builtin": "synthetic", "clases": 4}}))


def test_defaults_fill_everything_but_data():
    cfg = parse_config(DIGITS)
    assert (cfg.space.type, cfg.strategy.name, cfg.train.params, cfg.objective.build().metric) == (
        "chain",
        "evolution",
        {},
        "accuracy",
    )
    assert cfg.objective.build("regression").metric == "mse"


def test_strategy_parameters_are_checked_by_name():
    with pytest.raises(ConfigError, match=r"^strategy.population: must be >= 2, got 0$"):
        make_strategy({"name": "evolution", "population": 0})
    with pytest.raises(ConfigError, match=r"^strategy.popsize: unknown parameter \(allowed: population, sample"):
        make_strategy({"name": "evolution", "popsize": 3})
    with pytest.raises(ConfigError, match="unknown strategy 'evolutoin'; did you mean 'evolution'"):
        make_strategy("evolutoin")


def test_train_parameters_are_checked_by_the_trainer():
    from nasforge.evaluators import Trainer

    with pytest.raises(ConfigError, match=r"^train.epoch: unknown parameter; did you mean 'epochs'\?"):
        check_params("train", Trainer, {"epoch": 3})
    with pytest.raises(ConfigError, match=r"^train.optimizer: must be one of"):
        check_params("train", Trainer, {"optimizer": "rmsprop"})
    with pytest.raises(ConfigError, match=r"^train.lr: must be a number in \(0, inf\), got -1$"):
        check_params("train", Trainer, {"lr": -1})


def test_space_parameters_are_checked_by_name():
    with pytest.raises(ConfigError, match=r"^space.cells: unknown parameter"):
        make_space({"type": "cell", "cells": 3}, (1, 8, 8))
    with pytest.raises(ConfigError, match="unknown space type 'cel'; did you mean 'cell'"):
        make_space("cel", (1, 8, 8))


def test_load_config_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {builtin: digits\nspace: [")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+ is not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read the config"):
        load_config(tmp_path / "missing.yaml")


def test_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "my-search.yaml"
    path.write_text("data: {builtin: digits}\n")
    assert load_config(path).name == "my-search"


def test_objective_penalty_is_checked_before_any_data_is_loaded():
    from nasforge.api import components_from_config

    config = parse_config({"data": {"path": "missing.npz"}, "objective": {"flops_penalty": 1.5}})
    with pytest.raises(ConfigError, match=r"^objective.flops_penalty: must be a number in \[0, 1\), got 1.5$"):
        components_from_config(config)
    assert parse_config(DIGITS).objective.flops_penalty == 0
    config = parse_config({"data": {"path": "missing.npz"}, "objective": {"metrics": ["accuracy", "speed"]}})
    with pytest.raises(ConfigError, match=r"^objective.metrics: each must be one of accuracy, f1, loss, mse"):
        components_from_config(config)


def test_objective_keys_build_several_objectives_or_a_penalty():
    pareto = parse_config({"data": {"builtin": "digits"}, "objective": {"metrics": ["accuracy", "params"]}})
    assert pareto.objective.build() == Objective(metrics=("accuracy", "params"), directions=("max", "min"))
    traded = parse_config({"data": {"builtin": "digits"}, "objective": {"penalty": {"params": 0.1}}})
    assert traded.objective.build().penalty == {"params": 0.1}


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_config_is_valid(path):
    config = load_config(path)
    assert config.data.builtin or config.data.path
    make_strategy({"name": config.strategy.name, **config.strategy.params})


def test_the_final_and_latency_sections_reach_the_search():
    from nasforge.api import components_from_config

    parts = components_from_config(parse_config({**DIGITS, "final": {"front": 3}, "latency": {"batch": 16}}))
    assert (parts["front"], parts["latency_batch"]) == (3, 16)
    assert (parts["rerank"], parts["repeats"], parts["seeds"]) == ("auto", 2, "auto")
    raw = {**DIGITS, "final": {"rerank": 3, "seeds": 2}, "proxies": ["nwot"], "prefilter": {"proxy": "synflow"}}
    parts = components_from_config(parse_config(raw))
    assert (parts["rerank"], parts["seeds"], parts["proxies"], parts["prefilter"]) == (
        3,
        2,
        ("nwot",),
        {"proxy": "synflow"},
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"final": {"rerank": -1}}, "final.rerank: must be 'auto', 0 or an integer >= 2, got -1"),
        ({"final": {"seeds": "many"}}, "final.seeds: must be 'auto' or an integer >= 1, got 'many'"),
        ({"proxies": ["zen"]}, "proxies: each must be one of grad_norm, snip, synflow, nwot, jacob_cov, got 'zen'"),
        ({"prefilter": {"proxy": "x"}}, "prefilter.proxy: must be one of grad_norm, snip, synflow, nwot, jacob_cov"),
        ({"train": {"augment": {"shfit": 1}}}, "train.augment: unknown key 'shfit'; allowed: shift, flip, noise"),
    ],
)
def test_proxy_and_augmentation_keys_fail_as_one_line(extra, message):
    from nasforge.api import components_from_config

    with pytest.raises(ConfigError) as info:
        components_from_config(parse_config({**DIGITS, **extra}))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "data: {builtin: digits}\nseed: 2020-13-01\n",
            "line 2 is not valid YAML ('2020-13-01' is not a valid !!timestamp)",
        ),
        ("data: {builtin: digits}\nseed: !!float\n", "line 2 is not valid YAML ('' is not a valid !!float)"),
        ("!!int\n", "line 1 is not valid YAML ('' is not a valid !!int)"),
        ("data: {builtin: digits}\nx: !!bool\n", "line 2 is not valid YAML ('' is not a valid !!bool)"),
        ("x: !!timestamp\n", "line 1 is not valid YAML ('' is not a valid !!timestamp)"),
        ("!!float =x\n", "line 1 is not valid YAML ('=x' is not a valid !!float)"),
        ("data: {builtin: digits}\nname: a\x00b\n", "line 2 is not valid YAML (character '\\x00' is not allowed)"),
    ],
)
def test_values_yaml_cannot_convert_are_config_errors_with_their_line(tmp_path, text, where):
    """PyYAML's constructors raise ValueError, IndexError, KeyError or AttributeError for these, and its reader a
    two-line message for a control character."""
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: {where}"


def test_a_config_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("data: {builtin: digits}\n# café\n".encode("latin-1"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: line 2 is not UTF-8 text (byte 0xe9); save the config as UTF-8"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({**DIGITS, "a\nb": 1}, "'a\\nb': unknown field (allowed: name, seed,"),
        ({**DIGITS, "budget": {"max trials": 1}}, "budget.'max trials': unknown field; did you mean 'trials'?"),
        ({"data": {"path": "x.npz", "a\rb": 1}}, "data: unexpected option(s) 'a\\rb' for a file (allowed: path,"),
    ],
)
def test_keys_that_are_not_plain_words_are_quoted_in_one_line(raw, message):
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    assert str(raised.value).startswith(message) and len(str(raised.value).splitlines()) == 1


def test_unknown_parameters_that_are_not_plain_words_are_quoted():
    with pytest.raises(ConfigError, match=r"^space\.'de\\npth': unknown parameter; did you mean 'depth'\? \(allowed"):
        make_space({"type": "chain", "de\npth": 2}, (1, 8, 8))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: make_space({"type": 5}, (3,)),
            "space type must be a name (a string), got 5 (choose from cell, chain)",
        ),
        (lambda: make_space({"type": [1]}, (3,)), "space type must be a name (a string), got [1] (choose from cell,"),
        (lambda: make_strategy({"name": None}), "strategy must be a name (a string), got None (choose from bananas,"),
    ],
    ids=["a number", "a list", "None"],
)
def test_a_component_name_that_is_not_a_string_is_a_config_error(make, message):
    """The Python API passes names through unchecked; the registry refuses them (difflib and hashing would not)."""
    from nasforge.spaces import SPACES

    with pytest.raises(ConfigError) as raised:
        make()
    assert str(raised.value).startswith(message)
    assert [1] not in SPACES and 5 not in SPACES and "chain" in SPACES
