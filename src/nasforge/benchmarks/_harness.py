"""Run strategies against a tabular benchmark, many seeds each, on the NAS-Bench-201 protocol.

One run is: bind the strategy to the cell space with a seed, then ``ask -> evaluate -> tell`` until the query
budget is spent. A proposal of an architecture the run already evaluated is answered from memory by
:func:`~nasforge.strategies.ask_new` and costs no query. The run's answer at budget ``b`` is the architecture
with the highest validation accuracy among the first ``b`` queries (ties go to the earlier table row, the
same rule that defines the oracle, so a run that queries every architecture returns exactly the oracle); its
test accuracy is read through :meth:`~nasforge.evaluators.TabularEvaluator.final_test`, never during search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.benchmarks._nb201 import load_nb201
from nasforge.exceptions import NasforgeError
from nasforge.strategies import STRATEGIES, SpaceExhausted, Strategy, ask_new

__all__ = ["BUDGETS", "checkpoints", "curve_marks", "resolve_strategies", "run_benchmark", "run_search"]

BUDGETS = (25, 50, 100, 150, 300)
_CURVE_STEP = 5
_CHUNK = 10


def checkpoints(queries: int, budgets: Sequence[int] = BUDGETS) -> list[int]:
    """The reported budgets up to ``queries`` (``queries`` itself always included)."""
    return sorted({b for b in budgets if b <= queries} | {queries})


def resolve_strategies(strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None) -> dict[str, Strategy]:
    """Label -> configured strategy; names go through the registry (unknown ones raise ``ConfigError``)."""
    if strategies is None:
        strategies = STRATEGIES.names()
    if isinstance(strategies, Mapping):
        return dict(strategies)
    out: dict[str, Strategy] = {}
    for item in strategies:
        strategy = STRATEGIES.get(item)() if isinstance(item, str) else item
        out[item if isinstance(item, str) else strategy.name] = strategy
    return out


def run_search(
    strategy: Strategy,
    table_path: str,
    dataset: str,
    seed: int,
    queries: int,
    budgets: Sequence[int] = BUDGETS,
) -> list[float]:
    """One seeded run: the returned architecture's test accuracy (%) at every mark of :func:`curve_marks`.

    A strategy that runs out of proposals (``SpaceExhausted``) keeps its last answer for later marks; an
    architecture missing from the table is a failed trial (``None`` score) that still costs its query.
    """
    from nasforge.evaluators._tabular import TabularEvaluator

    evaluator = TabularEvaluator(load_nb201(table_path), dataset)
    strategy.bind(evaluator.table.space, seed)
    seen: dict[Hashable, float | None] = {}
    best: tuple[float, int] | None = None
    best_arch: Hashable = None
    test_of: dict[Hashable, float] = {}
    curve: list[float] = []
    marks = set(curve_marks(queries, budgets))
    for q in range(1, queries + 1):
        try:
            arch = ask_new(strategy, seen)
        except SpaceExhausted:
            break
        try:
            score: float | None = float(evaluator.evaluate(arch, seed).metrics["accuracy_pct"])
        except NasforgeError:  # not in the table: a failed trial, as a crashed training would be
            score = None
        seen[arch] = score
        strategy.tell(arch, score)
        if score is not None:
            key = (score, -evaluator.table.row(arch))
            if best is None or key > best:
                best, best_arch = key, arch
        if q in marks:
            curve.append(_test(evaluator, best_arch, seed, test_of))
    while len(curve) < len(marks):
        curve.append(_test(evaluator, best_arch, seed, test_of))
    return curve


def _test(evaluator: Any, arch: Hashable, seed: int, cache: dict[Hashable, float]) -> float:
    if arch is None:
        return float("nan")
    if arch not in cache:
        cache[arch] = float(evaluator.final_test(arch, seed).metrics["accuracy_pct"])
    return cache[arch]


def curve_marks(queries: int, budgets: Sequence[int] = BUDGETS) -> list[int]:
    """Query counts at which a run records its answer: every ``_CURVE_STEP`` queries and every budget."""
    return sorted(set(range(_CURVE_STEP, queries + 1, _CURVE_STEP)) | set(checkpoints(queries, budgets)))


def _run_chunk(
    strategy: Strategy, table_path: str, dataset: str, seeds: list[int], queries: int, budgets: Sequence[int]
) -> Any:
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    # predictors multiply small matrices: BLAS threads only contend with the other workers
    with threadpool_limits(limits=1):
        curves = [run_search(strategy, table_path, dataset, seed, queries, budgets) for seed in seeds]
    return curves, time.perf_counter() - start


def run_benchmark(
    table: str | Path,
    dataset: str = "cifar10",
    strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None = None,
    queries: int = 300,
    seeds: int = 100,
    budgets: Sequence[int] = BUDGETS,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every strategy with seeds ``0..seeds-1``; the result is plain data (the ``--out`` JSON).

    ``{"dataset", "oracle", "table", "queries", "results": {label: {budget: {"mean", "std", "seeds",
    "values"}}}, "curves": {label: {"budgets", "mean_regret"}}, "seconds": {label: wall seconds}}``.
    """
    table_path = str(table)
    nb201 = load_nb201(table_path)
    nb201.check_dataset(dataset)
    oracle = nb201.oracle(dataset)
    chosen = resolve_strategies(strategies)
    chunks = [(label, list(range(s, min(s + _CHUNK, seeds)))) for label in chosen for s in range(0, seeds, _CHUNK)]
    curves: dict[str, list[list[float]]] = {label: [] for label in chosen}
    seconds: dict[str, float] = dict.fromkeys(chosen, 0.0)
    args = [(chosen[label], table_path, dataset, part, queries, tuple(budgets)) for label, part in chunks]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outcomes = pool.map(_run_chunk, *zip(*args, strict=True))
            _collect(chunks, outcomes, curves, seconds, progress)
    else:
        _collect(chunks, (_run_chunk(*a) for a in args), curves, seconds, progress)
    return _summarise(table_path, dataset, oracle, queries, budgets, curves, seconds)


def _collect(chunks: list, outcomes: Any, curves: dict, seconds: dict, progress: Callable | None) -> None:
    for (label, part), (chunk_curves, elapsed) in zip(chunks, outcomes, strict=True):
        curves[label].extend(chunk_curves)
        seconds[label] += elapsed
        if progress is not None:
            progress(f"{label}: seeds {part[0]}-{part[-1]} done in {elapsed:.1f}s")


def _summarise(
    table_path: str,
    dataset: str,
    oracle: float,
    queries: int,
    budgets: Sequence[int],
    curves: dict[str, list[list[float]]],
    seconds: dict[str, float],
) -> dict[str, Any]:
    marks = curve_marks(queries, budgets)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    curve_out: dict[str, dict[str, list[float]]] = {}
    for label, runs in curves.items():
        values = np.asarray(runs, dtype=np.float64)
        results[label] = {}
        for b in checkpoints(queries, budgets):
            column = values[:, marks.index(b)]
            results[label][str(b)] = {
                "mean": float(column.mean()),
                "std": float(column.std(ddof=1)) if len(column) > 1 else 0.0,
                "seeds": len(column),
                "values": [round(float(v), 4) for v in column],
            }
        curve_out[label] = {"budgets": marks, "mean_regret": [float(oracle - v) for v in values.mean(axis=0)]}
    return {
        "dataset": dataset,
        "oracle": oracle,
        "table": Path(table_path).name,
        "queries": queries,
        "results": results,
        "curves": curve_out,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
