"""Answer an architecture's score from a results table instead of training it (NAS-Bench-201 style).

The search protocol lives here: :meth:`TabularEvaluator.evaluate` reads only the ``<dataset>_valid`` column;
the ``<dataset>_test`` column is reachable only through :meth:`TabularEvaluator.final_test`, which a runner
calls for the architecture it returns. ``queries`` and ``test_reads`` count both, so a harness can prove it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Hashable, Mapping

import numpy as np

from nasforge.evaluators._base import Evaluation, Evaluator, FinalReport, Plan
from nasforge.exceptions import DataError, TrialFailed
from nasforge.tabular._nb201 import NB201Table, load_nb201

__all__ = ["TabularEvaluator"]


class TabularEvaluator(Evaluator):
    """Validation accuracy of a tabulated architecture, instantly; test accuracy only for the final report.

    Metrics are fractions like every other evaluator's (``accuracy`` = valid % / 100); ``accuracy_pct``
    keeps the table's percent for NB201 reporting.

    ``table`` may also map training epochs to tables of the same architectures (``{12: nb201_12ep, 200:
    nb201_200ep}``): the evaluator then has those fidelities, a plan's ``until`` picks one (the highest
    without a plan), each answer costs its epochs (``epochs`` and ``epochs_trained``: the tables' trainings are
    independent, so a 200-epoch answer costs 200 after a 12-epoch one too), and the test accuracy is always
    read from the highest fidelity's table (or from ``test_table``: a search on 12-epoch results reports the
    returned architecture's 200-epoch test accuracy, the NAS-Bench-201 papers' protocol).

    On a partial table an architecture without a row is a failed trial that costs what an answer would have:
    its query, and with fidelities the epochs it asked for, as a real failed training costs the epochs it
    trained (free misses would let an epochs budget run through the whole space).

    >>> ev = TabularEvaluator("nb201_12ep.csv.gz", dataset="cifar10")  # doctest: +SKIP
    >>> ev.evaluate(arch, seed=0).metrics["accuracy_pct"]  # doctest: +SKIP
    84.892
    """

    costs_are_free = True

    def __init__(
        self,
        table: NB201Table | str | os.PathLike[str] | Mapping[int, NB201Table | str | os.PathLike[str]],
        dataset: str = "cifar10",
        test_table: NB201Table | str | os.PathLike[str] | None = None,
        costs: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        tables = {int(e): _load(t) for e, t in table.items()} if isinstance(table, Mapping) else {0: _load(table)}
        if not tables:
            raise DataError("a tabular evaluator needs at least one table")
        self.tables = dict(sorted(tables.items()))
        self.fidelities = [e for e in self.tables if e > 0]  # empty: one table, answers cost no epochs
        # test accuracy (and row order) come from the highest fidelity's table unless another is named
        self.table = _load(test_table) if test_table is not None else self.tables[max(self.tables)]
        self.table.check_dataset(dataset)
        self.dataset = dataset
        self._valid = {e: t.valid(dataset) for e, t in self.tables.items()}
        # properties of the architecture alone, one value per row of the test table (a device's measured
        # latency, parameters, FLOPs): free to read during search, as a real search measures them before training
        self.costs = dict(costs or {})
        self.queries = 0
        self.test_reads = 0

    def evaluate(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Evaluation:
        epochs = plan.until if plan is not None and plan.until is not None else max(self.tables)
        if epochs not in self._valid:
            raise DataError(f"no table for {epochs} epochs (this benchmark has {', '.join(map(str, self.fidelities))})")
        try:
            value = float(self._valid[epochs][self.tables[epochs].row(arch)])
            row = self.table.row(arch)
        except DataError as exc:  # a partial table: the architecture has no row
            if not self.fidelities:
                raise  # a failed query, which costs its query as every trial does
            raise TrialFailed(str(exc), costs={"epochs_trained": epochs}) from None
        self.queries += 1
        metrics = {"accuracy": value / 100.0, "accuracy_pct": value}
        costs = {name: float(values[row]) for name, values in self.costs.items()}
        if not self.fidelities:
            return Evaluation(metrics=metrics, costs=costs)
        costs |= {"epochs": epochs, "epochs_trained": epochs}
        return Evaluation(metrics=metrics, costs=costs, curve=({"epoch": epochs, **metrics},))

    def costs_before_training(self, arch: Hashable, names: Collection[str]) -> dict[str, float]:
        """The table's costs of ``arch`` among ``names``: read freely, as a real search measures them before
        training (no query is counted). Nothing for an architecture a partial table lacks: a strategy that reads
        costs then predicts them, where an error would come out of its ``ask`` and end the search."""
        if self.table.space.parse(arch) not in self.table:
            return {}
        row = self.table.row(arch)
        return {name: float(self.costs[name][row]) for name in names if name in self.costs}

    def for_workers(self, load_data: bool = False) -> TabularEvaluator:
        """The validation columns only: a worker process never holds a test column (tables are always sent)."""
        tables = {e: t.without_test() for e, t in self.tables.items()}
        test = self.table.without_test()
        return TabularEvaluator(tables if self.fidelities else tables[0], self.dataset, test, self.costs)

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        value = float(self.table.test(self.dataset)[self.table.row(arch)])
        self.test_reads += 1
        return FinalReport(metrics={"accuracy": value / 100.0, "accuracy_pct": value})


def _load(table: NB201Table | str | os.PathLike[str]) -> NB201Table:
    return table if isinstance(table, NB201Table) else load_nb201(str(table))
