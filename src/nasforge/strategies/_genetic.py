"""A generational genetic algorithm (Holland 1975; Goldberg 1989) over the space's decision vectors:
selection, crossover, mutation and elitism, one generation of ``population`` children at a time."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from nasforge.strategies._base import STRATEGIES, SpaceExhausted, Strategy
from nasforge.strategies._history import History, check, check_count

__all__ = ["GeneticAlgorithm"]

_SELECTIONS = ("tournament", "roulette")
_CROSSOVERS = ("uniform", "one_point")


@STRATEGIES.register("genetic")
class GeneticAlgorithm(Strategy):
    """Generation 0 is ``population`` random architectures; each later generation keeps the ``elitism`` best
    of the previous one unevaluated and breeds ``population - elitism`` children.

    A child takes two parents chosen by ``selection`` (``tournament`` of ``tournament`` members, or
    ``roulette``: probability proportional to the score minus the population's worst, plus a small floor;
    uniform while no parent has a finite score),
    is their ``crossover`` (``uniform`` or ``one_point``, with probability ``crossover_rate``, else a copy
    of the first parent), then mutated: each decision is changed with probability ``mutation_rate``,
    applied as that many ``space.mutate`` steps. The fitness is the told score (the configured objective);
    failed trials rank last. A child already told or pending is bred again (up to 50 times), so a
    generation holds no duplicates. ``generations`` (``None`` = unlimited) ends the search with
    ``SpaceExhausted`` once that many generations are bred. Asks beyond a generation's size (parallel
    workers) breed extra children of the same parents; the generation closes when enough are told.

    >>> from nasforge.spaces import CellSpace
    >>> s = GeneticAlgorithm(population=20, selection="roulette").bind(CellSpace(), seed=0)
    """

    name = "genetic"

    def __init__(
        self,
        population: int = 20,
        selection: str = "tournament",
        tournament: int = 3,
        crossover: str = "uniform",
        crossover_rate: float = 0.5,
        mutation_rate: float = 0.2,
        elitism: int = 2,
        generations: int | None = None,
    ) -> None:
        check_count(population, "population", 2)
        check(selection in _SELECTIONS, "selection", f"one of {', '.join(_SELECTIONS)}", selection)
        check_count(tournament, "tournament", 1, population, f"between 1 and population ({population})")
        check(crossover in _CROSSOVERS, "crossover", f"one of {', '.join(_CROSSOVERS)}", crossover)
        check(0 <= crossover_rate <= 1, "crossover_rate", "in [0, 1]", crossover_rate)
        check(0 <= mutation_rate <= 1, "mutation_rate", "in [0, 1]", mutation_rate)
        check_count(elitism, "elitism", 0, population - 1, f"in [0, population) = [0, {population})")
        check_count(generations, "generations", 1, optional=True)
        self.population = population
        self.selection = selection
        self.tournament = tournament
        self.crossover = crossover
        self.crossover_rate = crossover_rate
        self.mutation_rate = mutation_rate
        self.elitism = elitism
        self.generations = generations

    def setup(self) -> None:
        self.history = History()
        self.generation = 0
        self.parents: list[Hashable] = []
        self.children: list[Hashable] = []

    def ask(self) -> Hashable:
        if self.generations is not None and self.generation > self.generations:
            raise SpaceExhausted(f"genetic: bred the configured {self.generations} generations")
        if not self.parents:
            return self.history.fresh(lambda: self.space.sample(self.rng))
        return self.history.fresh(self._breed)

    def _breed(self) -> Hashable:
        first = self._select()
        child = first
        if self.rng.random() < self.crossover_rate:
            child = self.space.crossover(first, self._select(), self.rng, self.crossover)
        steps = int(self.rng.binomial(len(self.space.decisions), self.mutation_rate))
        for _ in range(max(steps, int(child == first))):
            child = self.space.mutate(child, self.rng)
        return child

    def _select(self) -> Hashable:
        fitness = np.array([self.history.value(self.history.scores[a]) for a in self.parents])
        if self.selection == "tournament":
            picks = self.rng.choice(len(self.parents), size=self.tournament, replace=False)
            return self.parents[max(picks, key=lambda i: (fitness[i], -i))]
        finite = np.isfinite(fitness)
        if not finite.any():  # nothing has succeeded yet: no fitness to be proportional to
            return self.parents[int(self.rng.integers(len(self.parents)))]
        shifted = fitness - fitness[finite].min()
        shifted += (shifted[finite].max() or 1.0) / len(shifted)
        shifted[~finite] = 0.0  # never scored: no share while others did
        return self.parents[int(self.rng.choice(len(self.parents), p=shifted / shifted.sum()))]

    def tell(self, arch: Hashable, score: float | None) -> None:
        if not self.history.told(arch, score):
            return
        self.children.append(arch)
        needed = self.population if not self.parents else self.population - self.elitism
        if len(self.children) >= needed:
            elites = self._ranked(self.parents)[: self.elitism] if self.parents else []
            self.parents = elites + self._ranked(self.children)[: self.population - len(elites)]
            self.children = []
            self.generation += 1

    def _ranked(self, archs: list[Hashable]) -> list[Hashable]:
        return sorted(archs, key=lambda a: -self.history.value(self.history.scores[a]))
