"""Ops as flat name -> factory tables of plain ``nn.Module`` s, one signature per table.

``CELL_OPS`` holds NAS-Bench-201's cell ops, ``(c_in, c_out, stride)``; ``LAYER_OPS`` holds the chain layers,
``(c_in, c_out, kernel, stride, dims, bias)``; ``ACTIVATIONS`` maps names to activation classes. Unknown names
raise :class:`~nasforge.exceptions.ConfigError` listing close matches.

>>> type(CELL_OPS.get("nor_conv_3x3")(16, 16, 1)).__name__
'ReLUConvBN'
"""

from nasforge.ops._cell import CELL_OPS, FactorizedReduce, ReLUConvBN, Zero
from nasforge.ops._layers import (
    ACTIVATIONS,
    LAYER_OPS,
    GlobalAvgPool,
    SepConv,
    batch_norm,
)

__all__ = [
    "ACTIVATIONS",
    "CELL_OPS",
    "LAYER_OPS",
    "FactorizedReduce",
    "GlobalAvgPool",
    "ReLUConvBN",
    "SepConv",
    "Zero",
    "batch_norm",
]
