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
        ({**DIGITS, "final": {"points": 3}}, "final.points: unknown field (allowed: front)"),
        ({**DIGITS, "latency": {"batch": 0}}, "latency.batch: must be >= 1, got 0"),
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
