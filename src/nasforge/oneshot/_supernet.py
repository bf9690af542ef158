"""The cell space's supernet: every edge a weighted mixture of the space's whole op set.

The ops come from the same table (:data:`~nasforge.ops.CELL_OPS`) and the skeleton from the same function
(:func:`~nasforge.spaces._cell_net.skeleton`) as every discrete network, so a derived cell is built exactly as it
was searched. The architecture's weights are not parameters of the supernet: they are passed into
:meth:`Supernet.forward` (one ``(edges, ops)`` matrix shared by every cell, as in DARTS and NAS-Bench-201), so
the strategy that owns them decides how they are formed (softmax, Gumbel samples, Dirichlet draws).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasforge.ops import CELL_OPS, GlobalAvgPool
from nasforge.spaces import CellSpace
from nasforge.spaces._cell import cell_edges
from nasforge.spaces._cell_net import skeleton

__all__ = ["MixedEdge", "SearchCell", "Supernet"]


class MixedEdge(nn.Module):
    """``sum_k w_k op_k(x)`` over the op set; with ``index`` only that op is run (GDAS's hard sample), still
    scaled by its weight so that the architecture's gradient flows through it."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(CELL_OPS.get(op)(channels, channels, 1) for op in ops)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, index: int | None = None) -> torch.Tensor:
        if index is not None:
            return weights[index] * self.ops[index](x)
        return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))  # type: ignore[return-value]


class SearchCell(nn.Module):
    """Node j = sum over i < j of the mixed edge (i, j) applied to node i, plus ``skip`` times node i (DARTS-'s
    auxiliary skip connection; 0 otherwise); the cell's output is its last node."""

    def __init__(self, space: CellSpace, channels: int) -> None:
        super().__init__()
        self.edges = cell_edges(space.nodes)
        self.nodes = space.nodes
        self.mixed = nn.ModuleList(MixedEdge(space.ops, channels) for _ in self.edges)

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, index: Sequence[int] | None = None, skip: float = 0.0
    ) -> torch.Tensor:
        states = [x]
        for j in range(1, self.nodes):
            total = None
            for e, ((i, target), edge) in enumerate(zip(self.edges, self.mixed, strict=True)):
                if target != j:
                    continue
                out = edge(states[i], weights[e], None if index is None else int(index[e]))
                if skip:
                    out = out + skip * states[i]
                total = out if total is None else total + out
            states.append(total)
        return states[-1]


class Supernet(nn.Module):
    """The NB201 skeleton of ``space`` with a :class:`SearchCell` in place of every cell."""

    def __init__(self, space: CellSpace, input_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        layers, channels = skeleton(input_shape, space, lambda c: SearchCell(space, c))
        self.features = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), GlobalAvgPool())
        self.classifier = nn.Linear(channels, num_classes)

    def forward(
        self, x: torch.Tensor, weights: torch.Tensor, index: Sequence[int] | None = None, skip: float = 0.0
    ) -> torch.Tensor:
        for layer in self.features:
            x = layer(x, weights, index, skip) if isinstance(layer, SearchCell) else layer(x)
        return self.classifier(self.head(x))
