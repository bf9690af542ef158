"""The networks a :class:`~nasforge.spaces.Chain` builds: its layers, pooling over positions, a linear head.

Learned layers become op -> BN (optional) -> activation -> 2x2 max-pool (optional) -> dropout (optional); a
convolution followed by BN has no bias of its own. :class:`ChainNetwork` pools spatial inputs over every axis
after the channels and sends flat inputs straight to the head. :class:`SequenceNetwork` is the chain on token
ids (an embedding first) or with recurrent or attention layers or another readout than the mean: every layer
gets the padding mask, and the readout ignores padding. Kept apart from the space so that importing the space
does not import torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasforge.ops import (
    ACTIVATIONS,
    LAYER_OPS,
    SEQUENCE_OPS,
    SEQUENCE_POOLS,
    GlobalAvgPool,
    MaskedSequence,
    TokenEmbedding,
    batch_norm,
    padding_mask,
)
from nasforge.spaces._chain_arch import LEARNED_OPS, SEQUENCE_LAYER_OPS, Chain, Layer

__all__ = ["ChainNetwork", "SequenceNetwork", "layer_modules"]


def _layer_block(layer: Layer, channels: int, dims: int) -> tuple[list[nn.Module], int]:
    """The modules of one chain layer on ``channels`` inputs, and the channels it outputs."""
    if layer.op in SEQUENCE_LAYER_OPS:
        width = int(layer.width or 0)
        options = {"heads": layer.heads or 1, "bidirectional": layer.bidirectional}
        body = [SEQUENCE_OPS.get(layer.op)(channels, width, **options)]
        return [*body, nn.Dropout(layer.dropout)] if layer.dropout else body, width
    factory = LAYER_OPS.get(layer.op)
    if layer.op not in LEARNED_OPS:
        return [factory(channels, channels, layer.kernel or 1, layer.stride or 1, dims)], channels
    width = int(layer.width or 0)
    body = [factory(channels, width, layer.kernel or 1, layer.stride or 1, dims, not layer.batch_norm)]
    if layer.batch_norm:
        body.append(batch_norm(width, dims))
    body.append(ACTIVATIONS.get(str(layer.activation))())
    if layer.pool:
        body.append(LAYER_OPS.get("max_pool")(width, width, 2, 2, dims))
    if layer.dropout:
        body.append(nn.Dropout(layer.dropout))
    return body, width


class ChainNetwork(nn.Sequential):
    """``features`` (the layers), ``pool`` (global average, or nothing for flat input), ``classifier``."""

    def __init__(self, chain: Chain, input_shape: Sequence[int], num_classes: int) -> None:
        dims, channels = len(input_shape) - 1, int(input_shape[0])
        body: list[nn.Module] = []
        ends = []
        for layer in chain.layers:
            modules, channels = _layer_block(layer, channels, dims)
            body += modules
            ends.append(len(body) - 1)
        super().__init__()
        self.features = nn.Sequential(*body)
        self.layer_ends = tuple(ends)  # the module of ``features`` whose output is each chain layer's
        self.pool = GlobalAvgPool() if dims else nn.Identity()
        self.classifier = nn.Linear(channels, num_classes)


class SequenceNetwork(nn.Module):
    """A chain on token ids ``(N, L)`` (``vocab_size`` given: ``embedding`` first) or numeric sequences
    ``(N, C, L)``: ``layers`` (each a :class:`~nasforge.ops.MaskedSequence`), ``readout``, ``classifier``.

    Token ids may arrive as any dtype (the cost counters feed zeros as floats); they are read as int64, and
    id 0 is padding, masked in every layer and in the readout.
    """

    def __init__(self, chain: Chain, input_shape: Sequence[int], num_classes: int, vocab_size: int | None) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        if vocab_size is not None:
            self.embedding = TokenEmbedding(vocab_size, int(chain.embed or 0))
            channels = int(chain.embed or 0)
        else:
            channels = int(input_shape[0])
        blocks = []
        for layer in chain.layers:
            modules, channels = _layer_block(layer, channels, 1)
            blocks.append(MaskedSequence(modules[0] if len(modules) == 1 else _Stack(*modules)))
        self.layers = nn.ModuleList(blocks)
        self.readout = SEQUENCE_POOLS.get(chain.readout or "mean")(channels)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = None
        if self.vocab_size is not None:
            tokens = x.long()
            mask = padding_mask(tokens)
            x = self.embedding(tokens)
        for layer in self.layers:
            x = layer(x, mask)
        return self.classifier(self.readout(x, mask))


class _Stack(nn.Sequential):
    """A layer's modules in order; a sequence op first in it takes the mask (``MaskedSequence`` passes it)."""

    def __init__(self, *modules: nn.Module) -> None:
        super().__init__(*modules)
        self.takes_mask = bool(getattr(modules[0], "takes_mask", False))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        first, *rest = list(self)
        x = first(x, mask) if self.takes_mask else first(x)
        for module in rest:
            x = module(x)
        return x


def layer_modules(model: ChainNetwork | SequenceNetwork) -> list[nn.Module]:
    """The module whose output is each chain layer's output, in order (where a drawing reads the shapes)."""
    if isinstance(model, SequenceNetwork):
        return list(model.layers)
    return [model.features[i] for i in model.layer_ends]
