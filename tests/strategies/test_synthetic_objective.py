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


_COST = np.abs(_RNG.normal(size=(len(SPACE.decisions), len(SPACE.ops))))  # a cost that conflicts in part


def objectives(arch) -> tuple[float, float]:
    """Two objectives to maximise: the structured score above, and minus a per-edge cost."""
    v = SPACE.to_decisions(arch)
    return objective(arch), -float(sum(_COST[i, x] + 0.5 * _UNARY[i, x] for i, x in enumerate(v)))


def hypervolume_after(strategy: Strategy, seed: int, queries: int) -> float:
    from nasforge.pareto import hypervolume

    strategy.bind(SPACE, seed)
    told: dict = {}  # what the strategy is told, as the runner tells it: the vector only if it takes one
    values = []
    for _ in range(queries):
        arch = ask_new(strategy, told)
        values.append(objectives(arch))
        told[arch] = values[-1] if getattr(strategy, "multi_objective", False) else values[-1][0]
        strategy.tell(arch, told[arch])
    return hypervolume(values, _REFERENCE)


_REFERENCE = np.min([objectives(a) for a in SPACE.enumerate()], axis=0) - 1.0


def test_nsga2_covers_more_of_the_front_than_random_search_over_many_seeds():
    from nasforge.strategies import NSGA2

    seeds = range(20)
    nsga2 = [hypervolume_after(NSGA2(population=10), s, 100) for s in seeds]
    random = [hypervolume_after(RandomSearch(), s, 100) for s in seeds]
    assert np.mean(nsga2) > np.mean(random)
    wins = sum(n > r for n, r in zip(nsga2, random, strict=True))
    assert wins >= 14, f"NSGA-II won on {wins} of 20 seeds"


def test_bananas_told_objective_vectors_covers_more_of_the_front_than_random_search():
    from nasforge.strategies import Bananas

    seeds = range(10)
    bananas = [hypervolume_after(Bananas(ensemble=3, epochs=100), s, 100) for s in seeds]
    random = [hypervolume_after(RandomSearch(), s, 100) for s in seeds]
    assert np.mean(bananas) > np.mean(random)
    wins = sum(b > r for b, r in zip(bananas, random, strict=True))
    assert wins >= 8, f"BANANAS (random scalarisations) won on {wins} of 10 seeds"


def test_bananas_reading_a_cost_exactly_covers_more_of_the_front_than_random_search():
    """The second objective is a cost read before training (``costs_with``): it replaces that objective's
    predictor, and each slot goes to the candidate adding the most hypervolume (not a scalarisation)."""
    from nasforge.strategies import Bananas, RandomSearch

    def reading() -> Bananas:
        strategy = Bananas(ensemble=3, epochs=100)
        strategy.costs_with(lambda arch: (np.nan, objectives(arch)[1]), free=True)
        return strategy

    seeds = range(10)
    exact = [hypervolume_after(reading(), s, 100) for s in seeds]
    random = [hypervolume_after(RandomSearch(), s, 100) for s in seeds]
    wins = sum(e > r for e, r in zip(exact, random, strict=True))
    assert np.mean(exact) > np.mean(random) and wins >= 8, f"won on {wins} of 10 seeds"


def rejected_late(strategy: Strategy, seed: int, queries: int, pareto: bool) -> int:
    """How many of the last half of ``queries`` proposals break a constraint that makes the cell's most
    valuable single choice infeasible (as a parameter limit makes the best-scoring large ops infeasible)."""
    strategy.bind(SPACE, seed)
    best_edge, best_op = np.unravel_index(np.argmax(_UNARY), _UNARY.shape)
    told: dict = {}
    late = 0
    for n in range(queries):
        arch = ask_new(strategy, told)
        infeasible = SPACE.to_decisions(arch)[best_edge] == best_op
        late += infeasible and n >= queries // 2
        told[arch] = None if infeasible else (objectives(arch) if pareto else objective(arch))
        strategy.tell(arch, told[arch])
    return late


def test_strategies_told_of_infeasible_architectures_propose_fewer_of_them():
    from nasforge.strategies import NSGA2, Bananas

    seeds = range(5)
    random = np.mean([rejected_late(RandomSearch(), s, 100, False) for s in seeds])  # about 50 / 5 = 10
    for strategy, pareto in [
        (Bananas(ensemble=3, epochs=100), False),
        (Bananas(ensemble=3, epochs=100), True),
        (RegularizedEvolution(population=10, sample=3), False),
        (NSGA2(population=10), True),
    ]:
        learned = np.mean([rejected_late(strategy, s, 100, pareto) for s in seeds])
        assert learned < 0.5 * random, f"{strategy.name} (pareto={pareto}): {learned} against random's {random}"
