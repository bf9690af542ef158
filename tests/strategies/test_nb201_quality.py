"""Strategies beat random search on the real NAS-Bench-201 table (12 epochs, CIFAR-10), few seeds, fast.

The margins were checked on several disjoint seed sets (see docs/benchmarks.md for the 100-seed figures); the
runs themselves are deterministic, so these tests cannot flicker.
"""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.strategies import STRATEGIES
from nasforge.tabular import run_search


def mean_at(name: str, table, queries: int, seeds: int = 10) -> float:
    runs = [
        run_search(STRATEGIES.get(name)(), str(table), "cifar10", s, queries, budgets=(queries,))[-1]
        for s in range(seeds)
    ]
    return float(np.mean(runs))


@pytest.mark.parametrize("name", ["evolution", "local"])
def test_beats_random_search_at_150_queries(nb201_12ep, name):
    # over ten disjoint 10-seed sets the smallest lead was 0.44 (evolution) and 0.48 (local) points
    assert mean_at(name, nb201_12ep, 150) > mean_at("random", nb201_12ep, 150) + 0.2


def test_the_same_seed_gives_the_same_answer(nb201_12ep):
    runs = [run_search(STRATEGIES.get("evolution")(), str(nb201_12ep), "cifar10", 3, 60) for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in STRATEGIES.names() if n not in ("random", "grid")])
def test_every_learning_strategy_beats_random_at_150_queries(nb201_12ep, name):
    assert mean_at(name, nb201_12ep, 150, seeds=50) > mean_at("random", nb201_12ep, 150, seeds=50)
