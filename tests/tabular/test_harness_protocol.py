"""The harness's protocol on tables a user can give: partial ones, broken ones, and the command's outputs."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from nasforge.cli._bench import _report, bench_app
from nasforge.exceptions import ConfigError, DataError
from nasforge.strategies import STRATEGIES
from nasforge.tabular import NB201Table, read_latency, resolve_strategies, run_benchmark, run_search


def _unshuffled_grid() -> dict:
    return {"grid": STRATEGIES.get("grid")(shuffle=False)}


def test_missing_architectures_cost_their_queries_and_the_run_goes_on(complete_table, partial_table):
    """Grid search's first 10 proposals are missing from the table: 10 failed queries, then 20 answered ones.
    The run must not stop as a failing search (5 failures in 5 trials) and report nothing for 30 queries."""
    table = NB201Table(complete_table)
    queried = list(table.space.enumerate())[10:30]
    best = max(queried, key=lambda arch: (table.valid("toy")[table.row(arch)], -table.row(arch)))
    curve = run_search(_unshuffled_grid()["grid"], str(partial_table), "toy", seed=0, queries=30, budgets=(30,))
    assert curve[-1] == table.test("toy")[table.row(best)]


def test_the_json_is_standard_where_a_budget_has_no_answer_yet(partial_table, tmp_path):
    """At 5 and 10 queries every query failed: no answer, written as null, never as NaN (not JSON)."""
    result = run_benchmark(partial_table, "toy", _unshuffled_grid(), queries=30, seeds=2, budgets=(10, 30), jobs=1)
    out = tmp_path / "r.json"
    _report(Console(file=io.StringIO()), result, out, tmp_path / "r.png")
    text = out.read_text()
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert data["results"]["grid"]["10"]["values"] == [None, None] and data["results"]["grid"]["10"]["mean"] is None
    assert data["results"]["grid"]["30"]["mean"] == result["results"]["grid"]["30"]["mean"]
    assert data["curves"]["grid"]["mean_regret"][:2] == [None, None]


def test_two_strategy_objects_under_one_label_are_refused():
    evolution = STRATEGIES.get("evolution")
    with pytest.raises(ConfigError, match="two strategies labelled 'evolution'"):
        resolve_strategies([evolution(population=10), evolution(population=50)])
    one = evolution()
    assert list(resolve_strategies(["random", "random", one, one])) == ["random", "evolution"]


@pytest.mark.parametrize("command", ["nb201", "nb201-pareto"])
def test_a_strategy_list_without_a_name_is_one_line(complete_table, tmp_path, command):
    table = NB201Table(complete_table)
    latency = tmp_path / "latency.csv"
    latency.write_text("\n".join(["arch,dev_latency_ms", *(f"{table.space.to_string(a)},1.5" for a in table.archs)]))
    args = [command, "--table", str(complete_table), "--dataset", "toy", "--strategies", ",", "--queries", "5"]
    args += ["--seeds", "1", "--jobs", "1"] + (
        ["--latency", str(latency), "--device", "dev"] if "pareto" in command else []
    )
    result = CliRunner().invoke(bench_app, args)
    assert isinstance(result.exception, ConfigError), result.output
    assert str(result.exception).startswith("bench.strategies: no strategy name in ','; among bananas, ")


def test_an_output_that_is_a_directory_is_refused_before_the_run(complete_table, tmp_path):
    args = ["nb201", "--table", str(complete_table), "--dataset", "toy", "--strategies", "random"]
    args += ["--queries", "5", "--seeds", "1", "--jobs", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(bench_app, args)
    assert isinstance(result.exception, ConfigError)  # not IsADirectoryError once the benchmark has run
    assert str(result.exception) == f"bench.out: {tmp_path} is a directory; give a file name"
    assert result.output == ""  # refused before any search ran


def test_pareto_counts_below_one_name_their_option(complete_table):
    args = ["nb201-pareto", "--table", str(complete_table), "--latency", str(complete_table), "--jobs", "0"]
    result = CliRunner().invoke(bench_app, args)
    assert isinstance(result.exception, ConfigError) and str(result.exception) == "bench.jobs: must be >= 1, got 0"


def test_a_row_with_missing_fields_is_one_line(complete_table, tmp_path):
    lines = complete_table.read_text().splitlines()
    short_first = tmp_path / "short.csv"
    short_first.write_text("\n".join([lines[0], "0", *lines[2:]]) + "\n")
    with pytest.raises(DataError, match=r"short\.csv:2: expected 4 fields, got 1"):
        NB201Table(short_first)
    table = NB201Table(complete_table)
    latency = tmp_path / "latency.csv"
    rows = [f"{table.space.to_string(arch)},1.5" for arch in table.archs]
    latency.write_text("\n".join(["arch,dev_latency_ms", *rows[:-1], rows[-1].split(",")[0]]) + "\n")
    with pytest.raises(DataError, match=rf"latency\.csv:{len(rows) + 1}: expected 2 fields, got 1"):
        read_latency(latency, table)
    latency.write_text("\n".join(["arch,dev_latency_ms", "garbage,1.0", *rows]) + "\n")
    with pytest.raises(DataError, match=r"latency\.csv:2: architecture 'garbage'"):
        read_latency(latency, table)


def test_a_corrupt_gzip_table_is_one_line(complete_table, tmp_path):
    packed = bytearray(gzip.compress(complete_table.read_bytes(), mtime=0))
    for i in range(40, 80):  # inside the deflate stream, well before the trailing checksum
        packed[i] ^= 0x55
    path = tmp_path / "corrupt.csv.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=r"corrupt\.csv\.gz: cannot read as a csv or csv\.gz table"):
        NB201Table(path)


def test_the_search_never_depends_on_the_test_column(complete_table, tmp_path):
    """Two tables that differ only in their test column give answers of the same rows: the search reads
    validation only; only the reported numbers change."""
    header, *lines = complete_table.read_text().splitlines()
    other = tmp_path / "other_test.csv"  # test accuracy = 1000 + the row: every row's value its own
    other.write_text("\n".join([header, *(line.rsplit(",", 1)[0] + f",{1000 + n}" for n, line in enumerate(lines))]))
    table = NB201Table(complete_table)
    for name in ("evolution", "local"):
        first = run_search(STRATEGIES.get(name)(), str(complete_table), "toy", seed=1, queries=20, budgets=(20,))
        second = run_search(STRATEGIES.get(name)(), str(other), "toy", seed=1, queries=20, budgets=(20,))
        assert first == [table.test("toy")[int(value) - 1000] for value in second]
