"""The benchmark harness and the ``nasforge bench nb201`` command, end to end on small complete tables."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nasforge.cli._bench import bench_app
from nasforge.evaluators import TabularEvaluator
from nasforge.exceptions import ConfigError, DataError
from nasforge.strategies import STRATEGIES
from nasforge.tabular import NB201Table, curve_marks, run_benchmark, run_search
from nasforge.tabular._report import markdown_table, regret_figure


def test_result_format_and_oracle(complete_table):
    result = run_benchmark(complete_table, "toy", ["random", "local"], queries=30, seeds=3, jobs=1)
    table = NB201Table(complete_table)
    assert result["dataset"] == "toy"
    assert result["oracle"] == table.oracle("toy")
    assert set(result["results"]) == {"random", "local"}
    assert set(result["results"]["random"]) == {"25", "30"}
    cell = result["results"]["local"]["30"]
    assert cell["seeds"] == 3 and len(cell["values"]) == 3
    assert cell["mean"] <= max(table.test("toy"))
    json.dumps(result)
    assert "| local |" in markdown_table(result)


def test_a_run_that_queries_everything_returns_the_oracle(complete_table):
    table = NB201Table(complete_table)
    curve = run_search(STRATEGIES.get("grid")(), str(complete_table), "toy", seed=0, queries=125, budgets=(125,))
    assert curve[-1] == table.oracle("toy")
    # the space is exhausted early: a larger budget keeps the final answer
    longer = run_search(STRATEGIES.get("grid")(), str(complete_table), "toy", seed=0, queries=150, budgets=(150,))
    assert longer[-1] == table.oracle("toy")


def test_runs_are_deterministic_and_jobs_do_not_change_results(complete_table):
    one = run_benchmark(complete_table, "toy", ["evolution"], queries=25, seeds=4, jobs=1)
    two = run_benchmark(complete_table, "toy", ["evolution"], queries=25, seeds=4, jobs=2)
    assert one["results"] == two["results"]


def test_workers_run_each_searchs_trials_on_executor_processes(complete_table):
    from distributed import get_task_stream

    from nasforge.executors import DaskExecutor

    executor = DaskExecutor(workers=2, timeout=60)
    executor.start(TabularEvaluator(str(complete_table), "toy"))
    try:
        with get_task_stream(executor.client) as stream:
            curve = run_search(STRATEGIES.get("evolution")(), str(complete_table), "toy", 0, 40, (40,), executor)
        evaluated = [t for t in stream.data if t["key"].startswith("_evaluate")]
        assert len(evaluated) == 40  # every query ran on a worker, through the executor of a real search
        assert len({t["worker"] for t in evaluated}) == 2
    finally:
        executor.shutdown()
    assert len(curve) == len(curve_marks(40, (40,)))
    assert all(v <= max(NB201Table(complete_table).test("toy")) for v in curve)


def test_cli_workers_need_one_job(complete_table):
    args = ["nb201", "--table", str(complete_table), "--dataset", "toy", "--workers", "2", "--jobs", "2"]
    result = CliRunner().invoke(bench_app, args)
    assert isinstance(result.exception, ConfigError)
    assert "bench.jobs: must be 1 with --workers 2" in str(result.exception)


def test_missing_architectures_are_failed_trials(tiny):
    curve = run_search(STRATEGIES.get("random")(), str(tiny), "cifar10", seed=0, queries=20, budgets=(20,))
    assert len(curve) == 4  # most proposals are not in a 300-row table; the run still completes


def test_unknown_strategy_and_dataset(complete_table):
    with pytest.raises(ConfigError, match=r"unknown strategy 'evolutoin'.*evolution"):
        run_benchmark(complete_table, "toy", ["evolutoin"], queries=5, seeds=1, jobs=1)
    with pytest.raises(DataError, match="no dataset 'cifar10'"):
        run_benchmark(complete_table, "cifar10", ["random"], queries=5, seeds=1, jobs=1)


def test_cli_writes_json_and_plot(complete_table, tmp_path):
    out, plot = tmp_path / "r.json", tmp_path / "r.png"
    args = ["nb201", "--table", str(complete_table), "--dataset", "toy", "--strategies", "random,evolution"]
    args += ["--queries", "25", "--seeds", "2", "--jobs", "1", "--out", str(out), "--plot", str(plot)]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    assert "oracle" in result.output and "evolution" in result.output
    data = json.loads(out.read_text())
    assert set(data["results"]) == {"random", "evolution"}
    assert data["results"]["random"]["25"]["seeds"] == 2
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["--strategies", "nope"], ConfigError),
        (["--dataset", "cifar10"], DataError),
        (["--queries", "0"], ConfigError),
    ],
)
def test_cli_errors_are_nasforge_errors(complete_table, extra, error):
    result = CliRunner().invoke(bench_app, ["nb201", "--table", str(complete_table), "--dataset", "toy", *extra])
    assert isinstance(result.exception, error)


def test_cli_unreadable_table(tmp_path):
    result = CliRunner().invoke(bench_app, ["nb201", "--table", str(tmp_path / "none.csv")])
    assert isinstance(result.exception, DataError)


def test_the_regret_plot_draws_negative_regret():
    """A returned architecture may test better than the oracle (the best by validation): cifar100's 72.28 is
    beaten by 72.46 on average. That negative regret must be drawn where it is, not clipped or dropped."""
    curves = {"evolution": {"budgets": [5, 10, 15], "mean_regret": [2.5, 0.0, -0.18]}}
    result = {"curves": curves, "table": "nb201_12ep", "dataset": "cifar100", "oracle": 72.28}
    ax = regret_figure(result).axes[0]
    line = next(line for line in ax.get_lines() if line.get_label() == "evolution")
    assert list(line.get_ydata()) == [2.5, 0.0, -0.18]
    low, high = ax.get_ylim()
    assert low < -0.18 and high > 2.5


@pytest.mark.parametrize(("queries", "seeds"), [(0, 1), (5, 0)])
def test_counts_below_one_are_refused_before_any_search(complete_table, queries, seeds):
    """As the fidelity and Pareto benchmarks refuse them: no seeds gave an empty result (a table with no rows),
    no queries an error about ``budget.trials``, an option the caller never gave."""
    with pytest.raises(ConfigError, match=rf"bench: queries, seeds, jobs and workers must be >= 1, got {queries}, "):
        run_benchmark(complete_table, "toy", ["random"], queries=queries, seeds=seeds, jobs=1)
