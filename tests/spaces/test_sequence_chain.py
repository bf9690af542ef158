"""The chain space on token ids and on numeric sequences with recurrent and attention layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.export import export_model
from nasforge.spaces import ChainSpace
from nasforge.spaces._chain_fit import SHORT_TEXT
from nasforge.testing import check_space

TOKENS, VOCAB = (12,), 30
EVERY_OP = ("conv", "gru", "lstm", "attention")  # a short text's defaults leave attention out
READOUTS = ("mean", "max", "last", "attention")


def test_token_space_honours_the_contract() -> None:
    space = ChainSpace(TOKENS, vocab_size=VOCAB)
    assert space.kind == "tokens" and "embed" in {d.name for d in space.decisions}  # one readout: no decision
    check_space(space, TOKENS, seed=0, builds=4)
    long = ChainSpace((SHORT_TEXT + 1,), vocab_size=VOCAB)
    check_space(long, (SHORT_TEXT + 1,), seed=0, builds=2)


def test_short_texts_get_recurrent_and_conv_defaults_and_long_ones_attention_too() -> None:
    short = ChainSpace((SHORT_TEXT,), vocab_size=VOCAB)
    assert set(short.ops) == {"conv", "gru", "lstm"} and short.depth == (1, 2)
    assert set(short.readouts) == {"max"}
    long = ChainSpace((SHORT_TEXT + 1,), vocab_size=VOCAB)
    assert set(long.ops) == {"conv", "gru", "lstm", "attention"} and long.depth == (0, 3)
    assert set(long.readouts) == {"mean", "max", "attention"}


def test_attention_is_left_out_of_inputs_longer_than_its_positional_table() -> None:
    from nasforge.ops import MAX_LENGTH

    longest = ChainSpace((MAX_LENGTH + 1,), vocab_size=VOCAB)  # long character texts: the defaults go without it
    assert "attention" not in longest.ops and "gru" in longest.ops
    with pytest.raises(ConfigError, match=f"space.ops: attention reads at most {MAX_LENGTH} positions, the input"):
        ChainSpace((MAX_LENGTH + 1,), vocab_size=VOCAB, ops=("conv", "attention"))
    with pytest.raises(ConfigError, match=f"the input has {MAX_LENGTH + 1}"):
        ChainSpace((2, MAX_LENGTH + 1), ops=("conv", "attention"), readout=("mean",))


def test_numeric_sequences_may_choose_recurrent_and_attention_layers() -> None:
    space = ChainSpace((2, 20), ops=("conv", "gru", "lstm", "attention"), readout=("mean", "max", "last"))
    check_space(space, (2, 20), seed=1, builds=4)
    default = ChainSpace((2, 20))  # the default sequence space is unchanged: convolutions, mean readout
    assert "readout" not in default.config() and default.ops == ("conv",)


@pytest.mark.parametrize(
    "arch",
    [
        "embed(16)>conv(16,k5,s1,relu)>readout(max)",
        "embed(16)>gru(16,bi)>readout(last)",
        "embed(8)>lstm(16)>gru(8,bi)",
        "embed(16)>attention(16,h4)>readout(attention)",
        "embed(8)>conv(16,k3,s1,relu,nobn)>lstm(16,bi,p0.2)>attention(16,h2)>readout(max)",
    ],
)
def test_padding_never_changes_a_prediction(arch: str) -> None:
    space = ChainSpace(
        TOKENS,
        vocab_size=VOCAB,
        ops=EVERY_OP,
        depth=(0, 3),
        widths=(8, 16),
        embed=(8, 16),
        readout=READOUTS,
        batch_norm=(True, False),
        dropout=(0, 0.2),
    )
    torch.manual_seed(0)
    model = space.build(arch, TOKENS, 3).eval()
    tokens = torch.randint(1, VOCAB, (4, 12))
    for row, length in enumerate((12, 7, 3, 1)):
        tokens[row, length:] = 0
    with torch.no_grad():
        short = model(tokens)
        padded = model(torch.cat([tokens, torch.zeros(4, 9, dtype=torch.long)], dim=1))
        alone = torch.cat([model(tokens[i : i + 1, :length]) for i, length in enumerate((12, 7, 3, 1))])
    torch.testing.assert_close(padded, short, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone, short, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("op", ["gru(16,bi)", "lstm(16)", "attention(16,h2)"])
def test_each_sequence_op_exports_and_verifies_in_onnxruntime(op: str, tmp_path: Path) -> None:
    space = ChainSpace(TOKENS, vocab_size=VOCAB, ops=EVERY_OP, widths=(16,), embed=(8,), readout=READOUTS)
    torch.manual_seed(0)
    model = space.build(f"embed(8)>{op}>readout(max)", TOKENS, 2).eval()
    result = export_model(model, TOKENS, tmp_path, stem=op.split("(")[0])
    assert result.max_abs_diff < 1e-4 and result.onnx.exists()
    import onnxruntime as ort

    session = ort.InferenceSession(str(result.onnx))
    assert session.get_inputs()[0].type == "tensor(int64)"  # the model takes token ids


def test_invalid_sequence_layers_are_rejected_with_the_reason() -> None:
    space = ChainSpace(
        TOKENS, vocab_size=VOCAB, ops=EVERY_OP, depth=(0, 3), widths=(30, 32), heads=(4,), readout=READOUTS
    )
    with pytest.raises(InvalidArchitecture, match="width 30 is not divisible by its 4 heads"):
        space.from_string("embed(32)>attention(30,h4)")
    with pytest.raises(InvalidArchitecture, match="embed None is not in this space"):
        space.from_string("gru(32)")
    for i in range(20):  # every sampled chain can be built, including the layerless ones (depth 0)
        arch = space.sample(np.random.default_rng(i))
        assert space.from_decisions(space.to_decisions(arch)) == arch
    assert space.from_string("embed(32)>readout(max)").layers == ()


def test_sequence_options_are_checked_against_the_input() -> None:
    with pytest.raises(ConfigError, match=r"space\.embed: only for token input, not image"):
        ChainSpace((1, 8, 8), embed=(16,))
    with pytest.raises(ConfigError, match=r"space\.ops: image input takes ops from"):
        ChainSpace((1, 8, 8), ops=("conv", "gru"))
    with pytest.raises(ConfigError, match=r"token chains keep their length"):
        ChainSpace(TOKENS, vocab_size=VOCAB, strides=(1, 2))


def test_zeros_before_the_last_token_are_read_as_tokens_not_padding() -> None:
    from nasforge.ops import padding_mask

    tokens = torch.tensor([[0, 0, 5, 6, 0], [4, 0, 3, 0, 0], [0, 0, 0, 0, 0]])
    assert padding_mask(tokens).int().tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]]
    space = ChainSpace((5,), vocab_size=VOCAB, widths=(8,), embed=(8,), readout=READOUTS)
    model = space.build("embed(8)>gru(8,bi)>readout(last)", (5,), 2).eval()
    assert torch.isfinite(model(tokens)).all()  # left padding and all-padding rows run
