"""The NAS-Bench-201 cell space: the exact string form, path encoding and the skeleton's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasforge.exceptions import InvalidArchitecture
from nasforge.spaces import NB201_OPS, Cell, CellSpace
from nasforge.spaces._cell_net import InferCell

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_all_15625_strings_round_trip() -> None:
    space = CellSpace()
    strings = [space.to_string(a) for a in space.enumerate()]
    assert len(strings) == len(set(strings)) == space.size == 15625
    assert all(str(space.from_string(s)) == s for s in strings)
    assert strings[0] == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_known_string_parses_to_ops_in_nb201_edge_order() -> None:
    cell = CellSpace().from_string(BEST)
    assert cell.ops == ("nor_conv_3x3",) * 3 + ("skip_connect", "nor_conv_3x3", "nor_conv_3x3")
    assert cell.edges == [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("|nor_conv_3x3~0|+|none~0|none~1|", "expected 3"),
        ("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_3x3'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from node 0"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "wrapped in '|'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "needs 2 incoming"),
    ],
)
def test_bad_strings_give_one_line_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitecture, match=fragment) as info:
        CellSpace().from_string(text)
    assert "\n" not in str(info.value)


def test_path_encoding_counts_live_paths() -> None:
    space = CellSpace()
    assert space.encode(BEST, "path").shape == (4 + 16 + 64,)
    assert space.paths(BEST) == [
        ("skip_connect",),
        ("nor_conv_3x3", "nor_conv_3x3"),
        ("nor_conv_3x3", "nor_conv_3x3"),
        ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3"),
    ]
    dead = space.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert space.paths(dead) == [] and space.encode(dead, "path").sum() == 0


@pytest.mark.parametrize(("shape", "stages"), [((1, 8, 8), 3), ((3, 32, 32), 3), ((1, 8, 8), 5), ((2, 7, 9), 3)])
def test_network_output_shape(shape: tuple[int, ...], stages: int) -> None:
    space = CellSpace(stem_channels=4, stages=stages)
    model = space.build(BEST, shape, 7)
    assert model(torch.randn(2, *shape)).shape == (2, 7)


def test_reductions_double_channels_and_never_collapse() -> None:
    model = CellSpace(stem_channels=4, stages=5).build(BEST, (1, 8, 8), 3)
    features = model.features(torch.randn(2, 1, 8, 8))
    assert features.shape == (2, 4 * 2**4, 1, 1)


@pytest.mark.parametrize("shape", [(64,), (3, 20), (1, 1, 8, 8)])
def test_non_image_input_is_rejected_clearly(shape: tuple[int, ...]) -> None:
    with pytest.raises(InvalidArchitecture, match=r"needs image input \(C,H,W\).*use space type chain"):
        CellSpace().build(BEST, shape, 3)


def test_dead_cell_outputs_zeros_and_skips_unused_edges() -> None:
    cell = Cell(("nor_conv_3x3", "none", "none", "none", "none", "none"))
    block = InferCell(cell, 4)
    assert len(block.ops) == 0  # node 1 never reaches the output: its conv is not built
    assert torch.equal(block(torch.randn(2, 4, 5, 5)), torch.zeros(2, 4, 5, 5))


def test_cell_forward_sums_incoming_edges() -> None:
    cell = Cell(("skip_connect", "skip_connect", "skip_connect", "none", "none", "skip_connect"))
    x = torch.randn(1, 2, 3, 3)
    assert torch.allclose(InferCell(cell, 2)(x), 2 * x)  # node2 = x + x; node3 = node2


def test_custom_op_set_and_nodes() -> None:
    space = CellSpace(nodes=3, ops=("skip_connect", "nor_conv_3x3"))
    assert space.size == 2**3
    arch = space.sample(np.random.default_rng(0))
    assert space.from_string(str(arch)) == arch
    assert space.build(arch, (1, 8, 8), 2)(torch.randn(2, 1, 8, 8)).shape == (2, 2)
    assert NB201_OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
