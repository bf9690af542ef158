"""The search-space seam: architectures as vectors of categorical decisions, generic operations on top.

A space describes its architectures as a fixed list of categorical :class:`Decision` s. Every generic
operation a strategy needs (sample, mutate, crossover, neighbours, enumeration, numeric encoding) is written
once here over decision vectors, so a strategy never needs to know which space it searches. A space only
says how decisions map to a canonical architecture value, how that value prints and parses, and how to build
a ``torch.nn.Module`` from it.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from nasforge.exceptions import InvalidArchitecture
from nasforge.registry import Registry

if TYPE_CHECKING:
    from torch import nn

__all__ = ["SPACES", "Decision", "SearchSpace"]

_MAX_TRIES = 1000


@dataclass(frozen=True)
class Decision:
    """One categorical choice of an architecture, e.g. the op on edge 1->2 or the width of layer 3."""

    name: str
    choices: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.choices)


class SearchSpace(ABC):
    """Architectures as canonical, hashable values with a string form, and how to build them.

    Subclasses implement :attr:`decisions`, :meth:`from_decisions`, :meth:`to_decisions`,
    :meth:`to_string`, :meth:`from_string` and :meth:`build`. ``from_decisions`` must return the same
    canonical value for every decision vector that describes the same network (irrelevant decisions, such as
    the width of a pooling layer, are normalised) and raise :class:`InvalidArchitecture` for vectors that
    describe no valid network.
    """

    name: ClassVar[str]
    encodings: ClassVar[tuple[str, ...]] = ("onehot",)

    # -- what a space defines ------------------------------------------------------------------------
    @property
    @abstractmethod
    def decisions(self) -> tuple[Decision, ...]: ...

    @abstractmethod
    def from_decisions(self, values: Sequence[int]) -> Hashable: ...

    @abstractmethod
    def to_decisions(self, arch: Hashable) -> tuple[int, ...]: ...

    @abstractmethod
    def to_string(self, arch: Hashable) -> str: ...

    @abstractmethod
    def from_string(self, text: str) -> Hashable: ...

    @abstractmethod
    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> nn.Module: ...

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Constructor arguments as plain data, so that the store can rebuild this space."""

    # -- generic operations ------------------------------------------------------------------------
    def is_valid(self, values: Sequence[int]) -> bool:
        try:
            self.from_decisions(values)
        except InvalidArchitecture:
            return False
        return True

    def sample(self, rng: np.random.Generator) -> Hashable:
        """A uniformly drawn decision vector, redrawn until it is valid."""
        sizes = [len(d) for d in self.decisions]
        for _ in range(_MAX_TRIES):
            values = [int(rng.integers(n)) for n in sizes]
            try:
                return self.from_decisions(values)
            except InvalidArchitecture:
                continue
        raise InvalidArchitecture(f"{self.name} space: no valid architecture in {_MAX_TRIES} random draws")

    def mutate(self, arch: Hashable, rng: np.random.Generator) -> Hashable:
        """Change one decision to another value, giving a different valid architecture."""
        values = list(self.to_decisions(arch))
        mutable = [i for i, d in enumerate(self.decisions) if len(d) > 1]
        if not mutable:
            raise InvalidArchitecture(f"{self.name} space has a single architecture; nothing to mutate")
        for _ in range(_MAX_TRIES):
            i = mutable[int(rng.integers(len(mutable)))]
            new = values.copy()
            new[i] = (values[i] + 1 + int(rng.integers(len(self.decisions[i]) - 1))) % len(self.decisions[i])
            try:
                child = self.from_decisions(new)
            except InvalidArchitecture:
                continue
            if child != arch:
                return child
        raise InvalidArchitecture(f"{self.name} space: no valid mutation of {self.to_string(arch)}")

    def crossover(
        self,
        a: Hashable,
        b: Hashable,
        rng: np.random.Generator,
        method: Literal["uniform", "one_point"] = "uniform",
    ) -> Hashable:
        """A child taking each decision from one parent: per decision (uniform) or split at one point."""
        va, vb = self.to_decisions(a), self.to_decisions(b)
        for _ in range(_MAX_TRIES):
            if method == "uniform":
                take_a = rng.random(len(va)) < 0.5
            elif method == "one_point":
                take_a = np.arange(len(va)) < int(rng.integers(1, max(len(va), 2)))
            else:
                raise ValueError(f"crossover method must be 'uniform' or 'one_point', got {method!r}")
            try:
                return self.from_decisions([x if t else y for x, y, t in zip(va, vb, take_a, strict=True)])
            except InvalidArchitecture:
                continue
        return a if rng.random() < 0.5 else b

    def neighbors(self, arch: Hashable) -> list[Hashable]:
        """Every distinct valid architecture that differs from ``arch`` in exactly one decision."""
        values = self.to_decisions(arch)
        found: dict[Hashable, None] = {}
        for i, decision in enumerate(self.decisions):
            for v in range(len(decision)):
                if v == values[i]:
                    continue
                new = list(values)
                new[i] = v
                try:
                    other = self.from_decisions(new)
                except InvalidArchitecture:
                    continue
                if other != arch:
                    found.setdefault(other)
        return list(found)

    def enumerate(self) -> Iterator[Hashable]:
        """Every valid architecture once, in canonical (lexicographic decision) order."""
        for values in itertools.product(*(range(len(d)) for d in self.decisions)):
            try:
                arch = self.from_decisions(values)
            except InvalidArchitecture:
                continue
            if self.to_decisions(arch) == values:
                yield arch

    @property
    def size(self) -> int:
        """How many distinct architectures the space holds (counted by enumeration unless overridden)."""
        return sum(1 for _ in self.enumerate())

    def encode(self, arch: Hashable, kind: str = "onehot") -> np.ndarray:
        """A fixed-length numeric vector for predictors: the one-hot of every decision, concatenated."""
        if kind != "onehot":
            raise ValueError(f"{self.name} space offers encodings {self.encodings}, got {kind!r}")
        values = self.to_decisions(arch)
        out = np.zeros(sum(len(d) for d in self.decisions), dtype=np.float32)
        offset = 0
        for v, d in zip(values, self.decisions, strict=True):
            out[offset + v] = 1.0
            offset += len(d)
        return out

    def parse(self, arch: Hashable | str) -> Hashable:
        """Accept an architecture value or its string form (what users and the store hold)."""
        return self.from_string(arch) if isinstance(arch, str) else arch


SPACES: Registry[SearchSpace] = Registry("space type")
