"""Run strategies against a tabular benchmark, many seeds each, on the NAS-Bench-201 protocol.

One run is one :class:`~nasforge.run.Run`, the runner of every real search, over an in-memory store with the
:class:`~nasforge.evaluators.TabularEvaluator`: the same ask -> evaluate -> tell loop, executors, budget and
failure handling that users run, so what this harness measures is what they get. A proposal of an
architecture the run already evaluated is answered from memory by :func:`~nasforge.strategies.ask_new` and
costs no query. The run's answer at budget ``b`` is the architecture with the highest validation accuracy
among the first ``b`` queries (ties go to the earlier table row, the same rule that defines the oracle, so a
run that queries every architecture returns exactly the oracle); its test accuracy is read through
:meth:`~nasforge.evaluators.TabularEvaluator.final_test`, never during search.

Two kinds of parallelism: ``jobs`` runs whole searches (strategy x seed chunks) in separate processes, which
is how a 100-seed benchmark finishes in minutes; ``workers`` runs each search's trials on that many executor
workers (``executor: {type: processes}``, as ``nasforge search --workers N``), which measures how a strategy
fares when it must ask while earlier asks are still pending. Results with ``workers > 1`` depend on the order
in which trials complete, so they are not reproducible to the last digit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasforge.callbacks import Callback
from nasforge.exceptions import ConfigError
from nasforge.strategies import STRATEGIES, Strategy
from nasforge.tabular._nb201 import load_nb201

if TYPE_CHECKING:
    from nasforge.budget import Budget
    from nasforge.evaluators import TabularEvaluator
    from nasforge.executors import Executor
    from nasforge.fidelity import Scheduler
    from nasforge.objective import Objective
    from nasforge.run import Run
    from nasforge.trial import Trial

__all__ = ["BUDGETS", "checkpoints", "curve_marks", "resolve_strategies", "run_benchmark", "run_search"]

BUDGETS = (25, 50, 100, 150, 300)
_CURVE_STEP = 5
_CHUNK = 10


def checkpoints(queries: int, budgets: Sequence[int] = BUDGETS) -> list[int]:
    """The reported budgets up to ``queries`` (``queries`` itself always included)."""
    return sorted({b for b in budgets if b <= queries} | {queries})


def resolve_strategies(strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None) -> dict[str, Strategy]:
    """Label -> configured strategy; names go through the registry (unknown ones raise ``ConfigError``).

    A name given twice is one strategy; two strategy objects under one label (``Evolution(population=10)`` and
    ``Evolution(population=50)`` are both ``evolution``) are refused, as one would silently replace the other:
    a mapping gives them labels of their own."""
    if strategies is None:
        strategies = STRATEGIES.names()
    if isinstance(strategies, Mapping):
        return dict(strategies)
    out: dict[str, Strategy] = {}
    given: dict[str, str | Strategy] = {}
    for item in strategies:
        strategy = STRATEGIES.get(item)() if isinstance(item, str) else item
        label = item if isinstance(item, str) else strategy.name
        if given.setdefault(label, item) != item:  # a strategy object equals only itself
            raise ConfigError(
                f"strategies: two strategies labelled {label!r}; pass a mapping label -> strategy to tell them apart"
            )
        out[label] = strategy
    return out


class _Answers(Callback):
    """Follows the run's answer as trials end and reads its test accuracy (%) at every curve mark.

    Marks count what the run spent: queries (every trial costs 1), or with ``cost`` e.g. training epochs. A
    trial whose cost carries the total past a mark does not fit in that budget: the mark gets the answer from
    before it. The answer is the trial that reached the most epochs (a multi-fidelity run's deepest rung), then
    the highest validation accuracy, then the earlier table row.

    ``valid`` follows the same answers' validation accuracy (%) in the test table (the highest fidelity's):
    what the search could see of them, where a test accuracy also holds luck in the split. Where a run at 12
    epochs and one at 200 return different architectures of equal test accuracy, it tells which one found
    what it looked for.
    """

    def __init__(self, marks: Sequence[float], cost: Callable[[Trial], float] | None = None) -> None:
        self.marks = sorted(marks)
        self.cost = cost or (lambda trial: 1.0)
        self.curve: list[float] = []
        self.valid: list[float] = []
        self.spent = 0.0
        self.architectures = 0  # new architectures (trials without a parent)
        self._best: tuple[float, float, int] | None = None
        self._best_arch: str | None = None
        self._test_of: dict[str, float] = {}

    def on_trial_end(self, run: Run, trial: Trial) -> None:
        self.spent += self.cost(trial)
        self._mark(run, lambda mark: mark < self.spent)  # budgets this trial overshoots: the answer before it
        self.architectures += trial.parent is None
        if trial.score is not None:
            key = (trial.costs.get("epochs", 0), trial.score, -run.evaluator.table.row(trial.arch))
            if self._best is None or key > self._best:
                self._best, self._best_arch = key, trial.arch
        self._mark(run, lambda mark: mark <= self.spent)

    def finish(self, run: Run) -> list[float]:
        """The curve with every mark the run did not reach (it ran out of architectures) at its last answer."""
        self._mark(run, lambda mark: True)
        return self.curve

    def _mark(self, run: Run, reached: Callable[[float], bool]) -> None:
        while len(self.curve) < len(self.marks) and reached(self.marks[len(self.curve)]):
            self.curve.append(self.test(run))
            self.valid.append(self.validation(run))

    def validation(self, run: Run) -> float:
        """The answer's validation accuracy (%) in the test table: read after the search, as its test is."""
        if self._best_arch is None:
            return float("nan")
        evaluator = run.evaluator
        return float(evaluator.table.valid(evaluator.dataset)[evaluator.table.row(self._best_arch)])

    def test(self, run: Run) -> float:
        arch = self._best_arch
        if arch is None:
            return float("nan")
        if arch not in self._test_of:
            self._test_of[arch] = float(run.evaluator.final_test(arch, run.seed).metrics["accuracy_pct"])
        return self._test_of[arch]


def run_search(
    strategy: Strategy,
    table_path: str,
    dataset: str,
    seed: int,
    queries: int,
    budgets: Sequence[int] = BUDGETS,
    executor: Executor | None = None,
) -> list[float]:
    """One seeded run: the returned architecture's test accuracy (%) at every mark of :func:`curve_marks`.

    A strategy that runs out of proposals (``SpaceExhausted``) keeps its last answer for later marks; an
    architecture missing from the table is a failed trial (``None`` score) that still costs its query.
    ``executor`` (started and shut down by the caller) runs the trials; ``None`` runs them in this process.
    """
    from nasforge.evaluators import TabularEvaluator

    evaluator = TabularEvaluator(load_nb201(table_path), dataset)
    answers = _Answers(curve_marks(queries, budgets))
    run_tabular(strategy, evaluator, seed, query_budget(queries), answers, executor=executor)
    return answers.curve


def query_budget(queries: int) -> Budget:
    """``queries`` trials, all of them spent: a query of an architecture the table lacks is a failed trial that
    costs its query and the run goes on (the default ``max_failures`` would stop a run on a partial table after
    five such failures, and every later budget would report the answer from before the stop)."""
    from nasforge.budget import Budget

    return Budget(trials=queries, max_failures=queries)


def run_tabular(
    strategy: Strategy,
    evaluator: TabularEvaluator,
    seed: int,
    budget: Budget,
    answers: _Answers | Any,
    scheduler: Scheduler | None = None,
    executor: Executor | None = None,
    objective: Objective | None = None,
) -> None:
    """One :class:`~nasforge.run.Run` over an in-memory store, its answers followed by ``answers`` (a callback
    with a ``finish(run)`` that completes its record once the run stops)."""
    from nasforge.run import Run
    from nasforge.store import SQLiteStore

    run = Run(
        evaluator.table.space,
        strategy,
        evaluator,
        SQLiteStore(":memory:"),
        objective=objective,
        seed=seed,
        executor=executor,
        scheduler=scheduler,
    )
    run.optimize(budget, callbacks=[answers])
    run.store.close()
    answers.finish(run)


def curve_marks(queries: int, budgets: Sequence[int] = BUDGETS) -> list[int]:
    """Query counts at which a run records its answer: every ``_CURVE_STEP`` queries and every budget."""
    return sorted(set(range(_CURVE_STEP, queries + 1, _CURVE_STEP)) | set(checkpoints(queries, budgets)))


def _run_chunk(
    strategy: Strategy,
    table_path: str,
    dataset: str,
    seeds: list[int],
    queries: int,
    budgets: Sequence[int],
    executor: Executor | None = None,
) -> Any:
    return timed_seeds(lambda s: run_search(strategy, table_path, dataset, s, queries, budgets, executor), seeds)


def timed_seeds(search: Callable[[int], Any], seeds: Sequence[int]) -> tuple[list[Any], float]:
    """``search(seed)`` for every seed, BLAS limited to one thread (predictors multiply small matrices: more
    threads only contend with the other benchmark processes); the outcomes and the seconds they took."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        outcomes = [search(seed) for seed in seeds]
    return outcomes, time.perf_counter() - start


def run_benchmark(
    table: str | Path,
    dataset: str = "cifar10",
    strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None = None,
    queries: int = 300,
    seeds: int = 100,
    budgets: Sequence[int] = BUDGETS,
    jobs: int = 2,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every strategy with seeds ``0..seeds-1``; the result is plain data (the ``--out`` JSON).

    ``jobs`` searches run at once in separate processes; each search's trials run on ``workers`` executor
    workers (1: in the search's own process). Both at once would start ``jobs x workers`` processes from
    processes that are themselves pool workers, so ``workers > 1`` requires ``jobs = 1``.

    ``{"dataset", "oracle", "table", "queries", "results": {label: {budget: {"mean", "std", "seeds",
    "values"}}}, "curves": {label: {"budgets", "mean_regret"}}, "seconds": {label: wall seconds}}``.
    """
    if min(queries, seeds, jobs, workers) < 1:
        raise ConfigError(
            f"bench: queries, seeds, jobs and workers must be >= 1, got {queries}, {seeds}, {jobs}, {workers}"
        )
    if jobs > 1 and workers > 1:
        raise ConfigError(f"bench.jobs: must be 1 when workers > 1 (each search already uses {workers} workers)")
    table_path = str(table)
    nb201 = load_nb201(table_path)
    nb201.check_dataset(dataset)
    oracle = nb201.oracle(dataset)
    chosen = resolve_strategies(strategies)
    chunks = seed_chunks(chosen, seeds)
    args = [(chosen[label], table_path, dataset, part, queries, tuple(budgets)) for label, part in chunks]
    curves, seconds = run_chunks(_run_chunk, chunks, args, jobs, workers, progress)
    return _summarise(table_path, dataset, oracle, queries, budgets, curves, seconds)


def seed_chunks(labels: Sequence[str], seeds: int) -> list[tuple[str, list[int]]]:
    """(label, seeds) work units of ``_CHUNK`` seeds: small enough to keep every job busy to the end."""
    return [(label, list(range(s, min(s + _CHUNK, seeds)))) for label in labels for s in range(0, seeds, _CHUNK)]


def run_chunks(
    task: Callable[..., Any],
    chunks: list[tuple[str, list[int]]],
    args: list[tuple],
    jobs: int,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, list[Any]], dict[str, float]]:
    """``task(*args[i], executor)`` for every chunk, ``jobs`` at a time; per label: the outcomes and seconds.

    ``task`` returns ``(outcomes of the chunk's seeds, seconds)``. With ``jobs = 1`` the chunks run here, their
    trials on ``workers`` executor worker processes (one set for every search; each ships them its evaluator).
    """
    outcomes: dict[str, list[Any]] = {label: [] for label, _ in chunks}
    seconds: dict[str, float] = dict.fromkeys(outcomes, 0.0)
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            _collect(chunks, pool.map(task, *zip(*args, strict=True)), outcomes, seconds, progress)
        return outcomes, seconds
    from nasforge.api import make_executor

    executor = make_executor({"type": "processes", "workers": workers} if workers > 1 else None)
    try:
        _collect(chunks, (task(*a, executor) for a in args), outcomes, seconds, progress)
    finally:
        executor.shutdown()
    return outcomes, seconds


def _collect(chunks: list, results: Any, outcomes: dict, seconds: dict, progress: Callable | None) -> None:
    for (label, part), (chunk_outcomes, elapsed) in zip(chunks, results, strict=True):
        outcomes[label].extend(chunk_outcomes)
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
            results[label][str(b)] = column_stats(values[:, marks.index(b)])
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


def column_stats(column: np.ndarray) -> dict[str, Any]:
    """Mean, sample std, count and the values (%) of one budget's answers over seeds."""
    return {
        "mean": float(column.mean()),
        "std": float(column.std(ddof=1)) if len(column) > 1 else 0.0,
        "seeds": len(column),
        "values": [round(float(v), 4) for v in column],
    }
