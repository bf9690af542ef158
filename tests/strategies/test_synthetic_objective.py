"""Regularized evolution against random search on a cheap objective with structure, over many seeds.

The objective rewards each edge's op with a fixed weight and adds pairwise interactions between neighbouring
edges, so good architectures share building blocks: the setting evolution is designed for.
"""

from __future__ import annotations

import numpy as np

from nasforge.spaces import CellSpace
from nasforge.strategies import RandomSearch, RegularizedEvolution, Strategy, ask_new

SPACE = CellSpace()
_RNG = np.random.default_rng(1234)
_UNARY = _RNG.normal(size=(len(SPACE.decisions), len(SPACE.ops)))
_PAIR = _RNG.normal(scale=0.5, size=(len(SPACE.decisions) - 1, len(SPACE.ops), len(SPACE.ops)))


def objective(arch) -> float:
    v = SPACE.to_decisions(arch)
    return float(sum(_UNARY[i, x] for i, x in enumerate(v)) + sum(_PAIR[i, v[i], v[i + 1]] for i in range(len(v) - 1)))


def best_after(strategy: Strategy, seed: int, queries: int) -> float:
    strategy.bind(SPACE, seed)
    seen: dict = {}
    for _ in range(queries):
        arch = ask_new(strategy, seen)
        seen[arch] = objective(arch)
        strategy.tell(arch, seen[arch])
    return max(seen.values())


def test_regularized_evolution_beats_random_search_over_many_seeds():
    seeds = range(40)
    evolution = [best_after(RegularizedEvolution(population=10, sample=3), s, 100) for s in seeds]
    random = [best_after(RandomSearch(), s, 100) for s in seeds]
    optimum = max(objective(a) for a in SPACE.enumerate())
    assert np.mean(evolution) > np.mean(random)
    wins = sum(e > r for e, r in zip(evolution, random, strict=True))
    assert wins >= 26, f"evolution won on {wins} of 40 seeds"
    assert optimum - np.mean(evolution) < 0.5 * (optimum - np.mean(random))
