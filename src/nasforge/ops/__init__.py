"""Ops as flat name -> factory tables of plain ``nn.Module`` s, one signature per table.

``CELL_OPS`` holds NAS-Bench-201's cell ops, ``(c_in, c_out, stride)``; ``LAYER_OPS`` holds the chain layers,
``(c_in, c_out, kernel, stride, dims, bias)``; ``SEQUENCE_OPS`` the recurrent and attention layers,
``(c_in, c_out, heads, bidirectional)``, and ``SEQUENCE_POOLS`` the readouts, ``(channels)``, both taking a
padding mask; ``ACTIVATIONS`` maps names to activation classes. Unknown names
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
from nasforge.ops._sequence import (
    MAX_LENGTH,
    SEQUENCE_OPS,
    SEQUENCE_POOLS,
    MaskedSequence,
    TokenEmbedding,
    padding_mask,
)

__all__ = [
    "ACTIVATIONS",
    "CELL_OPS",
    "LAYER_OPS",
    "MAX_LENGTH",
    "SEQUENCE_OPS",
    "SEQUENCE_POOLS",
    "FactorizedReduce",
    "GlobalAvgPool",
    "MaskedSequence",
    "ReLUConvBN",
    "SepConv",
    "TokenEmbedding",
    "Zero",
    "batch_norm",
    "padding_mask",
]
