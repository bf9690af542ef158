"""The two-fidelity tabular benchmark: epochs as the cost, the high table's test accuracy as the result."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from nasforge.budget import Budget
from nasforge.cli._bench import bench_app
from nasforge.evaluators import Plan, TabularEvaluator
from nasforge.exceptions import ConfigError, DataError
from nasforge.fidelity import Asha
from nasforge.strategies import STRATEGIES
from nasforge.tabular import FidelitySetup, NB201Table, run_fidelity_benchmark, run_fidelity_search
from nasforge.tabular._harness import _Answers, run_tabular


def test_a_two_fidelity_evaluator_answers_the_planned_table_and_costs_its_epochs(fidelity_tables):
    low, high = (NB201Table(p) for p in fidelity_tables)
    evaluator = TabularEvaluator({10: low, 100: high}, "toy")
    arch = low.archs[17]
    quick = evaluator.evaluate(arch, seed=0, plan=Plan(until=10))
    assert quick.metrics["accuracy_pct"] == low.valid("toy")[17]
    assert quick.costs == {"epochs": 10, "epochs_trained": 10}
    assert quick.curve == ({"epoch": 10, **quick.metrics},)
    full = evaluator.evaluate(arch, seed=0)  # no plan: the highest fidelity
    assert full.metrics["accuracy_pct"] == high.valid("toy")[17] and full.costs["epochs_trained"] == 100
    with pytest.raises(DataError, match="no table for 50 epochs"):
        evaluator.evaluate(arch, seed=0, plan=Plan(until=50))
    assert evaluator.final_test(arch, 0).metrics["accuracy_pct"] == high.test("toy")[17]
    worker = evaluator.for_workers()
    assert worker.evaluate(arch, 0, Plan(until=10)).metrics == quick.metrics
    with pytest.raises(DataError, match="no test columns"):
        worker.final_test(arch, 0)
    # one fidelity, tested on another table: a 10-epoch search reports the 100-epoch test accuracy
    single = TabularEvaluator({10: low}, "toy", test_table=high)
    assert single.evaluate(arch, 0).costs["epochs"] == 10
    assert single.final_test(arch, 0).metrics["accuracy_pct"] == high.test("toy")[17]


@pytest.mark.parametrize(("epochs", "architectures"), [((100,), 6), ((10,), 60)])
def test_single_fidelity_runs_spend_exactly_the_epochs_budget(fidelity_tables, epochs, architectures):
    tables = {10: str(fidelity_tables[0]), 100: str(fidelity_tables[1])}
    setup = FidelitySetup("random", STRATEGIES.get("random")(), epochs)
    run = run_fidelity_search(setup, tables, "toy", seed=0, trainings=6)
    assert run.architectures == architectures and len(run.test) == len(run.valid) == 2  # marks at 5 and 6 trainings


class _Recording(_Answers):
    """The harness's answers, and every trial in the order it ended."""

    def __init__(self, marks, cost) -> None:
        super().__init__(marks, cost)
        self.trials = []

    def on_trial_end(self, run, trial) -> None:
        self.trials.append(trial)
        super().on_trial_end(run, trial)


def test_under_asha_the_answer_is_the_best_full_training_within_the_budget(fidelity_tables):
    low, high = (NB201Table(p) for p in fidelity_tables)
    evaluator = TabularEvaluator({10: low, 100: high}, "toy")
    answers = _Recording([300, 1000], cost=lambda t: t.costs["epochs_trained"])
    scheduler = Asha(max_epochs=100, eta=4, rungs=[10, 100])
    run_tabular(STRATEGIES.get("evolution")(), evaluator, 0, Budget(epochs=1000), answers, scheduler)
    seen = answers
    spent = np.cumsum([t.costs["epochs_trained"] for t in seen.trials])
    assert spent[-2] < 1000 <= spent[-1]  # the run stopped at the first trial that reached the budget
    for mark, value, valid in zip([300, 1000], answers.curve, answers.valid, strict=True):
        fitted = [t for t, total in zip(seen.trials, spent, strict=True) if total <= mark]
        full = [t for t in fitted if t.costs["epochs"] == 100]
        assert full, "ASHA promoted a quarter of the first rung to 100 epochs"
        best = max(full, key=lambda t: (t.score, -high.row(t.arch)))
        assert value == high.test("toy")[high.row(best.arch)]
        assert valid == best.metrics["accuracy_pct"]  # the 100-epoch validation accuracy the search saw
    promoted = [t for t in seen.trials if t.parent is not None]
    assert all(t.costs["epochs"] == 100 and t.costs["epochs_trained"] == 100 for t in promoted)


def test_the_benchmark_compares_setups_at_equal_epochs_and_is_deterministic(fidelity_tables):
    low, high = fidelity_tables
    kwargs = {"low": 10, "high": 100, "trainings": 8, "seeds": 3}
    result = run_fidelity_benchmark(low, high, "toy", ["evolution"], ["asha", "hyperband"], eta=4, jobs=1, **kwargs)
    assert list(result["results"]) == ["evolution @100", "evolution @10", "evolution + asha", "evolution + hyperband"]
    assert result["unit"] == "x100 epochs" and set(result["results"]["evolution + asha"]) == {"5", "8"}
    assert result["architectures"]["evolution @100"] == 8 and result["architectures"]["evolution @10"] == 80
    assert 8 < result["architectures"]["evolution + asha"] < 80
    assert result["oracle"] == NB201Table(high).oracle("toy")
    assert result["valid_oracle"] == NB201Table(high).valid("toy").max()
    assert list(result["valid"]) == list(result["results"])
    for per_budget in result["valid"].values():  # the answers' 100-epoch validation, none above the table's
        assert set(per_budget) == {"5", "8"} and max(per_budget["8"]["values"]) <= result["valid_oracle"]
    again = run_fidelity_benchmark(low, high, "toy", ["evolution"], ["asha", "hyperband"], eta=4, jobs=2, **kwargs)
    assert again["results"] == result["results"]
    json.dumps(result)


def test_bad_fidelity_benchmark_settings_are_refused(fidelity_tables):
    low, high = fidelity_tables
    with pytest.raises(ConfigError, match=r"bench\.schedulers: must be among asha, successive_halving, hyperband"):
        run_fidelity_benchmark(low, high, "toy", ["random"], ["bohb"], low=10, high=100, seeds=1)
    with pytest.raises(ConfigError, match="the low fidelity must be below the high one, got 100 and 10"):
        run_fidelity_benchmark(low, high, "toy", ["random"], low=100, high=10, seeds=1)


def test_the_nb201_fidelity_command_prints_the_table_and_writes_json(fidelity_tables, tmp_path):
    low, high = fidelity_tables
    out, plot = tmp_path / "mf.json", tmp_path / "mf.png"
    args = ["nb201-fidelity", "--low-table", str(low), "--high-table", str(high), "--low-epochs", "10"]
    args += ["--high-epochs", "100", "--dataset", "toy", "--strategies", "local", "--eta", "4", "--trainings", "6"]
    args += ["--seeds", "2", "--jobs", "1", "--out", str(out), "--plot", str(plot)]
    result = CliRunner().invoke(bench_app, args, env={"COLUMNS": "160"})  # wide enough for every header
    assert result.exit_code == 0, result.output
    assert "local + asha" in result.output and "architectures" in result.output and "valid@6" in result.output
    assert json.loads(out.read_text())["trainings"] == 6 and plot.stat().st_size > 0
    bad = subprocess.run(
        [sys.executable, "-m", "nasforge", "bench", *args, "--eta", "1"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and bad.stderr == "error: fidelity.eta: must be an integer >= 2, got 1\n"
    nowhere = CliRunner().invoke(bench_app, [*args, "--out", str(tmp_path / "missing" / "mf.json")])
    # refused before the benchmark runs, not a traceback once its results are in
    assert nowhere.exit_code != 0 and isinstance(nowhere.exception, ConfigError)
    assert str(nowhere.exception) == f"bench.out: the directory {tmp_path / 'missing'} does not exist"
