"""Multi-fidelity search on two NAS-Bench-201 tables, with the cost counted in training epochs.

The shared tables give every architecture a 12-epoch and a 200-epoch result. Every setup gets the same budget
of training epochs (``trainings`` full 200-epoch trainings' worth; a 12-epoch answer costs 12, a 200-epoch one
200, also after a 12-epoch one, as the tables' trainings are independent) and is judged by the 200-epoch test
accuracy of the architecture it returns:

- ``<strategy> @200``: every architecture trained fully; ``trainings`` of them.
- ``<strategy> @12``: every architecture trained 12 epochs, ``200/12`` times as many, the answer the best
  12-epoch one (the NAS-Bench-201 papers' protocol).
- ``<strategy> + <scheduler>``: the strategy proposes architectures at 12 epochs, the scheduler (ASHA,
  successive halving, Hyperband over the rungs 12 and 200) promotes the top ``1/eta`` to 200, and the answer is
  the best 200-epoch result (the best 12-epoch one while there is none).

Each setup is also reported by its answer's validation accuracy in the high table (``valid``): what the search
can see. On cifar10 the best 12-epoch architecture tests as well as the best 200-epoch one without being it,
and only the validation accuracy tells the two apart.

Each setup is one :class:`~nasforge.run.Run` with an epochs :class:`~nasforge.budget.Budget`, the runner of every
real search; answers are read where the epochs spent cross each mark (a trial that does not fit in a budget is
not counted in it). On a partial table, a lookup of an architecture a table lacks is a failed trial that costs
the epochs it asked for, and the run goes on (see :class:`~nasforge.evaluators.TabularEvaluator`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasforge.exceptions import ConfigError
from nasforge.fidelity import SCHEDULERS
from nasforge.strategies import Strategy
from nasforge.tabular._harness import (
    _Answers,
    column_stats,
    resolve_strategies,
    run_chunks,
    run_tabular,
    seed_chunks,
    timed_seeds,
)
from nasforge.tabular._nb201 import load_nb201
from nasforge.trial import epochs_trained

if TYPE_CHECKING:
    from nasforge.budget import Budget
    from nasforge.executors import Executor

__all__ = ["FidelityRun", "FidelitySetup", "fidelity_setups", "run_fidelity_benchmark", "run_fidelity_search"]

MARKS = (5, 10, 25, 50)
"""Budgets reported, in full trainings (a mark of 10 is ``10 x high`` epochs)."""


@dataclass(frozen=True)
class FidelitySetup:
    """One way to spend the epochs: a strategy at one fidelity, or at both under a scheduler."""

    label: str
    strategy: Strategy
    epochs: tuple[int, ...]  # the fidelities its evaluator answers
    scheduler: str | None = None
    eta: int = 3


@dataclass(frozen=True)
class FidelityRun:
    """One seeded run's answers at every mark: their high-table test and validation accuracy (%), and the
    architectures it evaluated in the whole budget."""

    test: list[float]
    valid: list[float]
    architectures: int


def fidelity_setups(
    strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None,
    low: int,
    high: int,
    schedulers: Sequence[str] = ("asha",),
    eta: int = 3,
) -> list[FidelitySetup]:
    """Per strategy: single fidelity at ``high`` and at ``low``, then under every scheduler."""
    if not 0 < low < high:
        raise ConfigError(f"bench: the low fidelity must be below the high one, got {low} and {high} epochs")
    for name in schedulers:
        if name not in SCHEDULERS:
            raise ConfigError(f"bench.schedulers: must be among {', '.join(SCHEDULERS)}, got {name!r}")
        SCHEDULERS[name](max_epochs=high, eta=eta, rungs=(low, high))  # a bad eta: one line, before any run
    setups = []
    for label, strategy in resolve_strategies(strategies).items():
        setups += [FidelitySetup(f"{label} @{e}", strategy, (e,)) for e in (high, low)]
        setups += [FidelitySetup(f"{label} + {s}", strategy, (low, high), s, eta) for s in schedulers]
    return setups


def epochs_budget(epochs: int) -> Budget:
    """``epochs`` training epochs, all of them spent: every lookup, answered or missing, costs at least one
    epoch, so the budget ends the run before ``epochs`` failures could (the default ``max_failures`` would
    stop a run on a partial table after five missing architectures)."""
    from nasforge.budget import Budget

    return Budget(epochs=epochs, max_failures=epochs)


def run_fidelity_search(
    setup: FidelitySetup,
    tables: Mapping[int, str],
    dataset: str,
    seed: int,
    trainings: int,
    executor: Executor | None = None,
) -> FidelityRun:
    """One seeded run: the 200-epoch test and validation accuracy (%) of its answer at every mark, and the
    architectures it saw.

    ``tables`` maps epochs to table paths (the low and the high fidelity); test accuracy is the high table's.
    An architecture missing from either table is a failed trial that costs the epochs it was asked for.
    """
    from nasforge.evaluators import TabularEvaluator

    high = max(tables)
    evaluator = TabularEvaluator({e: load_nb201(tables[e]) for e in setup.epochs}, dataset, load_nb201(tables[high]))
    scheduler = None
    if setup.scheduler is not None:
        scheduler = SCHEDULERS[setup.scheduler](max_epochs=high, eta=setup.eta, rungs=setup.epochs)
    answers = _Answers([m * high for m in marks(trainings)], cost=epochs_trained)
    run_tabular(setup.strategy, evaluator, seed, epochs_budget(trainings * high), answers, scheduler, executor)
    return FidelityRun(answers.curve, answers.valid, answers.architectures)


def marks(trainings: int) -> list[int]:
    """The reported budgets up to ``trainings`` (itself always included), in full trainings."""
    return sorted({m for m in MARKS if m <= trainings} | {trainings})


def _run_chunk(
    setup: FidelitySetup,
    tables: Mapping[int, str],
    dataset: str,
    seeds: list[int],
    trainings: int,
    executor: Executor | None = None,
) -> Any:
    return timed_seeds(lambda s: run_fidelity_search(setup, tables, dataset, s, trainings, executor), seeds)


def run_fidelity_benchmark(
    low_table: str | Path,
    high_table: str | Path,
    dataset: str = "cifar10",
    strategies: Sequence[str | Strategy] | Mapping[str, Strategy] | None = None,
    schedulers: Sequence[str] = ("asha",),
    eta: int = 3,
    low: int = 12,
    high: int = 200,
    trainings: int = 50,
    seeds: int = 30,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every setup of :func:`fidelity_setups` with seeds ``0..seeds-1``; plain data (the ``--out`` JSON).

    Shaped like :func:`~nasforge.tabular.run_benchmark`'s result, its budgets in full trainings (``"unit"``),
    plus ``"architectures"``: the mean number of architectures each setup evaluated in the whole budget, and
    ``"valid"``: per setup and budget, the high table's validation accuracy of the answers (the highest in the
    table is ``"valid_oracle"``).
    """
    if trainings < 1 or seeds < 1 or jobs < 1:
        raise ConfigError(f"bench: trainings, seeds and jobs must be >= 1, got {trainings}, {seeds}, {jobs}")
    tables = {low: str(low_table), high: str(high_table)}
    for path in tables.values():
        load_nb201(path).check_dataset(dataset)
    high_table = load_nb201(tables[high])
    oracle = high_table.oracle(dataset)
    setups = {s.label: s for s in fidelity_setups(strategies, low, high, schedulers, eta)}
    chunks = seed_chunks(list(setups), seeds)
    args = [(setups[label], tables, dataset, part, trainings) for label, part in chunks]
    outcomes, seconds = run_chunks(_run_chunk, chunks, args, jobs, progress=progress)
    points = marks(trainings)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    valid: dict[str, dict[str, dict[str, Any]]] = {}
    architectures: dict[str, float] = {}
    curves: dict[str, dict[str, list[float]]] = {}
    for label, runs in outcomes.items():
        values = np.asarray([run.test for run in runs], dtype=np.float64)
        results[label] = {str(m): column_stats(values[:, i]) for i, m in enumerate(points)}
        seen = np.asarray([run.valid for run in runs], dtype=np.float64)
        valid[label] = {str(m): column_stats(seen[:, i]) for i, m in enumerate(points)}
        architectures[label] = float(np.mean([run.architectures for run in runs]))
        curves[label] = {"budgets": points, "mean_regret": [float(oracle - v) for v in values.mean(axis=0)]}
    return {
        "dataset": dataset,
        "oracle": oracle,
        "table": f"{Path(tables[low]).name} + {Path(tables[high]).name}",
        "unit": f"x{high} epochs",
        "trainings": trainings,
        "eta": eta,
        "results": results,
        "curves": curves,
        "architectures": architectures,
        "valid": valid,
        "valid_oracle": float(high_table.valid(dataset)[high_table.best_valid_row(dataset)]),
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
