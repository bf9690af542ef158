"""Greedy local search with random restarts, White et al., "Local Search is State of the Art for Neural
Architecture Search Benchmarks" (2021): hill climbing over one-decision neighbourhoods."""

from __future__ import annotations

from collections.abc import Hashable

from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import History, check, check_count

__all__ = ["LocalSearch"]

_IMPROVEMENTS = ("first", "best")


@STRATEGIES.register("local")
class LocalSearch(Strategy):
    """Hill climbing from the best of ``init`` random architectures over ``space.neighbors``.

    Each climb step evaluates the current architecture's neighbours in a seeded random order. With
    ``improvement="best"`` (White et al.) the climb moves to the best neighbour once all are told; with
    ``"first"`` it moves as soon as a neighbour beats the current one. A climb that finds no better
    neighbour is a local optimum: the search restarts from the best of ``init`` new random architectures.
    Neighbours already told are scored from memory and never asked again, so no query is repeated.

    >>> from nasforge.spaces import CellSpace
    >>> s = LocalSearch(init=10).bind(CellSpace(), seed=0)
    """

    name = "local"

    def __init__(self, init: int = 10, improvement: str = "first") -> None:
        check_count(init, "init", 1)
        check(improvement in _IMPROVEMENTS, "improvement", f"one of {', '.join(_IMPROVEMENTS)}", improvement)
        self.init = init
        self.improvement = improvement

    def setup(self) -> None:
        self.history = History()
        self.current: Hashable | None = None
        self.queue: list[Hashable] = []
        self.starts: list[Hashable] = []
        self.to_start = self.init
        self.next_start: Hashable | None = None

    def _rank(self, arch: Hashable) -> float:
        """Told score; untold (pending) architectures rank below everything."""
        if arch not in self.history.scores:
            return float("-inf")
        return self.history.value(self.history.scores[arch])

    def ask(self) -> Hashable:
        if self.current is None and self.next_start is not None:
            arch, self.next_start = self.next_start, None
            self.starts.append(arch)
            return self.history.asked(arch)
        if self.current is None:
            told = [a for a in self.starts if a in self.history.scores]
            if self.to_start > 0 or not told or len(told) < len(self.starts):
                self.to_start = max(self.to_start - 1, 0)
                arch = self.history.fresh(lambda: self.space.sample(self.rng))
                self.starts.append(arch)
                return arch
            self._move(max(told, key=self._rank))
        while True:
            while self.queue:
                arch = self.queue.pop()
                if not self.history.known(arch):
                    return self.history.asked(arch)
            if not self._step():
                return self.ask()

    def _step(self) -> bool:
        """The neighbourhood is spent: move to its best told member (``True``) or restart (``False``)."""
        assert self.current is not None
        best = max(self.space.neighbors(self.current), key=self._rank, default=self.current)
        if self._rank(best) > self._rank(self.current):
            self._move(best)
            return True
        self.current, self.starts = None, []
        self.next_start = self._restart()
        self.to_start = 0 if self.next_start is not None else self.init
        return False

    def _restart(self) -> Hashable | None:
        """Where the next climb starts; ``None`` = the best of ``init`` new random architectures."""
        return None

    def _move(self, arch: Hashable) -> None:
        self.current = arch
        hood = [a for a in self.space.neighbors(arch) if not self.history.known(a)]
        self.queue = [hood[i] for i in self.rng.permutation(len(hood))]

    def tell(self, arch: Hashable, score: float | None) -> None:
        first = self.history.told(arch, score)
        if self.current is None:
            if first and arch not in self.starts:
                self.starts.append(arch)
                self.to_start = max(self.to_start - 1, 0)
        elif self.improvement == "first" and self._rank(arch) > self._rank(self.current):
            self._move(arch)
