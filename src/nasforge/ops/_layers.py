"""Chain (macro) layer ops for flat (``dims=0``), sequence (``dims=1``) and image (``dims=2``) inputs.

One flat name -> factory table with one signature, ``(c_in, c_out, kernel, stride, dims, bias) -> nn.Module``;
ops ignore the arguments that do not concern them (a pool keeps its channels, ``dense`` has no kernel). Spatial
ops pad by ``(kernel - 1) // 2``, so odd kernels keep the size at stride 1 and give ``ceil(n / stride)`` otherwise
(``nasforge.spaces._chain_arch.out_size`` is the same arithmetic, free of torch, for validity checks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasforge.registry import Registry

__all__ = [
    "ACTIVATIONS",
    "LAYER_OPS",
    "GlobalAvgPool",
    "SepConv",
    "batch_norm",
]

LAYER_OPS: Registry[nn.Module] = Registry("layer op")
ACTIVATIONS: Registry[nn.Module] = Registry("activation")

_CONV: dict[int, type[nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d}
_MAX: dict[int, type[nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
_AVG: dict[int, type[nn.Module]] = {1: nn.AvgPool1d, 2: nn.AvgPool2d}


def _spatial(dims: int, op: str) -> None:
    if dims not in (1, 2):
        raise ValueError(f"layer op {op!r} needs sequence or image input (dims 1 or 2), got dims={dims}")


def _conv(c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> nn.Module:
    _spatial(dims, "conv")
    return _CONV[dims](c_in, c_out, kernel, stride, padding=(kernel - 1) // 2, bias=bias)


class SepConv(nn.Sequential):
    """Depthwise-separable conv: a per-channel ``kernel`` conv, then a 1x1 conv mixing channels (MobileNet)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> None:
        _spatial(dims, "sep_conv")
        conv = _CONV[dims]
        super().__init__(
            conv(c_in, c_in, kernel, stride, padding=(kernel - 1) // 2, groups=c_in, bias=False),
            conv(c_in, c_out, 1, bias=bias),
        )


def _max_pool(c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> nn.Module:
    _spatial(dims, "max_pool")
    return _MAX[dims](kernel, stride, padding=(kernel - 1) // 2)


def _avg_pool(c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> nn.Module:
    _spatial(dims, "avg_pool")
    return _AVG[dims](kernel, stride, padding=(kernel - 1) // 2, count_include_pad=False)


def _identity(c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> nn.Module:
    return nn.Identity()


def _dense(c_in: int, c_out: int, kernel: int, stride: int, dims: int, bias: bool = True) -> nn.Module:
    if dims != 0:
        raise ValueError(f"layer op 'dense' needs flat input (dims 0), got dims={dims}")
    return nn.Linear(c_in, c_out, bias=bias)


LAYER_OPS.register("conv")(_conv)
LAYER_OPS.register("sep_conv")(SepConv)
LAYER_OPS.register("max_pool")(_max_pool)
LAYER_OPS.register("avg_pool")(_avg_pool)
LAYER_OPS.register("identity")(_identity)
LAYER_OPS.register("dense")(_dense)

_ACTS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
}
for _name, _factory in _ACTS.items():
    ACTIVATIONS.register(_name)(_factory)


def batch_norm(channels: int, dims: int) -> nn.Module:
    """BatchNorm over the channel axis: ``BatchNorm1d`` for flat ``(N, F)`` and sequence ``(N, C, L)``."""
    return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)


class GlobalAvgPool(nn.Module):
    """Mean over every axis after the channels: ``(N, C, ...) -> (N, C)``; a plain mean exports to any opset."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)
