"""NAS-Bench-201's cell ops, with its exact semantics, as a flat name -> factory table.

Every factory has the signature ``(c_in, c_out, stride) -> nn.Module`` (DARTS' and NB201's shape), so a cell
builds an edge by name alone. Inside a cell ``c_in == c_out`` and ``stride == 1``; the other cases follow NB201
(a strided or widening ``skip_connect`` becomes a factorized reduce, ``none`` returns zeros of the right shape).
"""

from __future__ import annotations

import torch
from torch import nn

from nasforge.registry import Registry

__all__ = ["CELL_OPS", "FactorizedReduce", "ReLUConvBN", "Zero"]

CELL_OPS: Registry[nn.Module] = Registry("cell op")


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv -> BN, NB201's ``nor_conv_kxk`` (pre-activation, so cell sums stay unnormalised)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output, strided and with ``c_out`` channels (NB201's ``Zero``
    ignores the stride when the channels change; here the shape is right either way)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.c_in == self.c_out:
            return x.mul(0.0)
        # Written with slicing and expand, not new_zeros(shape), so ONNX keeps the batch dimension dynamic.
        return x[:, :1].mul(0.0).expand(-1, self.c_out, -1, -1)


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing every other pixel: two offset 1x1 stride-2 convs, concatenated.

    At stride 1 (a skip that only widens) it is NB201's plain 1x1 conv and BN: the ReLU is on the stride-2 path only.
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        if stride == 2:
            half = c_out // 2
            self.convs = nn.ModuleList(
                [nn.Conv2d(c_in, half, 1, 2, bias=False), nn.Conv2d(c_in, c_out - half, 1, 2, bias=False)]
            )
            self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        elif stride == 1:
            self.conv = nn.Conv2d(c_in, c_out, 1, 1, bias=False)
        else:
            raise ValueError(f"FactorizedReduce: stride must be 1 or 2, got {stride}")
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = self.relu(x)
            shifted = self.pad(x)[:, :, 1:, 1:]
            x = torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1)
        else:
            x = self.conv(x)
        return self.bn(x)


class _Pool(nn.Module):
    """NB201's ``avg_pool_3x3``: a 1x1 ReLUConvBN first when the channels change, then the pool."""

    def __init__(self, c_in: int, c_out: int, stride: int, mode: str = "avg") -> None:
        super().__init__()
        self.pre = ReLUConvBN(c_in, c_out, 1, 1) if c_in != c_out else nn.Identity()
        if mode == "avg":
            self.pool: nn.Module = nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)
        else:
            self.pool = nn.MaxPool2d(3, stride, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pre(x))


def _skip(c_in: int, c_out: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)


CELL_OPS.register("none")(Zero)
CELL_OPS.register("skip_connect")(_skip)
CELL_OPS.register("nor_conv_1x1")(lambda c_in, c_out, stride: ReLUConvBN(c_in, c_out, 1, stride))
CELL_OPS.register("nor_conv_3x3")(lambda c_in, c_out, stride: ReLUConvBN(c_in, c_out, 3, stride))
CELL_OPS.register("nor_conv_5x5")(lambda c_in, c_out, stride: ReLUConvBN(c_in, c_out, 5, stride))
CELL_OPS.register("avg_pool_3x3")(_Pool)
CELL_OPS.register("max_pool_3x3")(lambda c_in, c_out, stride: _Pool(c_in, c_out, stride, "max"))
