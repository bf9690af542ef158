"""Grid (exhaustive) search: every architecture of a finite space once, in canonical or shuffled order."""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from nasforge.spaces import SearchSpace
from nasforge.strategies._base import STRATEGIES, SpaceExhausted, Strategy
from nasforge.strategies._history import History, check, check_count

__all__ = ["GridSearch"]


@STRATEGIES.register("grid")
class GridSearch(Strategy):
    """Walks ``space.enumerate()``; ``shuffle=True`` visits it in a seeded random order instead.

    Shuffling materialises the enumeration (``max_size`` guards against spaces too large for that: a larger
    one is a ``ConfigError`` at bind, or at the first ask where only enumerating counts the space); the
    canonical order streams it. Architectures already told (e.g. replayed on resume) or pending are skipped,
    so nothing is proposed twice; when the walk ends, :class:`SpaceExhausted` is raised.
    """

    name = "grid"

    def __init__(self, shuffle: bool = True, max_size: int = 1_000_000) -> None:
        check(isinstance(shuffle, bool), "shuffle", "true or false", shuffle)
        check_count(max_size, "max_size", 1)
        self.shuffle = shuffle
        self.max_size = max_size

    def setup(self) -> None:
        self.history = History()
        self._order: Iterator[Hashable] | None = None
        # refuse a space too large before any trial, where the space counts itself without enumerating
        if self.shuffle and type(self.space).size is not SearchSpace.size:
            size = self.space.size
            if size > self.max_size:
                self._too_large(str(size))

    def _too_large(self, size: str) -> None:
        rule = f"at least the space's size ({size}) to shuffle it (or set strategy.shuffle to false)"
        check(False, "max_size", rule, self.max_size)

    def _walk(self) -> Iterator[Hashable]:
        if not self.shuffle:
            return self.space.enumerate()
        archs = []
        for arch in self.space.enumerate():
            archs.append(arch)
            if len(archs) > self.max_size:
                self._too_large(f"over {self.max_size}")
        order = self.rng.permutation(len(archs))
        return (archs[i] for i in order)

    def ask(self) -> Hashable:
        if self._order is None:
            self._order = self._walk()
        for arch in self._order:
            if not self.history.known(arch):
                return self.history.asked(arch)
        raise SpaceExhausted(f"grid: all {len(self.history)} architectures of the space were proposed")

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
