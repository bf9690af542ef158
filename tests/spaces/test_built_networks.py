"""What ``build`` makes: chain layers with the sizes the space's validity arithmetic promised, NB201 cells that
equal the reference cell with every edge built, and networks that create no tensor off their input's device."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.exceptions import InvalidArchitecture
from nasforge.ops import CELL_OPS
from nasforge.spaces import CellSpace, ChainSpace
from nasforge.spaces._cell import Cell
from nasforge.spaces._cell_net import InferCell, ResidualReduction
from nasforge.spaces._chain_fit import Extent, advance
from nasforge.spaces._chain_net import layer_modules

ALL_SPATIAL = ("conv", "sep_conv", "max_pool", "avg_pool", "identity")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_CELL_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_5x5", "avg_pool_3x3", "max_pool_3x3")


@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 16), (1, 5, 9)])
def test_every_chain_layer_has_the_size_the_space_checked(shape: tuple[int, ...]) -> None:
    """Even kernels, strides up to 3 and 2x2 pools on tiny inputs: the built modules and ``advance`` agree."""
    space = ChainSpace(
        input_shape=shape, depth=(1, 4), ops=ALL_SPATIAL, widths=(3,), kernels=(1, 2, 3, 4, 5), strides=(1, 2, 3),
        pool=(False, True), dropout=(0.0, 0.5), batch_norm=(True, False), min_receptive_field=0.0,
        max_activations=None,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    for _ in range(25):
        chain = space.sample(rng)
        model = space.build(chain, shape, 2)
        extent = Extent(shape[1:])
        for layer, got in zip(chain.layers, _output_sizes(model, layer_modules(model), shape), strict=True):
            extent = advance(extent, layer, None)  # type: ignore[assignment]
            assert got[1:] == extent.sizes, (str(chain), str(layer))


def _output_sizes(model: nn.Module, modules: list[nn.Module], shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The sizes after the channels of each of ``modules``' outputs in one forward pass of ``model``."""
    sizes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape[1:]))) for m in modules]
    assert model(torch.randn(2, *shape)).shape[0] == 2
    for hook in hooks:
        hook.remove()
    return sizes


class _ReferenceCell(nn.Module):
    """NAS-Bench-201's inference cell as published: every edge built, ``none`` included, each node a sum."""

    def __init__(self, cell: Cell, channels: int) -> None:
        super().__init__()
        self.cell = cell
        self.ops = nn.ModuleList(CELL_OPS.get(op)(channels, channels, 1) for op in cell.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for j in range(1, self.cell.nodes):
            states.append(sum(op(states[i]) for (i, t), op in zip(self.cell.edges, self.ops, strict=True) if t == j))
        return states[-1]


@pytest.mark.parametrize("nodes", [2, 3, 4, 5])
def test_pruned_cell_equals_the_reference_cell_with_every_edge(nodes: int) -> None:
    """Leaving out ``none`` edges and edges into dead nodes changes no output, in training or in eval mode."""
    space = CellSpace(nodes=nodes, ops=ALL_CELL_OPS)
    rng = np.random.default_rng(nodes)
    x = torch.randn(2, 3, 5, 5)
    for _ in range(15):
        cell = space.sample(rng)
        pruned, full = InferCell(cell, 3), _ReferenceCell(cell, 3)
        kept = dict(zip(pruned.edges, pruned.ops, strict=True))
        for edge, op in zip(cell.edges, full.ops, strict=True):
            if edge in kept:
                op.load_state_dict(kept[edge].state_dict())
        for training in (True, False):
            pruned.train(training), full.train(training)
            assert torch.allclose(pruned(x), full(x), atol=1e-6), (str(cell), training)


def test_nb201_skeleton_on_cifar_sizes() -> None:
    """Stem at 16 channels, then 32x32 -> 16x16 -> 8x8 with 16, 32, 64 channels; reductions are ReLU-Conv-BN
    basic blocks whose shortcut averages real pixels only."""
    model = CellSpace().build(BEST, (3, 32, 32), 10)
    shapes = _output_sizes(model, list(model.features), (3, 32, 32))
    assert shapes[1:] == [(16, 32, 32), (16, 32, 32), (32, 16, 16), (32, 16, 16), (64, 8, 8), (64, 8, 8)]
    reductions = [m for m in model.features if isinstance(m, ResidualReduction)]
    assert len(reductions) == 2
    for block in reductions:
        assert [type(m).__name__ for m in block.conv_a] == ["ReLU", "Conv2d", "BatchNorm2d"]
        assert block.conv_a[1].stride == (2, 2) and block.conv_b[1].stride == (1, 1)
        assert block.shortcut[0].count_include_pad is False


NETWORKS: list[tuple[object, str, tuple[int, ...]]] = [
    (
        CellSpace(stem_channels=4, ops=ALL_CELL_OPS),
        "|max_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_5x5~0|none~1|avg_pool_3x3~2|",
        (3, 7, 9),
    ),
    (CellSpace(stem_channels=4), "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", (1, 1, 1)),
    (
        ChainSpace(input_shape=(1, 16, 16), ops=ALL_SPATIAL, strides=(1, 2), kernels=(2, 3, 5), dropout=(0.0, 0.2)),
        "conv(8,k3,s1,relu,pool,p0.2)>sep_conv(16,k5,s2,relu)>avg_pool(k2,s1)",
        (1, 16, 16),
    ),
    (ChainSpace(input_shape=(12,), batch_norm=(True, False)), "dense(16,relu)>dense(32,relu,nobn)", (12,)),
]


@pytest.mark.parametrize(("space", "arch", "shape"), NETWORKS, ids=["cell", "dead-cell-1px", "image", "flat"])
def test_networks_create_no_tensor_off_the_input_device(space, arch: Hashable, shape: tuple[int, ...]) -> None:
    """Built and run on the meta device, any tensor made on the CPU inside ``forward`` would fail to mix: the
    CPU stand-in for running on CUDA."""
    with torch.device("meta"):
        model = space.build(arch, shape, 3)
    x = torch.zeros((2, *shape), device="meta")
    for training in (True, False):
        out = model.train(training)(x)
        assert out.device.type == "meta" and out.shape == (2, 3)


@pytest.mark.parametrize(("space", "arch", "shape"), NETWORKS, ids=["cell", "dead-cell-1px", "image", "flat"])
def test_build_is_deterministic_given_the_seed(space, arch: Hashable, shape: tuple[int, ...]) -> None:
    states = []
    for _ in range(2):
        torch.manual_seed(3)
        states.append(space.build(arch, shape, 3).state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


@pytest.mark.parametrize("space", [ChainSpace(input_shape=(1, 8, 8)), CellSpace()])
def test_a_network_for_no_class_is_refused_by_every_space(space):
    arch = space.sample(np.random.default_rng(0))
    with pytest.raises(InvalidArchitecture, match=r"^num_classes must be >= 1, got 0$"):
        space.build(arch, (1, 8, 8), 0)
