"""The op tables: NB201 semantics, shapes for every kind of input, close-match errors for unknown names."""

from __future__ import annotations

import pytest
import torch

from nasforge.exceptions import ConfigError
from nasforge.ops import ACTIVATIONS, CELL_OPS, LAYER_OPS, GlobalAvgPool
from nasforge.spaces._chain_arch import out_size

torch.set_num_threads(1)


@pytest.mark.parametrize("name", CELL_OPS.names())
@pytest.mark.parametrize(("c_in", "c_out", "stride"), [(4, 4, 1), (4, 8, 2), (4, 6, 1), (3, 3, 2)])
def test_cell_ops_shapes(name: str, c_in: int, c_out: int, stride: int) -> None:
    op = CELL_OPS.get(name)(c_in, c_out, stride)
    for side in (1, 7, 8):
        out = op(torch.randn(2, c_in, side, side))
        expected = -(-side // stride)
        assert out.shape == (2, c_out, expected, expected), (name, side)


def test_nb201_semantics() -> None:
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(CELL_OPS.get("none")(4, 4, 1)(x), torch.zeros_like(x))
    assert torch.equal(CELL_OPS.get("skip_connect")(4, 4, 1)(x), x)
    conv = CELL_OPS.get("nor_conv_3x3")(4, 4, 1)
    assert [type(m).__name__ for m in conv] == ["ReLU", "Conv2d", "BatchNorm2d"]
    pool = CELL_OPS.get("avg_pool_3x3")(4, 4, 1).eval()
    ones = torch.ones(1, 4, 5, 5)
    assert torch.allclose(pool(ones), ones)  # count_include_pad=False: borders average real pixels only
    assert type(CELL_OPS.get("skip_connect")(4, 8, 2)).__name__ == "FactorizedReduce"


@pytest.mark.parametrize("name", ["conv", "sep_conv", "max_pool", "avg_pool", "identity"])
@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize(("kernel", "stride"), [(3, 1), (3, 2), (5, 2), (2, 2), (1, 3)])
def test_layer_ops_follow_out_size(name: str, dims: int, kernel: int, stride: int) -> None:
    c_out = 5 if name in ("conv", "sep_conv") else 3
    op = LAYER_OPS.get(name)(3, c_out, kernel, stride, dims)
    for n in (5, 8):
        out = op(torch.randn(2, 3, *([n] * dims)))
        side = n if name == "identity" else out_size(n, kernel, stride)
        assert out.shape == (2, c_out, *([side] * dims))


def test_dense_and_flat_only() -> None:
    assert LAYER_OPS.get("dense")(6, 4, 1, 1, 0)(torch.randn(3, 6)).shape == (3, 4)
    with pytest.raises(ValueError, match="needs flat input"):
        LAYER_OPS.get("dense")(6, 4, 1, 1, 2)
    with pytest.raises(ValueError, match="needs sequence or image"):
        LAYER_OPS.get("conv")(6, 4, 3, 1, 0)


def test_sep_conv_is_depthwise_then_pointwise() -> None:
    dw, pw = LAYER_OPS.get("sep_conv")(4, 8, 3, 1, 2)
    assert dw.groups == 4 and pw.kernel_size == (1, 1)


@pytest.mark.parametrize("table", [CELL_OPS, LAYER_OPS, ACTIVATIONS])
def test_unknown_names_list_close_matches(table) -> None:
    name = table.names()[0]
    with pytest.raises(ConfigError, match=f"did you mean '{name}'"):
        table.get(name[:-1] + "x")


def test_global_avg_pool_any_rank() -> None:
    assert GlobalAvgPool()(torch.ones(2, 3, 4, 5)).shape == (2, 3)
    assert GlobalAvgPool()(torch.ones(2, 3, 4)).shape == (2, 3)


def test_widening_skip_at_stride_1_is_nb201s_conv_bn_without_relu() -> None:
    # NB201's FactorizedReduce applies its ReLU only on the stride-2 path; at stride 1 it is a 1x1 conv and BN.
    op = CELL_OPS.get("skip_connect")(4, 6, 1).eval()
    x = -torch.rand(2, 4, 5, 5) - 0.5  # all negative: a ReLU would zero them
    with torch.no_grad():
        assert torch.allclose(op(x), op.bn(op.conv(x)))
