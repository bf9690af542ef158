"""``nasforge bench``: run strategies on a tabular benchmark and report the returned architectures' test accuracy.

Heavy imports (numpy work, matplotlib, the process pool) happen inside the command so that ``--help`` stays
instant. Errors are :class:`~nasforge.exceptions.NasforgeError` subclasses; the main CLI prints them in one
line and exits 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nasforge.exceptions import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["bench_app"]

bench_app = typer.Typer(help="Benchmark search strategies on tabular NAS benchmarks.", no_args_is_help=True)


@bench_app.callback()
def _bench() -> None:
    """Benchmark search strategies on tabular NAS benchmarks."""


@bench_app.command("nb201")
def nb201(
    table: Annotated[Path, typer.Option(help="NAS-Bench-201 results table (csv or csv.gz, documented format).")],
    dataset: Annotated[str, typer.Option(help="Which <name>_valid/<name>_test columns to use.")] = "cifar10",
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategy names (default: every registered one).")
    ] = None,
    queries: Annotated[int, typer.Option(help="Query budget of each run (new architectures evaluated).")] = 300,
    seeds: Annotated[int, typer.Option(help="Runs per strategy, with seeds 0..seeds-1.")] = 100,
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Regret-curve PNG [default: nb201_<dataset>_regret.png].")] = None,
    jobs: Annotated[int, typer.Option(help="Searches run at once, each in its own process (1: in this one).")] = 2,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes for each search's trials, as 'nasforge search --workers N' (needs --jobs 1)."
        ),
    ] = 1,
) -> None:
    """Run every strategy with every seed; print mean ± std test accuracy at each budget, oracle and regret."""
    from rich.console import Console

    from nasforge.tabular import load_nb201, run_benchmark

    _at_least_one(queries=queries, seeds=seeds, jobs=jobs, workers=workers)
    if jobs > 1 and workers > 1:
        raise ConfigError(
            f"bench.jobs: must be 1 with --workers {workers} (each search already uses {workers} workers)"
        )
    names = _strategy_names(strategies)
    load_nb201(str(table)).check_dataset(dataset)
    _check_outputs(out=out, plot=plot)
    console = Console()
    result = run_benchmark(
        table, dataset, names, queries=queries, seeds=seeds, jobs=jobs, workers=workers, progress=console.log
    )
    _report(console, result, out, plot if plot is not None else Path(f"nb201_{dataset}_regret.png"))


@bench_app.command("nb201-fidelity")
def nb201_fidelity(
    low_table: Annotated[Path, typer.Option(help="The low-fidelity table (e.g. nb201_12ep.csv.gz).")],
    high_table: Annotated[Path, typer.Option(help="The high-fidelity table (e.g. nb201_200ep.csv.gz).")],
    low_epochs: Annotated[int, typer.Option(help="Training epochs behind the low table.")] = 12,
    high_epochs: Annotated[int, typer.Option(help="Training epochs behind the high table.")] = 200,
    dataset: Annotated[str, typer.Option(help="Which <name>_valid/<name>_test columns to use.")] = "cifar10",
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategy names (default: every registered one).")
    ] = None,
    schedulers: Annotated[str, typer.Option(help="Comma-separated: asha, successive_halving, hyperband.")] = "asha",
    eta: Annotated[int, typer.Option(help="Schedulers promote the top 1/eta of a rung.")] = 16,
    trainings: Annotated[int, typer.Option(help="Budget of each run, in full high-fidelity trainings.")] = 50,
    seeds: Annotated[int, typer.Option(help="Runs per setup, with seeds 0..seeds-1.")] = 30,
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Regret-curve PNG [default: nb201_fidelity_<dataset>_regret.png].")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Searches run at once, each in its own process (1: in this one).")] = 2,
) -> None:
    """Every strategy at the high fidelity, at the low one, and under each scheduler over both, at equal epochs.

    The cost is counted in training epochs (a low query costs low-epochs, a high one high-epochs); each run
    reports the high table's test accuracy of the architecture it returns, and its validation accuracy there
    (valid: what the search could see; two answers of equal test accuracy can differ in it).
    """
    from rich.console import Console

    from nasforge.tabular import run_fidelity_benchmark

    _at_least_one(trainings=trainings, seeds=seeds, jobs=jobs, low_epochs=low_epochs)
    names = _strategy_names(strategies)
    chosen = [s.strip() for s in schedulers.split(",") if s.strip()]
    _check_outputs(out=out, plot=plot)
    console = Console()
    result = run_fidelity_benchmark(
        low_table,
        high_table,
        dataset,
        names,
        chosen,
        eta=eta,
        low=low_epochs,
        high=high_epochs,
        trainings=trainings,
        seeds=seeds,
        jobs=jobs,
        progress=console.log,
    )
    _report(console, result, out, plot if plot is not None else Path(f"nb201_fidelity_{dataset}_regret.png"))


@bench_app.command("nb201-pareto")
def nb201_pareto(
    table: Annotated[Path, typer.Option(help="NAS-Bench-201 results table (its validation accuracy is searched).")],
    latency: Annotated[
        Path | None, typer.Option(help="Latency table: arch and <device>_latency_ms columns (hwnas).")
    ] = None,
    costs: Annotated[
        Path | None, typer.Option(help="Costs table from 'nasforge bench nb201-costs' (params, flops columns).")
    ] = None,
    device: Annotated[
        str, typer.Option(help="What to minimise: a <device> of --latency, or params / flops of --costs.")
    ] = "raspi4",
    dataset: Annotated[str, typer.Option(help="Which <name>_valid/<name>_test columns to use.")] = "cifar10",
    strategies: Annotated[str, typer.Option(help="Comma-separated strategy names.")] = "random,nsga2",
    queries: Annotated[int, typer.Option(help="Query budget of each run.")] = 300,
    seeds: Annotated[int, typer.Option(help="Runs per strategy, with seeds 0..seeds-1.")] = 30,
    out: Annotated[Path | None, typer.Option(help="Write the results as JSON here.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Regret-curve PNG [default: nb201_pareto_<dataset>_<device>.png].")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Searches run at once, each in its own process (1: in this one).")] = 2,
) -> None:
    """Strategies searching accuracy against a cost: hypervolume per budget and of the returned points' test front.

    Accuracy is taken as a fraction and the cost divided by the table's largest, both maximised (the cost
    negated); the reference point is (0, -1), so a hypervolume is a share of the unit square.
    """
    from rich.console import Console

    from nasforge.tabular import run_pareto_benchmark

    source = costs if device in ("params", "flops") else latency
    if source is None:
        option = "--costs" if device in ("params", "flops") else "--latency"
        raise ConfigError(f"{option}: needed to minimise {device!r}")
    _at_least_one(queries=queries, seeds=seeds, jobs=jobs)
    names = _strategy_names(strategies)
    _check_outputs(out=out, plot=plot)
    console = Console()
    result = run_pareto_benchmark(
        table, source, device, dataset, names, queries=queries, seeds=seeds, jobs=jobs, progress=console.log
    )
    _report(console, result, out, plot if plot is not None else Path(f"nb201_pareto_{dataset}_{device}.png"))


@bench_app.command("nb201-costs")
def nb201_costs(
    table: Annotated[Path, typer.Option(help="Any NAS-Bench-201 table: its arch column lists the architectures.")],
    out: Annotated[Path, typer.Option(help="Where to write arch,params,flops (gzip'd if it ends in .gz).")] = Path(
        "nb201_costs.csv.gz"
    ),
    jobs: Annotated[int, typer.Option(help="Processes building networks at once.")] = 2,
) -> None:
    """Parameters and FLOPs of every NAS-Bench-201 architecture, built by nasforge on NB201's skeleton.

    16 stem channels, 3 stages of 5 cells, 3x32x32 input, 10 classes; FLOPs count 2 per multiply-add
    (NB201 publishes multiply-adds, so its figures are these / 2). Use the file with nb201-pareto --costs.
    """
    from rich.console import Console

    from nasforge.tabular import write_nb201_costs

    _check_outputs(out=out)
    console = Console()
    path = write_nb201_costs(table, out, jobs=jobs, progress=console.log)
    console.print(f"wrote {path}")


def _at_least_one(**values: int) -> None:
    """Counts the command needs at least one of: one line naming the option."""
    for option, value in values.items():
        if value < 1:
            raise ConfigError(f"bench.{option}: must be >= 1, got {value}")


def _strategy_names(text: str | None) -> list[str]:
    """The comma-separated names (every registered strategy when none is given), checked against the registry
    before any run; a list with no name in it (``--strategies ,``) is refused, as it would have nothing to show."""
    from nasforge.strategies import STRATEGIES

    if not text:
        return STRATEGIES.names()
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise ConfigError(f"bench.strategies: no strategy name in {text!r}; among {', '.join(STRATEGIES.names())}")
    for name in names:
        STRATEGIES.get(name)
    return names


def _check_outputs(**paths: Path | None) -> None:
    """One line now, not a traceback after the whole benchmark has run, for an output in a missing directory
    or one that names a directory."""
    for option, path in paths.items():
        if path is not None and not path.parent.is_dir():
            raise ConfigError(f"bench.{option}: the directory {path.parent} does not exist")
        if path is not None and path.is_dir():
            raise ConfigError(f"bench.{option}: {path} is a directory; give a file name")


def _report(console: Console, result: dict[str, Any], out: Path | None, plot: Path) -> None:
    """The results table on the terminal, the JSON where asked, and the regret curves."""
    from nasforge.tabular._report import plot_regret, render_table

    console.print(render_table(result))
    if out is not None:
        out.write_text(json.dumps(_finite(result), indent=1, allow_nan=False))
        console.print(f"results written to {out}")
    plot_regret(result, plot)
    console.print(f"regret curves written to {plot}")


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as ``None``, so that the file is standard JSON (``NaN`` is not): a
    run with no successful query yet at a budget has no answer there, and neither has a mean over it."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
