"""Sequence ops for token and numeric sequences, channels-first ``(N, C, L)`` like the Conv1d chains.

Token batches are right-padded: a ``mask`` is a bool ``(N, L)`` tensor, True at real tokens and False at the
padding after them; ``mask=None`` means every position is real (numeric sequences). Every module here gives the
same outputs at real positions however much padding follows, so a model scores a sequence the same whether it
is batched with longer ones or not:

* ``SEQUENCE_OPS``: ``(c_in, c_out, heads=1, bidirectional=False) -> nn.Module`` with
  ``forward(x, mask) -> (N, c_out, L)``; recurrent ops ignore ``heads``, attention ignores ``bidirectional``
  (it already sees both sides).
* ``SEQUENCE_POOLS``: ``(channels) -> nn.Module`` with ``forward(x, mask) -> (N, C)``, reading real positions only.
* :class:`TokenEmbedding` turns token ids (0 is padding) into ``(N, dim, L)``; :func:`padding_mask` gives the mask.
* :class:`MaskedSequence` runs one layer of a chain and zeros the padding, which is what keeps a chain of plain
  convolutions padding-invariant.

Everything is plain torch so that it can export to ONNX with dynamic batch and length axes (nasforge's own
export fixes the length to the tokenizer's, which pads every text to it): no
``pack_padded_sequence``, ``nn.MultiheadAttention`` or ``nn.TransformerEncoderLayer`` (their packed and fast
paths do not export). Checked with torch 2.13 and onnxruntime 1.32: the default (dynamo) exporter, with
``dynamic_shapes=({0: Dim("batch"), 1: Dim("length")},)`` or ``dynamic_axes``, and the TorchScript one,
``dynamo=False`` with ``dynamic_axes``, both give graphs that run at any batch size and length up to
:data:`MAX_LENGTH` (attention's positional table). The TorchScript exporter warns that GRU/LSTM graphs exported
at a batch size other than 1 may fail at other batch sizes; that does not apply here, as no initial state is
passed and the exported graphs are checked at several batch sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from nasforge.data._text import OOV, PAD
from nasforge.registry import Registry

__all__ = [
    "ATTENTION_OPS",
    "MAX_LENGTH",
    "RECURRENT_OPS",
    "SEQUENCE_OPS",
    "SEQUENCE_POOLS",
    "AttentionPool",
    "LastPool",
    "MaskedSequence",
    "MaxPool",
    "MeanPool",
    "Recurrent",
    "SelfAttentionBlock",
    "TokenEmbedding",
    "padding_mask",
]

SEQUENCE_OPS: Registry[nn.Module] = Registry("sequence op")
SEQUENCE_POOLS: Registry[nn.Module] = Registry("sequence pooling")

RECURRENT_OPS = ("gru", "lstm")
ATTENTION_OPS = ("attention",)

MAX_LENGTH = 4096
"""Longest sequence attention accepts: its sinusoidal positional encoding is precomputed for this many positions."""

_CELLS: dict[str, type[nn.RNNBase]] = {"gru": nn.GRU, "lstm": nn.LSTM}


def padding_mask(tokens: torch.Tensor) -> torch.Tensor:
    """``(N, L)`` bool mask of the real tokens: the ids 0 after a row's last other id are padding.

    Every module here relies on padding coming only at the end of a row. A 0 before the last real token (left
    padding, or a 0 inside the ids) is therefore read as a token with a zero vector (see
    :class:`TokenEmbedding`) rather than breaking that rule.
    """
    positions = torch.arange(1, tokens.shape[1] + 1, device=tokens.device)
    length = torch.where(tokens != 0, positions, torch.zeros_like(positions)).amax(dim=1, keepdim=True)
    return positions <= length


def _zero_padding(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``x`` ``(N, C, L)`` with padded positions set to 0 (a fill, not a product, so NaN or inf there goes too)."""
    return x if mask is None else x.masked_fill(~mask.unsqueeze(1), 0.0)


def _mirror_index(mask: torch.Tensor) -> torch.Tensor:
    """``(N, L)`` positions reversing ``0..len-1`` of each right-padded row; padding maps to itself.

    Built from ``arange`` and the row lengths, so it is one gather for the whole batch and exports to ONNX
    with any batch size and length. Applying it twice gives the identity.
    """
    positions = torch.arange(mask.shape[1], device=mask.device)
    mirrored = mask.sum(dim=1, keepdim=True) - 1 - positions
    return torch.where(mask, mirrored, positions)


def _reverse(seq: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """Reverse ``(N, L, C)`` rows along L: within their lengths by ``index``, or whole rows when unpadded."""
    if index is None:
        return seq.flip(1)
    return seq.gather(1, index.unsqueeze(-1).expand(-1, -1, seq.shape[2]))


class Recurrent(nn.Module):
    """A GRU or LSTM over the sequence, ``(N, c_in, L) -> (N, c_out, L)``.

    Bidirectional runs two unidirectional RNNs of ``c_out // 2`` units, the backward one on each row reversed
    within its own length (padding stays at the end), and concatenates their channels. Because padding only
    ever follows the real tokens and an RNN is causal, no real position's output depends on padding in either
    direction; torch's own ``bidirectional=True`` would start the backward pass on the padding instead.
    """

    takes_mask = True

    def __init__(self, c_in: int, c_out: int, cell: str, bidirectional: bool = False) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"unknown recurrent cell {cell!r} (choose from {', '.join(_CELLS)})")
        if bidirectional and c_out % 2:
            raise ValueError(f"bidirectional {cell} splits c_out between two directions; c_out={c_out} is odd")
        rnn = _CELLS[cell]
        hidden = c_out // 2 if bidirectional else c_out
        self.forward_rnn = rnn(c_in, hidden, batch_first=True)
        self.backward_rnn = rnn(c_in, hidden, batch_first=True) if bidirectional else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        seq = x.transpose(1, 2)
        out = self.forward_rnn(seq)[0]
        if self.backward_rnn is not None:
            index = None if mask is None else _mirror_index(mask)
            backward = _reverse(self.backward_rnn(_reverse(seq, index))[0], index)
            out = torch.cat([out, backward], dim=2)
        return out.transpose(1, 2)


def _sinusoids(length: int, dim: int) -> torch.Tensor:
    """``(length, dim)`` sinusoidal positional encoding (Vaswani et al.): sines on even, cosines on odd channels."""
    positions = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequencies = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    angles = positions * frequencies
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles[:, : dim // 2])
    return table


class _MultiHeadSelfAttention(nn.Module):
    """Scaled dot-product self-attention on ``(N, L, dim)`` whose keys skip the padding.

    Masked scores are filled with the dtype's most negative finite value rather than ``-inf``, so a row that is
    all padding gets uniform weights instead of NaN; at real positions the padded keys' weights are exactly 0.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        # (N, L, 3 * dim) -> three (N, heads, L, dim // heads)
        q, k, v = self.qkv(x).unflatten(-1, (3, self.heads, -1)).permute(2, 0, 3, 1, 4).unbind(0)
        scores = (q @ k.transpose(-2, -1)) * self.scale
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
        context = scores.softmax(dim=-1) @ v
        return self.out(context.transpose(1, 2).flatten(2))


class SelfAttentionBlock(nn.Module):
    """A pre-LayerNorm transformer encoder block, ``(N, c_in, L) -> (N, c_out, L)``, without dropout.

    ``x = proj(x) + pos``, then ``x + MHA(LN(x))`` and ``x + FFN(LN(x))``. ``proj`` is a per-position linear map
    (a 1x1 conv) present only when ``c_in != c_out``. The sinusoidal positional encoding is added in every
    attention block, so each block re-injects position and a chain needs no separate encoding layer; it is
    precomputed for :data:`MAX_LENGTH` positions. The feed-forward net is ``c_out -> 2 * c_out -> c_out`` with
    GELU: twice the model width rather than the usual four, to keep blocks light for a search. Written with plain
    torch ops because the fast paths of ``nn.MultiheadAttention`` and ``nn.TransformerEncoderLayer`` break ONNX
    export. Outputs at padded positions are unspecified (:class:`MaskedSequence` zeros them).
    """

    takes_mask = True

    def __init__(self, c_in: int, c_out: int, heads: int = 1) -> None:
        super().__init__()
        if c_out % heads:
            raise ValueError(f"attention needs c_out divisible by heads, got c_out={c_out} and heads={heads}")
        self.project = nn.Linear(c_in, c_out) if c_in != c_out else nn.Identity()
        self.register_buffer("positions", _sinusoids(MAX_LENGTH, c_out), persistent=False)
        self.attention_norm = nn.LayerNorm(c_out)
        self.attention = _MultiHeadSelfAttention(c_out, heads)
        self.feed_forward_norm = nn.LayerNorm(c_out)
        self.feed_forward = nn.Sequential(nn.Linear(c_out, 2 * c_out), nn.GELU(), nn.Linear(2 * c_out, c_out))
        self.output_norm = nn.LayerNorm(c_out)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(x.transpose(1, 2))
        h = h + self.positions[: h.shape[1]]
        h = h + self.attention(self.attention_norm(h), mask)
        h = h + self.feed_forward(self.feed_forward_norm(h))
        return self.output_norm(h).transpose(1, 2)


def _recurrent_factory(cell: str) -> Callable[..., nn.Module]:
    def factory(c_in: int, c_out: int, heads: int = 1, bidirectional: bool = False) -> nn.Module:
        return Recurrent(c_in, c_out, cell, bidirectional)

    return factory


def _attention(c_in: int, c_out: int, heads: int = 1, bidirectional: bool = False) -> nn.Module:
    return SelfAttentionBlock(c_in, c_out, heads)


for _cell in RECURRENT_OPS:
    SEQUENCE_OPS.register(_cell)(_recurrent_factory(_cell))
SEQUENCE_OPS.register("attention")(_attention)


class MeanPool(nn.Module):
    """Mean over the real positions, ``(N, C, L) -> (N, C)``; an all-padding row gives zeros."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return x.mean(dim=2)
        count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)
        return _zero_padding(x, mask).sum(dim=2) / count


class MaxPool(nn.Module):
    """Max over the real positions, ``(N, C, L) -> (N, C)``; an all-padding row gives zeros, not ``finfo.min``."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return x.amax(dim=2)
        filled = x.masked_fill(~mask.unsqueeze(1), torch.finfo(x.dtype).min)
        return filled.amax(dim=2).masked_fill(~mask.any(dim=1, keepdim=True), 0.0)


class LastPool(nn.Module):
    """The output at each row's last real position, ``(N, C, L) -> (N, C)``: what a forward RNN has read."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return x[:, :, -1]
        last = mask.sum(dim=1).clamp(min=1) - 1
        return x.gather(2, last.view(-1, 1, 1).expand(-1, x.shape[1], 1)).squeeze(2)


class AttentionPool(nn.Module):
    """Weighted mean over the real positions, the weights a softmax of one learned score per position."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.score = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _zero_padding(x, mask)
        scores = self.score(x.transpose(1, 2)).squeeze(2)
        if mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        return (x * scores.softmax(dim=1).unsqueeze(1)).sum(dim=2)


def _mean(channels: int) -> nn.Module:
    return MeanPool()


def _max(channels: int) -> nn.Module:
    return MaxPool()


def _last(channels: int) -> nn.Module:
    return LastPool()


SEQUENCE_POOLS.register("mean")(_mean)
SEQUENCE_POOLS.register("max")(_max)
SEQUENCE_POOLS.register("last")(_last)
SEQUENCE_POOLS.register("attention")(AttentionPool)


class TokenEmbedding(nn.Module):
    """Token ids ``(N, L)`` int64 -> ``(N, dim, L)`` vectors, channels-first for the sequence chain.

    Id 0 is padding: its vector is zero and gets no gradient (``padding_idx=0``), so padded positions enter the
    chain as zeros, as :class:`MaskedSequence` expects. The out-of-vocabulary id (1) starts at zero too and is
    trained like any token: when the training texts hold fewer distinct tokens than the vocabulary's cap, no
    training text has an unknown token, so that row would otherwise stay a random vector that every unseen word
    of the validation and test texts reads as a real signal; at zero an unseen word adds nothing.
    """

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        if vocab_size > OOV:
            with torch.no_grad():
                self.embedding.weight[OOV].zero_()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.embedding(tokens).transpose(1, 2)


class MaskedSequence(nn.Module):
    """One chain layer on a padded batch: ``forward(x, mask)`` runs ``module`` and zeros the padded positions.

    ``module`` is a ``SEQUENCE_OPS`` module (recognised by ``takes_mask = True``; it gets the mask) or any module
    of ``x`` alone, such as a Conv1d block. The padding is zeroed on the way in and out: a conv then sees the
    same zeros after a row's last real token whether they are padding or its own zero padding, so a chain of
    convs is padding-invariant too. ``module`` must keep the length L, so token chains use stride 1 and no
    pooling. A BatchNorm inside ``module`` still counts padded positions in its training statistics.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module
        self.takes_mask = bool(getattr(module, "takes_mask", False))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _zero_padding(x, mask)
        out = self.module(x, mask) if self.takes_mask else self.module(x)
        return _zero_padding(out, mask)
