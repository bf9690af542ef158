"""NAS-Bench-201-style cell space: a DAG of ``nodes`` nodes with one op on every edge i<j.

The string form is NAS-Bench-201's own: node j lists its incoming edges from nodes 0..j-1,
``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``; parsing and formatting round-trip exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.spaces._base import SPACES, Decision, SearchSpace

if TYPE_CHECKING:
    from nasforge.spaces._cell_net import CellNetwork

__all__ = ["NB201_OPS", "Cell", "CellSpace"]

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

MAX_NODES = 12
"""The largest cell: 66 edges, far beyond the cells NAS uses (NB201: 4 nodes, DARTS: 7), and small enough that a
mistyped ``nodes`` is a message rather than the machine's memory filling with edge lists."""


@dataclass(frozen=True)
class Cell:
    """A cell genotype: the op on every edge, edges ordered (0,1), (0,2), (1,2), (0,3), (1,3), (2,3), ..."""

    ops: tuple[str, ...]
    nodes: int = 4

    @property
    def edges(self) -> list[tuple[int, int]]:
        return cell_edges(self.nodes)

    def __str__(self) -> str:
        groups, k = [], 0
        for j in range(1, self.nodes):
            groups.append("|" + "|".join(f"{self.ops[k + i]}~{i}" for i in range(j)) + "|")
            k += j
        return "+".join(groups)


def cell_edges(nodes: int) -> list[tuple[int, int]]:
    """Edges (source, target) in NAS-Bench-201 order: grouped by target node, sources ascending."""
    return [(i, j) for j in range(1, nodes) for i in range(j)]


@SPACES.register("cell")
class CellSpace(SearchSpace):
    """Micro search space: one cell, repeated through a fixed macro skeleton.

    The skeleton (NAS-Bench-201's by default, scaled down for CPU) is a stem convolution with
    ``stem_channels`` channels, ``stages`` stages of ``cells_per_stage`` cells, and a residual reduction
    block doubling the channels between stages.

    >>> space = CellSpace()
    >>> arch = space.from_string("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|")
    >>> space.to_string(arch) == str(arch)
    True
    >>> space.size
    15625
    """

    name: ClassVar[str] = "cell"
    encodings: ClassVar[tuple[str, ...]] = ("onehot", "path")

    def __init__(
        self,
        nodes: int = 4,
        ops: Sequence[str] = NB201_OPS,
        stem_channels: int = 16,
        stages: int = 3,
        cells_per_stage: int = 1,
    ) -> None:
        from nasforge.ops import CELL_OPS  # torch only once a space is made, not for --help

        for field, value, least, most in (
            ("nodes", nodes, 2, MAX_NODES),
            ("stem_channels", stem_channels, 1, None),
            ("stages", stages, 1, None),
            ("cells_per_stage", cells_per_stage, 1, None),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least or value > (most or value):
                limits = f"between {least} and {most}" if most else f">= {least}"
                raise ConfigError(f"space.{field}: must be an integer {limits}, got {value!r}")
        if isinstance(ops, str) or not isinstance(ops, Sequence) or not ops:
            raise ConfigError(f"space.ops: must be a list of distinct op names, got {ops!r}")
        for op in ops:
            if not isinstance(op, str) or op not in CELL_OPS:  # so that no trial fails later to build it
                raise ConfigError(f"space.ops: {CELL_OPS.unknown_message(str(op))}")
        if len(set(ops)) != len(ops):
            raise ConfigError(f"space.ops: must be distinct op names, got {list(ops)}")
        self.nodes = nodes
        self.ops = tuple(ops)
        self.stem_channels = stem_channels
        self.stages = stages
        self.cells_per_stage = cells_per_stage

    def config(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "nodes": self.nodes,
            "ops": list(self.ops),
            "stem_channels": self.stem_channels,
            "stages": self.stages,
            "cells_per_stage": self.cells_per_stage,
        }

    @cached_property
    def decisions(self) -> tuple[Decision, ...]:  # type: ignore[override]
        return tuple(Decision(f"edge_{i}_{j}", self.ops) for i, j in cell_edges(self.nodes))

    @property
    def size(self) -> int:
        return len(self.ops) ** len(self.decisions)

    def from_decisions(self, values: Sequence[int]) -> Cell:
        if len(values) != len(self.decisions):
            raise InvalidArchitecture(f"cell space: expected {len(self.decisions)} decisions, got {len(values)}")
        try:
            return Cell(tuple(self.ops[v] for v in values), self.nodes)
        except IndexError:
            raise InvalidArchitecture(f"cell space: decision values must be < {len(self.ops)}") from None

    def to_decisions(self, arch: Hashable) -> tuple[int, ...]:
        cell = self._check(arch)
        return tuple(self.ops.index(op) for op in cell.ops)

    def to_string(self, arch: Hashable) -> str:
        return str(self._check(arch))

    def from_string(self, text: str) -> Cell:
        groups = text.strip().split("+")
        if len(groups) != self.nodes - 1:
            raise InvalidArchitecture(
                f"architecture {text!r}: expected {self.nodes - 1} '+'-separated node groups, got {len(groups)}"
            )
        ops: list[str] = []
        for j, group in enumerate(groups, start=1):
            if not (group.startswith("|") and group.endswith("|")):
                raise InvalidArchitecture(f"architecture {text!r}: node group {group!r} must be wrapped in '|'")
            edges = group[1:-1].split("|")
            if len(edges) != j:
                raise InvalidArchitecture(f"architecture {text!r}: node {j} needs {j} incoming edges")
            for i, edge in enumerate(edges):
                op, _, source = edge.partition("~")
                if source != str(i):
                    raise InvalidArchitecture(f"architecture {text!r}: edge {edge!r} must come from node {i}")
                if op not in self.ops:
                    raise InvalidArchitecture(
                        f"architecture {text!r}: unknown op {op!r} (allowed: {', '.join(self.ops)})"
                    )
                ops.append(op)
        return Cell(tuple(ops), self.nodes)

    def _check(self, arch: Hashable) -> Cell:
        if isinstance(arch, str):
            return self.from_string(arch)
        if not isinstance(arch, Cell) or arch.nodes != self.nodes or len(arch.ops) != len(self.decisions):
            raise InvalidArchitecture(f"{arch!r} is not a {self.nodes}-node cell")
        unknown = set(arch.ops) - set(self.ops)
        if unknown:
            raise InvalidArchitecture(f"cell {arch}: ops {sorted(unknown)} are not in this space")
        return arch

    # -- path encoding (BANANAS, White et al. 2021) -----------------------------------------------------
    @cached_property
    def _path_index(self) -> dict[tuple[str, ...], int]:
        live = [op for op in self.ops if op != "none"]
        index: dict[tuple[str, ...], int] = {}
        for length in range(1, self.nodes):
            for seq in itertools.product(live, repeat=length):
                index[seq] = len(index)
        return index

    def paths(self, arch: Hashable) -> list[tuple[str, ...]]:
        """The op sequences along every input-to-output path that carries signal (no ``none`` edge)."""
        cell = self._check(arch)
        op_of = dict(zip(cell_edges(self.nodes), cell.ops, strict=True))
        found = []
        for k in range(self.nodes - 1):
            for middle in itertools.combinations(range(1, self.nodes - 1), k):
                route = (0, *middle, self.nodes - 1)
                seq = tuple(op_of[edge] for edge in itertools.pairwise(route))
                if "none" not in seq:
                    found.append(seq)
        return found

    def encode(self, arch: Hashable, kind: str = "onehot") -> np.ndarray:
        if kind != "path":
            return super().encode(arch, kind)
        out = np.zeros(len(self._path_index), dtype=np.float32)
        for seq in self.paths(arch):
            out[self._path_index[seq]] = 1.0
        return out

    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> CellNetwork:
        from nasforge.spaces._cell_net import CellNetwork

        return CellNetwork(self._check(arch), input_shape, num_classes, self)
