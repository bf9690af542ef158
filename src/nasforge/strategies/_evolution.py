"""Regularized (aging) evolution, Real et al., "Regularized Evolution for Image Classifier Architecture Search"
(AAAI 2019): tournament selection from a population whose oldest member dies at every birth."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import History, check_count

__all__ = ["RegularizedEvolution"]


@STRATEGIES.register("evolution")
class RegularizedEvolution(Strategy):
    """Aging evolution: the first ``population`` asks are random; then each ask samples ``sample``
    members, mutates the best of them, and every told result joins the population, evicting the oldest.

    Ageing (rather than killing the worst) keeps the search from anchoring on one lucky evaluation. A
    mutant already told or pending is re-mutated (up to 50 times), so duplicates are rare.

    >>> from nasforge.spaces import CellSpace
    >>> s = RegularizedEvolution(population=10, sample=3).bind(CellSpace(), seed=0)
    """

    name = "evolution"

    def __init__(self, population: int = 20, sample: int = 5) -> None:
        check_count(population, "population", 2)
        check_count(sample, "sample", 1, population, f"between 1 and population ({population})")
        self.population = population
        self.sample = sample

    def setup(self) -> None:
        self.history = History()
        self.members: deque[tuple[Hashable, float | None]] = deque(maxlen=self.population)

    def ask(self) -> Hashable:
        if len(self.members) + len(self.history.pending) < self.population or not self.members:
            return self.history.fresh(lambda: self.space.sample(self.rng))
        return self.history.fresh(lambda: self.space.mutate(self._parent(), self.rng))

    def _parent(self) -> Hashable:
        k = min(self.sample, len(self.members))
        picks = self.rng.choice(len(self.members), size=k, replace=False)
        best = max(picks, key=lambda i: (self.history.value(self.members[i][1]), -i))
        return self.members[best][0]

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
        self.members.append((arch, score))
