"""Hard constraints: architectures over a limit are rejected before training, recorded, and cost no budget."""

from __future__ import annotations

import pytest

import nasforge as nf
from nasforge.api import search
from nasforge.config import parse_config
from nasforge.constraints import Constraints
from nasforge.data import synthetic
from nasforge.exceptions import ConfigError
from nasforge.store import SQLiteStore
from nasforge.trial import TrialState

DATA = synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=0)
COMMON = {"data": DATA, "trainer": nf.Trainer(epochs=1), "strategy": "random"}


def test_broken_names_the_first_limit_and_bad_limits_are_one_line():
    limits = Constraints(max_params=5000, max_latency_ms=1.5)
    assert limits.broken({"params": 4000, "latency_ms": 2.25}) == "latency_ms 2.25 > max_latency_ms 1.5"
    assert limits.broken({"params": 12000, "latency_ms": 1.0}) == "params 12,000 > max_params 5,000"
    assert limits.broken({"params": 5000, "latency_ms": 1.5}) is None  # at the limit fits
    assert limits.costs == {"params", "latency_ms"} and not Constraints()
    with pytest.raises(ConfigError, match=r"^constraints.max_flops: must be a number > 0, got 0$"):
        Constraints(max_flops=0)


def test_architectures_over_the_limit_are_rejected_before_training_and_cost_no_budget(tmp_path):
    run = search(budget=nf.Budget(trials=8), constraints={"max_params": 5000}, run_dir=tmp_path, **COMMON)
    trained = [t for t in run.trials if t.state is not TrialState.REJECTED]
    rejected = [t for t in run.trials if t.state is TrialState.REJECTED]
    assert len(trained) == 8 and rejected, "about 1 in 6 random chains fits 5,000 parameters on 8x8 inputs"
    assert all(t.costs["params"] <= 5000 and t.costs["epochs"] == 1 for t in trained)
    for t in rejected:  # measured, never trained, with the limit it broke
        assert t.costs["params"] > 5000 and "epochs" not in t.costs and t.curve == ()
        assert t.error == f"params {t.costs['params']:,.0f} > max_params 5,000"
    assert run.best.trial.costs["params"] <= 5000
    told = run.strategy.history.scores
    assert all(told[run.space.from_string(t.arch)] is None for t in rejected)  # the strategy knows they failed
    resumed = search(budget=nf.Budget(trials=10), constraints={"max_params": 5000}, run_dir=tmp_path, **COMMON)
    assert resumed.trials[: len(run.trials)] == run.trials and resumed.done == 10
    with pytest.raises(nf.StoreError, match="constraints changed"):
        search(budget=nf.Budget(trials=12), constraints={"max_params": 9000}, run_dir=tmp_path, **COMMON)


def test_a_space_where_nothing_fits_stops_with_a_reason(monkeypatch, tmp_path):
    monkeypatch.setattr("nasforge.run.MAX_REJECTED_IN_A_ROW", 5)
    monkeypatch.setattr("nasforge.api.MAX_REJECTED_IN_A_ROW", 5)
    with pytest.raises(nf.NasforgeError, match=r"^constraints: no architecture fits \(5 in a row broke a limit"):
        search(budget=nf.Budget(trials=3), constraints={"max_params": 10}, run_dir=tmp_path, **COMMON)
    stored = SQLiteStore(tmp_path / "store.sqlite").trials()
    assert [t.state for t in stored] == [TrialState.REJECTED] * 5


def test_the_constraints_section_is_checked_and_reaches_the_search():
    config = parse_config({"data": {"builtin": "digits"}, "constraints": {"max_params": 5000, "max_size_kb": 64}})
    assert config.constraints.max_params == 5000
    with pytest.raises(ConfigError, match=r"^constraints.max_params: must be > 0, got -1"):
        parse_config({"data": {"builtin": "digits"}, "constraints": {"max_params": -1}})
    with pytest.raises(ConfigError, match=r"^constraints.max_weights: unknown field"):
        parse_config({"data": {"builtin": "digits"}, "constraints": {"max_weights": 1}})
