"""Answer an architecture's score from a results table instead of training it (NAS-Bench-201 style).

The search protocol lives here: :meth:`TabularEvaluator.evaluate` reads only the ``<dataset>_valid`` column;
the ``<dataset>_test`` column is reachable only through :meth:`TabularEvaluator.final_test`, which a runner
calls for the architecture it returns. ``queries`` and ``test_reads`` count both, so a harness can prove it.
"""

from __future__ import annotations

import os
from collections.abc import Hashable

from nasforge.evaluators._base import Evaluation, Evaluator, FinalReport
from nasforge.tabular._nb201 import NB201Table, load_nb201

__all__ = ["TabularEvaluator"]


class TabularEvaluator(Evaluator):
    """Validation accuracy of a tabulated architecture, instantly; test accuracy only for the final report.

    Metrics are fractions like every other evaluator's (``accuracy`` = valid % / 100); ``accuracy_pct``
    keeps the table's percent for NB201 reporting.

    >>> ev = TabularEvaluator("nb201_12ep.csv.gz", dataset="cifar10")  # doctest: +SKIP
    >>> ev.evaluate(arch, seed=0).metrics["accuracy_pct"]  # doctest: +SKIP
    84.892
    """

    def __init__(self, table: NB201Table | str | os.PathLike[str], dataset: str = "cifar10") -> None:
        self.table = table if isinstance(table, NB201Table) else load_nb201(str(table))
        self.dataset = dataset
        self._column = self.table.check_dataset(dataset)
        self._valid = self.table.valid(dataset)
        self.queries = 0
        self.test_reads = 0

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        value = float(self._valid[self.table.row(arch)])
        self.queries += 1
        return Evaluation(metrics={"accuracy": value / 100.0, "accuracy_pct": value})

    def for_workers(self, load_data: bool = False) -> TabularEvaluator:
        """The validation column only: a worker process never holds the test column (a table is always sent)."""
        return TabularEvaluator(self.table.without_test(), self.dataset)

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        value = float(self.table.test(self.dataset)[self.table.row(arch)])
        self.test_reads += 1
        return FinalReport(metrics={"accuracy": value / 100.0, "accuracy_pct": value})
