"""Determinism: the same config and seed give the same search, the same architectures in the same order and, on the
CPU, the same metrics to the last bit; another seed gives another search.

A search is reproducible only if every random draw hangs off its seed: the split, each trial's weights and batch
order (``derive_seed``), and the strategy's proposals, which in turn follow the scores. One stray unseeded draw
(or a set iterated in hash order) shows up here as a different architecture or a different last digit.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pytest

import nasforge as nf
from nasforge.api import components_from_config
from nasforge.config import parse_config
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.run import Run
from nasforge.spaces import ChainSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import STRATEGIES

CONFIG = {
    "data": {"builtin": "synthetic", "kind": "image", "n": 150},
    "space": {"type": "chain", "widths": [4, 8], "depth": [1, 2]},
    # A population of two: from the third trial on, evolution mutates the better of what the scores say.
    "strategy": {"name": "evolution", "population": 2, "sample": 2},
    "train": {"epochs": 2, "device": "cpu"},
    "budget": {"trials": 4},
}


def record(run: Run) -> list[tuple[Any, ...]]:
    """What must repeat exactly: each trial's architecture, seed, validation metrics, size and learning curve
    (everything but the seconds it took)."""
    return [
        (
            t.arch,
            t.seed,
            t.state,
            dict(t.metrics),
            {k: t.costs[k] for k in ("params", "flops")},
            [{k: v for k, v in point.items() if k != "seconds"} for point in t.curve],
        )
        for t in run.trials
    ]


def search(seed: int) -> Run:
    """A search from ``CONFIG`` as the CLI runs one (config -> components -> search), kept in memory."""
    return nf.search(**components_from_config(parse_config({**CONFIG, "seed": seed})))


def test_the_same_config_and_seed_repeat_the_search_bit_for_bit() -> None:
    first, again = search(seed=3), search(seed=3)
    assert len(first.trials) == 4 and all(t.state is nf.TrialState.FINISHED for t in first.trials)
    assert record(first) == record(again)  # floats compared with ==: bit-identical
    assert first.best.trial.id == again.best.trial.id and dict(first.best.test) == dict(again.best.test)
    other = search(seed=4)
    assert [t.arch for t in other.trials] != [t.arch for t in first.trials]


class WidthScore(Evaluator):
    """A deterministic score without training: chains near 24 channels in all score best, so that score-driven
    strategies have something to follow."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        channels = sum(layer.width or 0 for layer in arch.layers)
        return Evaluation({"accuracy": 1.0 / (1.0 + abs(channels - 24)), "loss": float(abs(channels - 24))})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


STRATEGY_OPTIONS = {
    "evolution": {"population": 4, "sample": 2},
    "bananas": {"init": 4, "batch": 2, "candidates": 20, "parents": 2, "ensemble": 2, "epochs": 20},
    "random": {},
}


def asks(name: str, seed: int, trials: int = 12) -> list[str]:
    """The architectures a search proposes, in order, past the strategy's random start."""
    space = ChainSpace(input_shape=(1, 8, 8), widths=(4, 8, 16), depth=(1, 3))
    strategy = STRATEGIES.get(name)(**STRATEGY_OPTIONS[name])
    run = Run(space, strategy, WidthScore(), SQLiteStore(":memory:"), seed=seed)
    run.optimize(nf.Budget(trials=trials))
    return [t.arch for t in run.trials]


@pytest.mark.parametrize("name", list(STRATEGY_OPTIONS))
def test_a_strategy_asks_the_same_architectures_for_the_same_seed_only(name: str) -> None:
    first, again, other = asks(name, seed=0), asks(name, seed=0), asks(name, seed=1)
    assert len(first) == 12 and first == again
    assert other != first
