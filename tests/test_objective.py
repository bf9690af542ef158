"""The objective: metric as a score to maximise, softly penalised by FLOPs as a relative cut of the error."""

from __future__ import annotations

import math

import pytest

from nasforge.exceptions import ConfigError
from nasforge.objective import Objective


def test_without_penalty_or_flops_the_score_is_the_metric():
    assert Objective(flops_penalty=0).score({"accuracy": 0.9}, {"flops": 8e6}) == 0.9
    assert Objective().score({"accuracy": 0.9}, {"flops": 8e6}) == 0.9, "the default ranks by the metric alone"
    assert Objective(flops_penalty=0.1).score({"accuracy": 0.9}, {"params": 10}) == 0.9  # a table: no FLOPs count
    assert Objective("loss", flops_penalty=0).score({"loss": 0.3}) == -0.3
    assert Objective(flops_penalty=0.1).score({"accuracy": 0.9}, {"flops": 1e6}) == pytest.approx(0.9)  # reference


@pytest.mark.parametrize("metric", ["accuracy", "f1", "loss"])
def test_twice_the_flops_must_cut_the_error_by_the_penalty(metric):
    objective = Objective(metric, flops_penalty=0.2)
    small_error = 0.10
    as_metric = (lambda e: e) if metric == "loss" else (lambda e: 1 - e)
    small = objective.score({metric: as_metric(small_error)}, {"flops": 3e6})
    even = objective.score({metric: as_metric(small_error * 0.8)}, {"flops": 6e6})
    assert even == pytest.approx(small)
    assert objective.score({metric: as_metric(small_error * 0.79)}, {"flops": 6e6}) > small
    assert objective.score({metric: as_metric(small_error * 0.81)}, {"flops": 6e6}) < small


def test_near_100_percent_the_accurate_network_still_wins():
    """A relative accuracy penalty would crown the tiny net here; the error-relative one keeps the accurate."""
    objective = Objective(flops_penalty=0.1)
    tiny = objective.score({"accuracy": 0.978}, {"flops": 33e3})
    accurate = objective.score({"accuracy": 0.995}, {"flops": 2e6})
    assert accurate > tiny


def test_equal_metric_prefers_fewer_flops():
    objective = Objective(flops_penalty=0.1)
    assert objective.score({"accuracy": 0.95}, {"flops": 4e6}) > objective.score({"accuracy": 0.95}, {"flops": 9e6})


@pytest.mark.parametrize("bad", [-0.1, 1.0, "high", True])
def test_bad_penalty_is_a_one_line_config_error(bad):
    with pytest.raises(ConfigError, match=r"^objective.flops_penalty: must be a number in \[0, 1\), got "):
        Objective(flops_penalty=bad)


def test_config_round_trips():
    objective = Objective("f1", flops_penalty=0.05)
    assert Objective(**objective.config()) == objective


def test_several_objectives_give_a_vector_to_maximise_and_score_by_the_first_metric():
    objective = Objective(metrics=("params", "accuracy"))
    assert objective.directions == ("min", "max") and objective.metric == "accuracy" and objective.multi
    assert objective.values({"accuracy": 0.9}, {"params": 5000}) == (-5000.0, 0.9)
    assert objective.score({"accuracy": 0.9}, {"params": 5000}) == 0.9
    assert objective.better(0.9, 0.8) and "Pareto front of params (min), accuracy (max)" in objective.describe()
    assert Objective(**objective.config()) == objective
    loss_first = Objective(metrics=("loss", "flops"), directions=("min", "min"))
    assert loss_first.values({"loss": 0.3}, {"flops": 2e6}) == (-0.3, -2e6) and loss_first.better(0.2, 0.3)


def test_a_penalty_on_any_cost_generalises_the_flops_penalty():
    assert Objective(penalty={"flops": 0.1}) == Objective(flops_penalty=0.1)
    assert Objective(flops_penalty=0.1).config() == {"metric": "accuracy", "flops_penalty": 0.1}  # old runs resume
    by_params = Objective(penalty={"params": 0.2})
    assert by_params.score({"accuracy": 0.9}, {"params": 2}) == pytest.approx(1 - 0.1 / 0.8)
    assert Objective(**by_params.config()) == by_params
    assert "traded against parameters" in by_params.describe()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"metrics": ("accuracy", "speed")},
            "objective.metrics: each must be one of accuracy, f1, loss, mse, mae, r2, params",
        ),
        ({"metrics": ("accuracy",)}, "objective.metrics: two or more different names"),
        (
            {"metrics": ("params", "flops")},
            "objective.metrics: need one of accuracy, f1, loss, mse, mae, r2 besides costs",
        ),
        ({"metrics": ("accuracy", "params"), "directions": ("max",)}, "objective.directions: one of max, min per"),
        ({"metric": "loss", "directions": ("max",)}, "objective.directions: only with objective.metrics"),
        ({"metrics": ("accuracy", "params"), "penalty": {"flops": 0.1}}, "objective.penalty: not with several"),
        ({"penalty": {"seconds": 0.1}}, "objective.penalty: costs are params, flops, size_kb, .* got 'seconds'"),
        ({"penalty": {"params": 1.0}}, r"objective.penalty.params: must be a number in \[0, 1\), got 1.0"),
        ({"flops_penalty": 0.1, "penalty": {"flops": 0.2}}, "objective: give flops_penalty or penalty.flops"),
    ],
)
def test_bad_objectives_are_one_line_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Objective(**kwargs)


def test_the_objectives_known_before_training_are_the_costs_oriented_like_the_vector():
    objective = Objective(metrics=("accuracy", "params", "latency_ms"), directions=("max", "min", "max"))
    known = objective.cost_values({"params": 5000, "flops": 1e6})
    assert math.isnan(known[0]) and known[1] == -5000.0 and math.isnan(known[2])
    assert objective.cost_values({"params": 5000, "latency_ms": 2.0})[1:] == (-5000.0, 2.0)
