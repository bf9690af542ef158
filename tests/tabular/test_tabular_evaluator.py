"""The protocol lives in the evaluator: search reads validation only, test is read for the final report."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.evaluators import Evaluator, TabularEvaluator
from nasforge.exceptions import DataError
from nasforge.tabular import NB201Table


def test_evaluate_answers_validation_accuracy_only(tiny):
    table = NB201Table(tiny)
    ev = TabularEvaluator(table, "cifar100")
    assert isinstance(ev, Evaluator)
    arch = table.archs[3]
    result = ev.evaluate(arch, seed=0)
    assert result.metrics["accuracy_pct"] == table.valid("cifar100")[3]
    assert result.metrics["accuracy"] == pytest.approx(table.valid("cifar100")[3] / 100)
    assert not any("test" in key for key in result.metrics)
    assert (ev.queries, ev.test_reads) == (1, 0)


def test_evaluate_never_touches_the_test_column(tiny, monkeypatch):
    table = NB201Table(tiny)
    ev = TabularEvaluator(table, "cifar10")

    def forbidden(dataset):
        raise AssertionError("evaluate read a test column")

    monkeypatch.setattr(table, "test", forbidden)
    for arch in table.archs[:20]:
        ev.evaluate(arch, seed=1)


def test_final_test_reads_the_test_column(tiny):
    table = NB201Table(tiny)
    ev = TabularEvaluator(str(tiny), "cifar10")
    report = ev.final_test(table.archs[5], seed=0)
    assert report.metrics["accuracy_pct"] == table.test("cifar10")[5]
    assert ev.test_reads == 1


def test_unknown_dataset_and_architecture(tiny):
    with pytest.raises(DataError, match="no dataset 'svhn'"):
        TabularEvaluator(tiny, "svhn")
    ev = TabularEvaluator(tiny, "cifar10")
    with pytest.raises(DataError, match="no row"):
        ev.evaluate("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", seed=0)


def test_the_copy_for_workers_answers_validation_and_holds_no_test_column(tiny):
    ev = TabularEvaluator(str(tiny), "cifar10")
    remote = ev.for_workers()
    arch = ev.table.archs[7]
    assert remote.evaluate(arch, seed=0).metrics == ev.evaluate(arch, seed=0).metrics
    assert not (remote.table._values[:, 1::2] == remote.table._values[:, 1::2]).any()  # all NaN
    with pytest.raises(DataError, match="no test columns"):
        remote.final_test(arch, seed=0)
    assert ev.final_test(arch, seed=0).metrics["accuracy_pct"] == ev.table.test("cifar10")[7]


def test_costs_before_training_are_read_without_a_query(tiny):
    table = NB201Table(tiny)
    ev = TabularEvaluator(table, "cifar100", costs={"latency_ms": np.arange(len(table.archs)) / 10})
    assert ev.costs_before_training(table.archs[3], {"latency_ms", "params"}) == {"latency_ms": 0.3}
    assert (ev.queries, ev.test_reads) == (0, 0)
