"""The strategy seam: ask proposes an architecture, tell reports its score. Nothing else.

A strategy never evaluates, never reads a benchmark table and never touches the store. The runner (or a user
with their own evaluation loop) calls :meth:`Strategy.ask` any number of times, evaluates, and calls
:meth:`Strategy.tell` in whatever order results arrive. Resuming a run replays the stored trials through
``tell``, so ``tell`` must accept architectures that this instance never asked.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np

from nasforge.exceptions import NasforgeError
from nasforge.registry import Registry
from nasforge.spaces import SearchSpace

__all__ = ["STRATEGIES", "SpaceExhausted", "Strategy", "ask_new"]


class SpaceExhausted(NasforgeError):
    """The strategy has nothing new to propose (e.g. grid search visited every architecture)."""


class Strategy(ABC):
    """Proposes architectures and learns from their scores (higher is better; ``None`` means it failed).

    Constructors only store configuration; :meth:`bind` attaches a space and a seed, so one configured
    strategy object can be reused across runs and seeds.

    >>> from nasforge.spaces import CellSpace
    >>> from nasforge.strategies import RandomSearch
    >>> s = RandomSearch().bind(CellSpace(), seed=0)
    >>> arch = s.ask(); s.tell(arch, 0.5)
    """

    name: ClassVar[str]
    space: SearchSpace
    rng: np.random.Generator

    def bind(self, space: SearchSpace, seed: int) -> Strategy:
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.setup()
        return self

    def setup(self) -> None:
        """Build per-run state once the space and the random generator are known (a no-op by default)."""

    @abstractmethod
    def ask(self) -> Hashable:
        """Propose the next architecture; may be called again before earlier asks are told."""

    @abstractmethod
    def tell(self, arch: Hashable, score: float | None) -> None:
        """Learn from one result; ``score is None`` means the trial failed."""

    def config(self) -> dict[str, Any]:
        """Constructor arguments as plain data (every parameter is stored under its own name)."""
        params = inspect.signature(type(self).__init__).parameters
        return {"name": self.name, **{p: getattr(self, p) for p in params if p != "self"}}


STRATEGIES: Registry[Strategy] = Registry("strategy")


def ask_new(
    strategy: Strategy,
    seen: Mapping[Hashable, float | None],
    pending: set[Hashable] | frozenset[Hashable] = frozenset(),
    max_repeats: int = 200,
) -> Hashable:
    """Ask until the strategy proposes an architecture that costs a new evaluation.

    A repeat of an evaluated architecture is answered at once with its recorded score (it costs no query);
    a repeat of one still being evaluated is just asked again. After ``max_repeats`` repeats in a row the
    strategy has converged, and a random unseen architecture keeps the search going, so that a run ends with
    :class:`SpaceExhausted` only once every architecture of the space is evaluated or pending.
    """
    for _ in range(max_repeats):
        arch = strategy.ask()
        if arch in pending:
            continue
        if arch not in seen:
            return arch
        strategy.tell(arch, seen[arch])
    for _ in range(max_repeats):
        arch = strategy.space.sample(strategy.rng)
        if arch not in seen and arch not in pending:
            return arch
    # Random draws keep hitting evaluated architectures, so few are left: list them rather than keep guessing.
    left = [arch for arch in strategy.space.enumerate() if arch not in seen and arch not in pending]
    if left:
        return left[int(strategy.rng.integers(len(left)))]
    raise SpaceExhausted(f"{strategy.name}: every architecture of the space has been evaluated or is pending")
