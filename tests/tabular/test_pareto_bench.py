"""The multi-objective tabular benchmark: accuracy against latency, judged by hypervolume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nasforge.cli._bench import bench_app
from nasforge.exceptions import DataError
from nasforge.pareto import hypervolume
from nasforge.strategies import STRATEGIES
from nasforge.tabular import NB201Table, read_latency, run_pareto_benchmark, run_pareto_search


@pytest.fixture
def latency_file(complete_table, tmp_path):
    table = NB201Table(complete_table)
    lines = ["arch,dev_latency_ms,other_latency_ms"]
    for n, arch in enumerate(table.archs):  # slower for better cells, so the two objectives conflict
        lines.append(f"{table.space.to_string(arch)},{1 + table.valid('toy')[n] / 10 + n % 3:.3f},{n + 1}")
    path = tmp_path / "latency.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_latency_is_read_per_device_and_aligned_to_the_rows(complete_table, latency_file):
    table = NB201Table(complete_table)
    latency = read_latency(latency_file, table)
    assert set(latency) == {"dev", "other"} and latency["other"][7] == 8.0
    short = latency_file.with_name("short.csv")
    short.write_text("\n".join(latency_file.read_text().splitlines()[:10]) + "\n")
    with pytest.raises(DataError, match="no values for 116 of the table's 125 architectures"):
        read_latency(short, table)


def test_a_run_that_queries_everything_reaches_the_tables_hypervolume(complete_table, latency_file):
    result = run_pareto_benchmark(complete_table, latency_file, "dev", "toy", ["grid"], queries=125, seeds=1, jobs=1)
    assert result["results"]["grid"]["125"]["mean"] == pytest.approx(result["oracle"])
    table, latency = NB201Table(complete_table), read_latency(latency_file, NB201Table(complete_table))["dev"]
    points = np.column_stack([table.valid("toy") / 100, -latency / latency.max()])
    assert result["oracle"] == pytest.approx(hypervolume(points, (0.0, -1.0)))
    assert 0 < result["test_hypervolume"]["grid"]["mean"] <= 1


def test_hypervolume_grows_with_the_budget_and_runs_are_deterministic(complete_table, latency_file):
    args = (str(complete_table), str(latency_file), "dev", "toy")
    curve, test = run_pareto_search(STRATEGIES.get("nsga2")(population=8), *args, seed=3, queries=60, budgets=(60,))
    assert curve == sorted(curve) and test > 0
    assert run_pareto_search(STRATEGIES.get("nsga2")(population=8), *args, seed=3, queries=60, budgets=(60,)) == (
        curve,
        test,
    )


def test_bananas_in_a_pareto_run_reads_its_candidates_costs_without_querying_them(complete_table, latency_file):
    """The run hands a Pareto strategy the costs known before training: here the table's latency, for every
    candidate the acquisition scores, while only the architectures it proposes count as queries."""
    bananas = STRATEGIES.get("bananas")(init=5, batch=5, ensemble=2, epochs=20)
    run_pareto_search(bananas, str(complete_table), str(latency_file), "dev", "toy", seed=0, queries=20, budgets=(20,))
    table = NB201Table(complete_table)
    latency = read_latency(latency_file, table)["dev"]
    assert len(bananas._exact) > 20  # candidates scored beyond the 20 queried
    for arch, values in bananas._exact.items():
        assert np.isnan(values[0]) and values[1] == -latency[table.row(arch)]


def test_the_pareto_command_writes_json_and_refuses_an_unknown_device(complete_table, latency_file, tmp_path):
    out = tmp_path / "mo.json"
    args = ["nb201-pareto", "--table", str(complete_table), "--latency", str(latency_file), "--device", "dev"]
    args += ["--dataset", "toy", "--queries", "30", "--seeds", "2", "--jobs", "1", "--out", str(out)]
    args += ["--plot", str(tmp_path / "mo.png")]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert "nsga2" in result.output and set(written["results"]) == set(written["test_hypervolume"]) == {
        "random",
        "nsga2",
    }
    with pytest.raises(DataError, match="no device or cost 'gpu'; has dev, other"):
        run_pareto_benchmark(complete_table, latency_file, "gpu", "toy", ["random"], queries=5, seeds=1, jobs=1)


def test_nb201_costs_match_the_values_nas_bench_201_publishes():
    from nasforge.tabular import cell_costs

    # NB201's architecture 0 on CIFAR-10: 0.129306 M parameters, 15.64737 M multiply-adds (NB201 also counts the
    # classifier's 10 bias additions, which torch's counter leaves out: 10 multiply-adds, 1e-5 M)
    [(_, params, flops)] = cell_costs(
        ["|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"]
    )
    assert params == 129_306
    assert flops / 2e6 == pytest.approx(15.64737, abs=2e-5)


def test_a_costs_file_drives_a_pareto_benchmark_on_parameters(complete_table, tmp_path):
    from nasforge.tabular import cost_column

    costs = tmp_path / "costs.csv.gz"
    made = CliRunner().invoke(bench_app, ["nb201-costs", "--table", str(complete_table), "--out", str(costs)])
    assert made.exit_code == 0 and "wrote" in made.output, made.output
    name, params = cost_column(str(costs), str(complete_table), "params")
    table = NB201Table(complete_table)
    assert name == "params" and len(params) == len(table) and params.min() > 0
    empty = table.row("|none~0|+|none~0|none~1|")  # nothing but the skeleton: the fewest parameters
    assert params[empty] == params.min()
    result = run_pareto_benchmark(complete_table, costs, "params", "toy", ["grid"], queries=125, seeds=1, jobs=1)
    assert result["results"]["grid"]["125"]["mean"] == pytest.approx(result["oracle"])
    with pytest.raises(DataError, match="no device or cost 'latency'; has params, flops"):
        cost_column(str(costs), str(complete_table), "latency")
    args = ["nb201-pareto", "--table", str(complete_table), "--device", "params", "--dataset", "toy"]
    missing = CliRunner().invoke(bench_app, args)
    assert missing.exit_code != 0 and "--costs: needed to minimise 'params'" in str(missing.exception)


def test_bananas_in_a_pareto_run_on_a_partial_table_predicts_the_costs_the_table_lacks(partial_table, tmp_path):
    """Bananas reads the costs of the candidates it scores; a candidate the table lacks has none. It is one
    more candidate whose costs are predicted, not an error out of ``ask`` that ends the run."""
    table = NB201Table(partial_table)
    latency = tmp_path / "latency.csv"
    latency.write_text(
        "\n".join(
            ["arch,dev_latency_ms", *(f"{table.space.to_string(a)},{1 + n % 9}" for n, a in enumerate(table.archs))]
        )
        + "\n"
    )
    bananas = STRATEGIES.get("bananas")(init=5, batch=5, ensemble=2, epochs=20)
    curve, test = run_pareto_search(bananas, str(partial_table), str(latency), "dev", "toy", 0, 40, budgets=(40,))
    assert len(curve) == 8 and test > 0
    lacking = [values for arch, values in bananas._exact.items() if arch not in table]
    assert lacking and all(np.isnan(values).all() for values in lacking)
