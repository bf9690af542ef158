"""Random search: the baseline every NAS result is measured against (Li & Talwalkar, 2019)."""

from __future__ import annotations

from collections.abc import Hashable

from nasforge.strategies._base import STRATEGIES, Strategy
from nasforge.strategies._history import History

__all__ = ["RandomSearch"]


@STRATEGIES.register("random")
class RandomSearch(Strategy):
    """Uniform samples of the space; a sample already told or pending is redrawn (up to 50 times).

    >>> from nasforge.spaces import CellSpace
    >>> s = RandomSearch().bind(CellSpace(), seed=0)
    >>> s.tell(s.ask(), 0.9)
    """

    name = "random"

    def __init__(self) -> None:
        pass

    def setup(self) -> None:
        self.history = History()

    def ask(self) -> Hashable:
        return self.history.fresh(lambda: self.space.sample(self.rng))

    def tell(self, arch: Hashable, score: float | None) -> None:
        self.history.told(arch, score)
