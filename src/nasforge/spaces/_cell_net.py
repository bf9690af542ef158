"""The NAS-Bench-201 macro skeleton around a cell: stem, stages of cells, residual reductions, head.

The skeleton is NB201's (stem 3x3 conv + BN; ``stages`` stages of ``cells_per_stage`` cells; a ResNet basic block
with stride 2 doubling the channels between stages; BN-ReLU-global-pool-linear head), sized by the space. One
deviation, so that any input size works: the reduction's shortcut pools 3x3/2 with padding (the same
``ceil(n / 2)`` arithmetic as its strided conv, so odd sizes such as 7x7 add up), and a reduction whose input is
already 1 pixel wide keeps stride 1 (the channels still double), so 8x8 digits never collapse below 1x1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from nasforge.exceptions import InvalidArchitecture
from nasforge.ops import CELL_OPS, GlobalAvgPool, ReLUConvBN

if TYPE_CHECKING:
    from nasforge.spaces._cell import Cell, CellSpace

__all__ = ["CellNetwork", "InferCell", "ResidualReduction", "skeleton"]


def _live_nodes(cell: Cell) -> set[int]:
    """Nodes whose state reaches the output through non-``none`` edges; other edges are wasted compute."""
    live = {cell.nodes - 1}
    for (i, j), op in sorted(zip(cell.edges, cell.ops, strict=True), key=lambda e: -e[0][1]):
        if j in live and op != "none":
            live.add(i)
    return live


class InferCell(nn.Module):
    """Node j = sum over i < j of op_ij(node i); the cell's output is the last node.

    ``none`` edges and edges into nodes that never reach the output are left out: they add exactly zero.
    """

    def __init__(self, cell: Cell, channels: int) -> None:
        super().__init__()
        live = _live_nodes(cell)
        kept = [(e, op) for e, op in zip(cell.edges, cell.ops, strict=True) if op != "none" and e[1] in live]
        self.nodes = cell.nodes
        self.edges = [e for e, _ in kept]
        self.ops = nn.ModuleList(CELL_OPS.get(op)(channels, channels, 1) for _, op in kept)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for j in range(1, self.nodes):
            terms = [op(states[i]) for (i, t), op in zip(self.edges, self.ops, strict=True) if t == j]
            states.append(sum(terms[1:], terms[0]) if terms else x.mul(0.0))
        return states[-1]


class ResidualReduction(nn.Module):
    """NB201's ResNet basic block between stages: two ReLUConvBNs plus a pooled 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        pool = nn.AvgPool2d(3, stride, padding=1, count_include_pad=False) if stride > 1 else nn.Identity()
        self.shortcut = nn.Sequential(pool, nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


def skeleton(
    shape: Sequence[int], space: CellSpace, make_cell: Callable[[int], nn.Module]
) -> tuple[list[nn.Module], int]:
    """The skeleton's layers up to the head, with ``make_cell(channels)`` for every cell, and the channels out:
    shared by the discrete network and the one-shot supernet (:mod:`nasforge.oneshot`), so they never differ."""
    shape = tuple(int(d) for d in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidArchitecture(
            f"the cell space needs image input (C,H,W); got shape {shape} "
            "— use space type chain for sequences and flat vectors"
        )
    channels, side = space.stem_channels, min(shape[1:])
    layers: list[nn.Module] = [nn.Conv2d(shape[0], channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)]
    for stage in range(space.stages):
        if stage > 0:
            stride = 2 if side >= 2 else 1
            layers.append(ResidualReduction(channels, channels * 2, stride))
            channels, side = channels * 2, (side + stride - 1) // stride
        layers.extend(make_cell(channels) for _ in range(space.cells_per_stage))
    return layers, channels


class CellNetwork(nn.Module):
    """A cell repeated through the NB201 skeleton that ``space`` sizes; input ``(N, C, H, W)``."""

    def __init__(self, cell: Cell, input_shape: Sequence[int], num_classes: int, space: CellSpace) -> None:
        super().__init__()
        if num_classes < 1:
            raise InvalidArchitecture(f"num_classes must be >= 1, got {num_classes}")
        layers, channels = skeleton(input_shape, space, lambda c: InferCell(cell, c))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), GlobalAvgPool())
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.features(x)))
