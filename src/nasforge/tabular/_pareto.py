"""Multi-objective search on NAS-Bench-201: validation accuracy against a cost (device latency, params, FLOPs).

Every run is a :class:`~nasforge.run.Run` with ``Objective(metrics=("accuracy", cost))`` over the
:class:`~nasforge.evaluators.TabularEvaluator`, whose answers carry the architecture's cost: a device's
measured latency from ``shared/benchmarks/hwnas/`` (``latency_ms``), or the parameters or FLOPs that
``nasforge bench nb201-costs`` computed (a property of the architecture alone, so a search may read it
freely). It is judged by the hypervolume of the points it evaluated, after every budget:

- **normalisation and reference point**: accuracy as a fraction (``valid % / 100``) and the cost divided by the
  largest cost in the table, both oriented to be maximised (``accuracy``, ``-cost / max``); the reference
  point is ``(0, -1)``, so a hypervolume is a fraction of the unit square, 1 the unreachable ideal.
- **validation hypervolume**: of the (validation accuracy, cost) points evaluated so far; the table's own
  front gives the best reachable value (the "oracle").
- **test hypervolume**: the run's returned points are its validation front; their test accuracies, read once
  at the end, with their costs, give a second hypervolume: what the user would actually get.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasforge.callbacks import Callback
from nasforge.exceptions import ConfigError, DataError
from nasforge.objective import COSTS
from nasforge.pareto import first_front, hypervolume
from nasforge.strategies import Strategy
from nasforge.tabular._harness import (
    BUDGETS,
    checkpoints,
    column_stats,
    curve_marks,
    query_budget,
    resolve_strategies,
    run_chunks,
    run_tabular,
    seed_chunks,
    timed_seeds,
)
from nasforge.tabular._nb201 import load_nb201, read_columns

if TYPE_CHECKING:
    from nasforge.run import Run
    from nasforge.trial import Trial

__all__ = ["run_pareto_benchmark", "run_pareto_search"]

_REFERENCE = (0.0, -1.0)


def _normalised(accuracy_pct: np.ndarray, cost: np.ndarray, top_cost: float) -> np.ndarray:
    return np.column_stack([np.asarray(accuracy_pct) / 100.0, -np.asarray(cost) / top_cost])


class _Front(Callback):
    """Collects each evaluated point and records the validation hypervolume at every mark."""

    def __init__(self, marks: Sequence[int], cost: str, top_cost: float) -> None:
        self.marks = set(marks)
        self.cost = cost
        self.top = top_cost
        self.points: list[tuple[str, float, float]] = []  # (arch, validation %, cost)
        self.curve: list[float] = []
        self.done = 0

    def on_trial_end(self, run: Run, trial: Trial) -> None:
        self.done += 1
        if trial.score is not None:
            self.points.append((trial.arch, trial.metrics["accuracy_pct"], trial.costs[self.cost]))
        if self.done in self.marks:
            self.curve.append(self.volume())

    def finish(self, run: Run) -> None:
        """Marks the run did not reach (it ran out of architectures) get its final hypervolume."""
        self.curve += [self.volume()] * (len(self.marks) - len(self.curve))

    def volume(self) -> float:
        if not self.points:
            return 0.0
        _, accuracy, cost = zip(*self.points, strict=True)
        return hypervolume(_normalised(accuracy, cost, self.top), _REFERENCE)


def run_pareto_search(
    strategy: Strategy,
    table_path: str,
    cost_path: str,
    cost: str,
    dataset: str,
    seed: int,
    queries: int,
    budgets: Sequence[int] = BUDGETS,
) -> tuple[list[float], float]:
    """One seeded run against ``cost`` (see :func:`cost_column`): its validation hypervolume at every mark of
    :func:`curve_marks`, and the test hypervolume of its returned points (its validation front) at the end."""
    from nasforge.evaluators import TabularEvaluator
    from nasforge.objective import Objective

    table = load_nb201(table_path)
    name, values = cost_column(cost_path, table_path, cost)
    evaluator = TabularEvaluator(table, dataset, costs={name: values})
    objective = Objective(metrics=("accuracy", name))
    front = _Front(curve_marks(queries, budgets), name, float(values.max()))
    run_tabular(strategy, evaluator, seed, query_budget(queries), front, objective=objective)
    return front.curve, _test_volume(front, evaluator, seed)


def _test_volume(front: _Front, evaluator: Any, seed: int) -> float:
    """Hypervolume of the returned points (the validation front) with their test accuracies, read once each."""
    if not front.points:
        return 0.0
    archs, accuracy, cost = zip(*front.points, strict=True)
    returned = first_front(_normalised(accuracy, cost, front.top))
    test = [evaluator.final_test(archs[i], seed).metrics["accuracy_pct"] for i in returned]
    return hypervolume(_normalised(test, [cost[i] for i in returned], front.top), _REFERENCE)


_COLUMNS: dict[tuple[str, str], dict[str, np.ndarray]] = {}


def cost_column(cost_path: str, table_path: str, cost: str) -> tuple[str, np.ndarray]:
    """The objective's name and the values, per table row, of ``cost`` in ``cost_path``: a device whose
    ``<device>_latency_ms`` column the file has (``latency_ms``), or one of nasforge's costs (``params``,
    ``flops``) as a column of that name. The file is read once per process (workers run thousands of
    searches on it)."""
    key = (cost_path, table_path)
    if key not in _COLUMNS:
        _COLUMNS[key] = read_columns(cost_path, load_nb201(table_path))
    columns = _COLUMNS[key]
    if f"{cost}_latency_ms" in columns:
        return "latency_ms", columns[f"{cost}_latency_ms"]
    if cost in columns and cost in COSTS:
        return cost, columns[cost]
    offered = [c.removesuffix("_latency_ms") for c in columns if c.endswith("_latency_ms") or c in COSTS]
    raise DataError(f"{cost_path}: no device or cost {cost!r}; has {', '.join(offered) or 'none'}")


def _run_chunk(
    strategy: Strategy,
    table_path: str,
    cost_path: str,
    cost: str,
    dataset: str,
    seeds: list[int],
    queries: int,
    budgets: Sequence[int],
    executor: Any = None,
) -> Any:
    return timed_seeds(
        lambda s: run_pareto_search(strategy, table_path, cost_path, cost, dataset, s, queries, budgets), seeds
    )


def run_pareto_benchmark(
    table: str | Path,
    costs: str | Path,
    cost: str = "raspi4",
    dataset: str = "cifar10",
    strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None = None,
    queries: int = 300,
    seeds: int = 30,
    budgets: Sequence[int] = BUDGETS,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every strategy with seeds ``0..seeds-1``: validation hypervolume per budget (the table's rows, shaped
    like :func:`~nasforge.tabular.run_benchmark`'s, with the table's own front as the oracle) and, under
    ``"test_hypervolume"``, the test hypervolume of the returned points."""
    if queries < 1 or seeds < 1 or jobs < 1:
        raise ConfigError(f"bench: queries, seeds and jobs must be >= 1, got {queries}, {seeds}, {jobs}")
    table_path, cost_path = str(table), str(costs)
    nb201 = load_nb201(table_path)
    nb201.check_dataset(dataset)
    name, values = cost_column(cost_path, table_path, cost)
    top = float(values.max())
    oracle = hypervolume(_normalised(nb201.valid(dataset), values, top), _REFERENCE)
    chosen = resolve_strategies(strategies)
    chunks = seed_chunks(list(chosen), seeds)
    args = [(chosen[label], table_path, cost_path, cost, dataset, p, queries, tuple(budgets)) for label, p in chunks]
    outcomes, seconds = run_chunks(_run_chunk, chunks, args, jobs, progress=progress)
    marks = curve_marks(queries, budgets)
    results, curves, test = {}, {}, {}
    for label, runs in outcomes.items():
        values = np.asarray([curve for curve, _ in runs], dtype=np.float64)
        results[label] = {str(b): column_stats(values[:, marks.index(b)]) for b in checkpoints(queries, budgets)}
        curves[label] = {"budgets": marks, "mean_regret": [float(oracle - v) for v in values.mean(axis=0)]}
        test[label] = column_stats(np.asarray([t for _, t in runs]))
    return {
        "dataset": dataset,
        "oracle": oracle,
        "table": f"{Path(table_path).name} x {cost} {name}",
        "measure": f"hypervolume of (validation accuracy, {name}) evaluated, reference (0, -1) after normalising",
        "digits": 4,
        "queries": queries,
        "results": results,
        "curves": curves,
        "test_hypervolume": test,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
