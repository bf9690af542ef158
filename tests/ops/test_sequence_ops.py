"""Sequence ops: shapes, padding invariance, within-length bidirectional recurrence, errors and ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from nasforge.data._text import OOV
from nasforge.exceptions import ConfigError
from nasforge.ops._sequence import (
    ATTENTION_OPS,
    RECURRENT_OPS,
    SEQUENCE_OPS,
    SEQUENCE_POOLS,
    MaskedSequence,
    Recurrent,
    TokenEmbedding,
    padding_mask,
)

torch.set_num_threads(1)

# (name, heads, bidirectional): every op kind the search can pick.
OP_CASES = [
    ("gru", 1, False),
    ("gru", 1, True),
    ("lstm", 1, False),
    ("lstm", 1, True),
    ("attention", 1, False),
    ("attention", 2, False),
    ("attention", 4, False),
]
POOLS = SEQUENCE_POOLS.names()
VOCAB = 30


def _mask(lengths: list[int], width: int) -> torch.Tensor:
    return torch.arange(width) < torch.tensor(lengths).unsqueeze(1)


def _with_garbage(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` with large non-zero values at the padded positions, to show they are never read."""
    garbage = 50.0 + 10.0 * torch.randn_like(x)
    return torch.where(mask.unsqueeze(1), x, garbage)


def _append_padding(x: torch.Tensor, mask: torch.Tensor, extra: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``extra`` more padded columns: garbage in ``x``, False in ``mask``."""
    garbage = -30.0 + 10.0 * torch.randn(x.shape[0], x.shape[1], extra)
    return torch.cat([x, garbage], dim=2), torch.cat([mask, torch.zeros(mask.shape[0], extra, dtype=torch.bool)], 1)


def _tokens(lengths: list[int], width: int) -> torch.Tensor:
    """Right-padded token ids (1..VOCAB-1 for real tokens, 0 for padding)."""
    return torch.randint(1, VOCAB, (len(lengths), width)).masked_fill(~_mask(lengths, width), 0)


class _TokenModel(nn.Module):
    """Token ids -> embedding -> masked sequence layers -> pool -> linear head, the mask taken from the ids."""

    def __init__(self, layers: list[nn.Module], pool: str, dim: int = 8) -> None:
        super().__init__()
        self.embed = TokenEmbedding(VOCAB, dim)
        self.layers = nn.ModuleList(MaskedSequence(layer) for layer in layers)
        self.pool = SEQUENCE_POOLS.get(pool)(dim)
        self.head = nn.Linear(dim, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = padding_mask(tokens)
        x = self.embed(tokens)
        for layer in self.layers:
            x = layer(x, mask)
        return self.head(self.pool(x, mask))


def test_tables_list_every_kind() -> None:
    assert SEQUENCE_OPS.names() == sorted(RECURRENT_OPS + ATTENTION_OPS)
    assert POOLS == ["attention", "last", "max", "mean"]
    with pytest.raises(ConfigError, match="did you mean 'gru'"):
        SEQUENCE_OPS.get("gruu")


@pytest.mark.parametrize(("name", "heads", "bidirectional"), OP_CASES)
@pytest.mark.parametrize("length", [1, 5, 17])
@pytest.mark.parametrize("masked", [False, True])
def test_op_shapes(name: str, heads: int, bidirectional: bool, length: int, masked: bool) -> None:
    torch.manual_seed(0)
    op = SEQUENCE_OPS.get(name)(6, 8, heads, bidirectional)
    mask = _mask([length, max(length - 2, 1), 1], length) if masked else None
    assert op(torch.randn(3, 6, length), mask).shape == (3, 8, length)


@pytest.mark.parametrize("name", POOLS)
@pytest.mark.parametrize("length", [1, 5, 17])
@pytest.mark.parametrize("masked", [False, True])
def test_pool_shapes(name: str, length: int, masked: bool) -> None:
    torch.manual_seed(0)
    pool = SEQUENCE_POOLS.get(name)(6)
    mask = _mask([length, max(length - 2, 1), 1], length) if masked else None
    assert pool(torch.randn(3, 6, length), mask).shape == (3, 6)


@pytest.mark.parametrize(("name", "heads", "bidirectional"), OP_CASES)
def test_ops_ignore_padding(name: str, heads: int, bidirectional: bool) -> None:
    torch.manual_seed(0)
    op = SEQUENCE_OPS.get(name)(4, 8, heads, bidirectional).eval()
    lengths = [7, 3, 1, 5]
    mask = _mask(lengths, 7)
    x = _with_garbage(torch.randn(4, 4, 7), mask)
    long_x, long_mask = _append_padding(x, mask, 6)
    with torch.no_grad():
        short, long = op(x, mask), op(long_x, long_mask)
        alone = [op(x[row : row + 1, :, :n], None)[0] for row, n in enumerate(lengths)]
    for row, n in enumerate(lengths):
        assert_close(long[row, :, :n], short[row, :, :n], atol=1e-5, rtol=0)
        assert_close(short[row, :, :n], alone[row], atol=1e-5, rtol=0)  # as if the row were never batched


@pytest.mark.parametrize("name", POOLS)
def test_pools_ignore_padding(name: str) -> None:
    torch.manual_seed(0)
    pool = SEQUENCE_POOLS.get(name)(4).eval()
    lengths = [7, 3, 1, 5]
    mask = _mask(lengths, 7)
    x = _with_garbage(torch.randn(4, 4, 7), mask)
    long_x, long_mask = _append_padding(x, mask, 6)
    with torch.no_grad():
        short, long = pool(x, mask), pool(long_x, long_mask)
        alone = torch.cat([pool(x[row : row + 1, :, :n], None) for row, n in enumerate(lengths)])
    assert_close(long, short, atol=1e-5, rtol=0)
    assert_close(short, alone, atol=1e-5, rtol=0)


def test_pool_values() -> None:
    x = torch.tensor([[[1.0, 5.0, 3.0, 99.0]]])
    mask = _mask([3], 4)
    pools = {name: SEQUENCE_POOLS.get(name)(1) for name in POOLS}
    assert pools["mean"](x, mask).item() == pytest.approx(3.0)
    assert pools["max"](x, mask).item() == 5.0
    assert pools["last"](x, mask).item() == 3.0
    assert pools["last"](x, None).item() == 99.0
    assert 1.0 <= pools["attention"](x, mask).item() <= 5.0  # a convex combination of the real values


def test_all_padding_rows_stay_finite() -> None:
    torch.manual_seed(0)
    x, mask = torch.randn(2, 4, 5), _mask([5, 0], 5)
    for name, heads, bidirectional in OP_CASES:
        assert torch.isfinite(SEQUENCE_OPS.get(name)(4, 8, heads, bidirectional)(x, mask)).all(), name
    for name in POOLS:
        assert torch.isfinite(SEQUENCE_POOLS.get(name)(4)(x, mask)).all(), name


def test_pipeline_ignores_appended_padding_tokens() -> None:
    torch.manual_seed(0)
    layers = [
        nn.Conv1d(8, 8, 3, padding=1),
        SEQUENCE_OPS.get("gru")(8, 8, 1, True),
        SEQUENCE_OPS.get("attention")(8, 8, 2),
    ]
    model = _TokenModel(layers, "mean").eval()
    lengths = [9, 4, 1, 6]
    tokens = _tokens(lengths, 9)
    longer = torch.cat([tokens, torch.zeros(4, 7, dtype=torch.long)], dim=1)
    with torch.no_grad():
        short, long = model(tokens), model(longer)
        alone = torch.cat([model(tokens[row : row + 1, :n]) for row, n in enumerate(lengths)])
    assert_close(long, short, atol=1e-5, rtol=0)
    assert_close(short, alone, atol=1e-5, rtol=0)


def test_masked_sequence_zeros_padding_and_keeps_conv_chains_invariant() -> None:
    torch.manual_seed(0)
    chain = [MaskedSequence(nn.Conv1d(4, 4, 3, padding=1)) for _ in range(3)]
    mask = _mask([6, 2], 6)
    x = _with_garbage(torch.randn(2, 4, 6), mask)
    long_x, long_mask = _append_padding(x, mask, 4)
    short, long = x, long_x
    with torch.no_grad():
        for layer in chain:
            short, long = layer(short, mask), layer(long, long_mask)
    assert not chain[0].takes_mask and MaskedSequence(SEQUENCE_OPS.get("lstm")(4, 4)).takes_mask
    assert torch.equal(short[1, :, 2:], torch.zeros(4, 4))
    assert torch.equal(long[:, :, 6:], torch.zeros(2, 4, 4))
    assert_close(long[:, :, :6], short, atol=1e-5, rtol=0)


def test_token_embedding() -> None:
    torch.manual_seed(0)
    embed = TokenEmbedding(VOCAB, 5)
    tokens = torch.tensor([[3, 7, 0, 0], [1, 2, 4, 0]])
    out = embed(tokens)
    assert out.shape == (2, 5, 4) and out.dtype == torch.float32
    assert torch.equal(out[0, :, 2:], torch.zeros(5, 2))
    assert torch.equal(padding_mask(tokens), tokens != 0)
    out.sum().backward()
    assert torch.equal(embed.embedding.weight.grad[0], torch.zeros(5))  # padding gets no gradient
    assert embed.embedding.weight.grad[3].abs().sum() > 0


def test_an_unknown_token_reads_as_zero_until_training_sees_one() -> None:
    """Training texts without an unknown token leave its row at zero, so unseen words add no random signal."""
    torch.manual_seed(0)
    embed = TokenEmbedding(VOCAB, 5)
    assert torch.equal(embed.embedding.weight[OOV], torch.zeros(5))
    optimizer = torch.optim.Adam(embed.parameters(), lr=0.1)
    for tokens in (torch.tensor([[3, 7, 2, 0]]), torch.tensor([[3, 1, 2, 0]])):
        optimizer.zero_grad()
        embed(tokens).sum().backward()
        optimizer.step()
        if OOV not in tokens:
            assert torch.equal(embed.embedding.weight[OOV], torch.zeros(5))
    assert embed.embedding.weight[OOV].abs().sum() > 0  # trained once a training text had one


@pytest.mark.parametrize("cell", RECURRENT_OPS)
def test_bidirectional_backward_half_reads_the_row_backwards(cell: str) -> None:
    torch.manual_seed(0)
    op = Recurrent(4, 6, cell, bidirectional=True).eval()
    x = torch.randn(1, 4, 9)
    seq = x.transpose(1, 2)
    with torch.no_grad():
        forward = op.forward_rnn(seq)[0].transpose(1, 2)
        backward = torch.flip(op.backward_rnn(torch.flip(seq, [1]))[0], [1]).transpose(1, 2)
        for mask in (None, torch.ones(1, 9, dtype=torch.bool)):
            out = op(x, mask)
            assert_close(out[:, :3], forward, atol=1e-6, rtol=0)
            assert_close(out[:, 3:], backward, atol=1e-6, rtol=0)


def test_attention_heads_must_divide_channels() -> None:
    with pytest.raises(ValueError, match=r"c_out=6 and heads=4"):
        SEQUENCE_OPS.get("attention")(4, 6, 4)


@pytest.mark.parametrize("cell", RECURRENT_OPS)
def test_bidirectional_needs_even_channels(cell: str) -> None:
    with pytest.raises(ValueError, match=r"c_out=7 is odd"):
        SEQUENCE_OPS.get(cell)(4, 7, 1, True)
    assert SEQUENCE_OPS.get(cell)(4, 7)(torch.randn(1, 4, 3), None).shape == (1, 7, 3)  # fine one way


def test_unknown_cell() -> None:
    with pytest.raises(ValueError, match="unknown recurrent cell 'rnn'"):
        Recurrent(4, 4, "rnn")


ONNX_MODELS = {
    "gru+last": lambda: _TokenModel([SEQUENCE_OPS.get("gru")(8, 8)], "last"),
    "lstm_bi+max": lambda: _TokenModel([SEQUENCE_OPS.get("lstm")(8, 8, 1, True)], "max"),
    "attention+attention": lambda: _TokenModel([SEQUENCE_OPS.get("attention")(8, 8, 2)], "attention"),
}


def _export(model: nn.Module, tokens: torch.Tensor, path: Path, exporter: str) -> None:
    names = {"input_names": ["tokens"], "output_names": ["logits"]}
    if exporter == "dynamo":
        dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("length")}
        torch.onnx.export(model, (tokens,), path, dynamic_shapes=(dims,), external_data=False, verbose=False, **names)
    else:
        axes = {"tokens": {0: "batch", 1: "length"}, "logits": {0: "batch"}}
        torch.onnx.export(model, (tokens,), path, dynamo=False, dynamic_axes=axes, **names)


@pytest.mark.filterwarnings("ignore")  # exporter chatter (legacy-exporter notice, tracer and RNN batch-size hints)
@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
@pytest.mark.parametrize("kind", list(ONNX_MODELS))
def test_onnx_export_runs_at_any_batch_and_length(kind: str, exporter: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    torch.manual_seed(0)
    model = ONNX_MODELS[kind]().eval()
    path = tmp_path / "model.onnx"
    _export(model, _tokens([7, 4, 2], 7), path, exporter)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for tokens in (_tokens([5, 5], 5), _tokens([11, 3, 8, 1, 6], 11), _tokens([1], 1)):
        with torch.no_grad():
            expected = model(tokens).numpy()
        got = session.run(None, {"tokens": tokens.numpy()})[0]
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)
