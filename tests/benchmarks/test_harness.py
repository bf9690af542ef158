"""The benchmark harness and the ``nasforge bench nb201`` command, end to end on small complete tables."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nasforge.benchmarks import NB201Table, run_benchmark, run_search
from nasforge.benchmarks._report import markdown_table
from nasforge.cli._bench import bench_app
from nasforge.exceptions import ConfigError, DataError
from nasforge.strategies import STRATEGIES


def test_result_format_and_oracle(complete_table):
    result = run_benchmark(complete_table, "toy", ["random", "local"], queries=30, seeds=3, workers=1)
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


def test_runs_are_deterministic_and_workers_do_not_change_results(complete_table):
    one = run_benchmark(complete_table, "toy", ["evolution"], queries=25, seeds=4, workers=1)
    two = run_benchmark(complete_table, "toy", ["evolution"], queries=25, seeds=4, workers=2)
    assert one["results"] == two["results"]


def test_missing_architectures_are_failed_trials(tiny):
    curve = run_search(STRATEGIES.get("random")(), str(tiny), "cifar10", seed=0, queries=20, budgets=(20,))
    assert len(curve) == 4  # most proposals are not in a 300-row table; the run still completes


def test_unknown_strategy_and_dataset(complete_table):
    with pytest.raises(ConfigError, match=r"unknown strategy 'evolutoin'.*evolution"):
        run_benchmark(complete_table, "toy", ["evolutoin"], queries=5, seeds=1, workers=1)
    with pytest.raises(DataError, match="no dataset 'cifar10'"):
        run_benchmark(complete_table, "cifar10", ["random"], queries=5, seeds=1, workers=1)


def test_cli_writes_json_and_plot(complete_table, tmp_path):
    out, plot = tmp_path / "r.json", tmp_path / "r.png"
    args = ["nb201", "--table", str(complete_table), "--dataset", "toy", "--strategies", "random,evolution"]
    args += ["--queries", "25", "--seeds", "2", "--workers", "1", "--out", str(out), "--plot", str(plot)]
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
