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

    With results outstanding (parallel workers, or a prefilter that tells one of several proposals), a climb
    begins at the best start told once all ``init`` are asked, and a neighbourhood is called a local optimum
    only when no neighbour is still awaited; until then an ask gets a random probe.

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
        """A told architecture's score (failed trials below every success)."""
        return self.history.value(self.history.scores[arch])

    def ask(self) -> Hashable:
        while True:
            if self.current is None and (start := self._start()) is not None:
                return start
            while self.queue:
                arch = self.queue.pop()
                if not self.history.known(arch):
                    return self.history.asked(arch)
            assert self.current is not None
            neighbours = self.space.neighbors(self.current)
            if any(self.history.waiting(a) for a in neighbours):
                # neighbours still being evaluated (parallel workers) may yet move the climb: keep this worker
                # busy with a random probe rather than call the point a local optimum on half the evidence
                return self.history.fresh(lambda: self.space.sample(self.rng))
            self._step(neighbours)

    def _start(self) -> Hashable | None:
        """The next start to ask, or ``None`` once the climb has begun at the best start told.

        Starts still pending do not hold the climb up: with parallel workers or a prefilter (which never tells
        the proposals it did not choose) every ask would otherwise add a start, and the search would be random.
        A start told later still moves the climb if it is better (see :meth:`tell`).
        """
        if self.next_start is not None:
            arch, self.next_start = self.next_start, None
            self.starts.append(arch)
            return self.history.asked(arch)
        told = [a for a in self.starts if a in self.history.scores]
        if self.to_start > 0 or not told:
            self.to_start = max(self.to_start - 1, 0)
            arch = self.history.fresh(lambda: self.space.sample(self.rng))
            self.starts.append(arch)
            return arch
        self._move(max(told, key=self._rank))
        return None

    def _step(self, neighbours: list[Hashable]) -> None:
        """The neighbourhood is spent and none of it is awaited: move to its best told member, or restart."""
        assert self.current is not None
        best = max((a for a in neighbours if a in self.history.scores), key=self._rank, default=self.current)
        if self._rank(best) > self._rank(self.current):
            self._move(best)
            return
        self.current, self.starts = None, []
        self.next_start = self._restart()
        self.to_start = 0 if self.next_start is not None else self.init

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
