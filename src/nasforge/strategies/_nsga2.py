"""NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 2002) for Pareto searches, in a steady-state form.

The generational algorithm breeds a whole population, evaluates it, and keeps the best ``population`` of parents
and children by non-dominated sorting and crowding distance. A search with parallel workers asks one
architecture at a time, so here the survivors are recomputed from everything told whenever a child is bred:
the ``population`` best of all results by that same order (an elitist archive, as in steady-state NSGA-II
variants), parents are drawn from them by binary tournament on that order, and a child is their crossover
(with probability ``crossover_rate``) followed by one :meth:`~nasforge.spaces.SearchSpace.mutate` step.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

import numpy as np

from nasforge.pareto import pareto_order
from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import check, check_count

__all__ = ["NSGA2"]

_FRESH_TRIES = 50


@STRATEGIES.register("nsga2")
class NSGA2(Strategy):
    """Evolution towards the Pareto front: random architectures until ``population`` are told, then children of
    tournament-selected survivors.

    It is told objective vectors (each component maximised) when the run has several objectives, and plain
    scores otherwise (then it is a genetic algorithm with tournament selection). Failed or rejected
    architectures (``None``) never survive. A child already told or pending is bred again (up to 50 times).
    The default ``population`` of 30 was chosen on NAS-Bench-201 against device latency: with 20, one seed of
    30 never found the cheap end of the FPGA front; 30 and 50 did (``docs/benchmarks.md``, issue 19).

    >>> from nasforge.spaces import CellSpace
    >>> s = NSGA2(population=10).bind(CellSpace(), seed=0)
    >>> arch = s.ask(); s.tell(arch, (0.9, -5000.0))
    """

    name = "nsga2"
    multi_objective: ClassVar[bool] = True

    def __init__(self, population: int = 30, crossover_rate: float = 0.9) -> None:
        check_count(population, "population", 2)
        check(0 <= crossover_rate <= 1, "crossover_rate", "in [0, 1]", crossover_rate)
        self.population = population
        self.crossover_rate = crossover_rate

    def setup(self) -> None:
        self.told: dict[Hashable, tuple[float, ...] | None] = {}
        self.pending: set[Hashable] = set()
        self._survivors: list[Hashable] = []
        self._ranked_at = -1  # how many results the survivors were computed from

    def ask(self) -> Hashable:
        breed = self._breed if len(self.told) >= self.population else (lambda: self.space.sample(self.rng))
        arch = breed()
        for _ in range(_FRESH_TRIES - 1):
            if arch not in self.told and arch not in self.pending:
                break
            arch = breed()
        self.pending.add(arch)
        return arch

    def tell(self, arch: Hashable, score: float | Sequence[float] | None) -> None:
        self.pending.discard(arch)
        if score is None:
            self.told.setdefault(arch, None)
            return
        self.told[arch] = tuple(float(v) for v in np.atleast_1d(score))

    def survivors(self) -> list[Hashable]:
        """The ``population`` best told architectures, by Pareto front then crowding distance."""
        if self._ranked_at != len(self.told):
            scored = [a for a, v in self.told.items() if v is not None]
            order = pareto_order([self.told[a] for a in scored]) if scored else []
            self._survivors = [scored[i] for i in order[: self.population]]
            self._ranked_at = len(self.told)
        return self._survivors

    def _breed(self) -> Hashable:
        survivors = self.survivors()
        if not survivors:  # everything told so far failed
            return self.space.sample(self.rng)
        first, second = self._tournament(survivors), self._tournament(survivors)
        child = first
        if first != second and self.rng.random() < self.crossover_rate:
            child = self.space.crossover(first, second, self.rng)
        return self.space.mutate(child, self.rng)

    def _tournament(self, survivors: list[Hashable]) -> Hashable:
        """Binary tournament: of two random survivors, the one earlier in the NSGA-II order."""
        i, j = (int(k) for k in self.rng.integers(len(survivors), size=2))
        return survivors[min(i, j)]
