"""Property-based tests: every space operation, from any seed and on any small input, yields valid members, and
any text handed to ``from_string`` (a user's typo, a store from another version) parses to a valid member or
raises ``InvalidArchitecture``, never another exception.

Each property runs a few dozen derandomized examples in the default suite (the same ones on every run) and many
more under ``-m slow``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from nasforge.exceptions import ConfigError, InvalidArchitecture
from nasforge.spaces import NB201_OPS, CellSpace, ChainSpace, SearchSpace
from nasforge.testing import (
    check_build,
    check_crossover,
    check_encode,
    check_mutate,
    check_neighbors,
    check_round_trip,
)

_SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(0, 2**32 - 1)


def examples(default: int, thorough: int) -> pytest.MarkDecorator:
    """Parametrize ``max_examples``: ``default`` in the default suite, ``thorough`` under ``-m slow``."""
    return pytest.mark.parametrize(
        "max_examples", [default, pytest.param(thorough, marks=pytest.mark.slow)], ids=["default", "thorough"]
    )


_EXTRA_OPS = {
    "flat": ["identity"],
    "image": ["sep_conv", "max_pool", "avg_pool", "identity"],
    "sequence": ["sep_conv", "max_pool", "avg_pool", "identity", "gru", "lstm", "attention"],
    "tokens": ["gru", "lstm", "attention"],
}


@st.composite
def chain_spaces(draw: st.DrawFn, small: bool = False) -> ChainSpace:
    """A chain space for flat, sequence, image or token input with the ops and options that input takes.

    ``small`` keeps most spaces within a few thousand decision vectors, few enough to enumerate, and draws the
    image rules too (how much of the input the last layer sees, how many values a layer may output).
    """
    kind = draw(st.sampled_from(["flat", "sequence", "image", "tokens"]))
    shape = {
        "flat": st.tuples(st.integers(1, 64)),
        "sequence": st.tuples(st.integers(1, 4), st.integers(1, 40)),
        "image": st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
        "tokens": st.tuples(st.integers(1, 30)),
    }[kind]
    few = 1 if small else 2  # choices beyond the first, per option
    lo = draw(st.integers(0 if kind == "tokens" else 1, 2))
    hi = lo + draw(st.integers(0, 2))
    options: dict = {
        "input_shape": draw(shape),
        "depth": (lo, min(hi, 2) if small else hi),
        "ops": [
            "dense" if kind == "flat" else "conv",
            *draw(st.lists(st.sampled_from(_EXTRA_OPS[kind]), max_size=few, unique=True)),
        ],
        "widths": draw(st.lists(st.sampled_from([2, 4, 6]), min_size=1, max_size=2, unique=True)),
    }
    if kind != "flat":
        # An odd kernel always fits at stride 1, so every drawn space holds some chain once the image rules
        # (how much a chain must see, how wide it may be) are lifted; tests/spaces/test_chain.py covers them.
        options.update(min_receptive_field=0.0, max_activations=None)
        if small and kind != "tokens":
            options["min_receptive_field"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
            options["max_activations"] = draw(st.sampled_from([None, 40, 200]))
        odd = kind == "tokens"  # a token chain keeps its length, which an even kernel would not
        options["kernels"] = [3, *draw(st.lists(st.sampled_from([1, 5] if odd else [1, 2, 5]), max_size=1))]
    if kind in ("sequence", "image"):
        options["strides"] = [1, *draw(st.lists(st.sampled_from([2, 3]), max_size=1))]
        options["pool"] = draw(st.sampled_from([False, (False, True)]))
    if kind in ("sequence", "tokens"):
        options["heads"] = draw(st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=few, unique=True))
        readouts = st.sampled_from(["mean", "max", "last", "attention"])
        options["readout"] = draw(st.lists(readouts, min_size=1, max_size=few + 1, unique=True))
    if kind == "tokens":
        options["vocab_size"] = draw(st.integers(2, 50))
        options["embed"] = draw(st.lists(st.sampled_from([4, 8]), min_size=1, max_size=few, unique=True))
    if not small:
        options["dropout"] = draw(st.sampled_from([0.0, (0.0, 0.3)]))
        options["batch_norm"] = draw(st.sampled_from([True, False, (True, False)]))
    try:
        return ChainSpace(**options)
    except ConfigError:
        if not small:
            raise
        reject()  # the drawn rules leave no chain: nothing to count


def decode_onehot(space: SearchSpace, vector: np.ndarray) -> Hashable:
    """The architecture a one-hot encoding describes: the hot position within each decision's block."""
    values, offset = [], 0
    for decision in space.decisions:
        block = vector[offset : offset + len(decision)]
        assert block.sum() == 1.0, f"block of {decision.name} is not one-hot: {block}"
        values.append(int(block.argmax()))
        offset += len(decision)
    assert offset == len(vector)
    return space.from_decisions(values)


def check_operations(space: SearchSpace, seed: int) -> None:
    """Sample, mutate, cross over, step to neighbours, encode and decode: every result is a valid member."""
    rng = np.random.default_rng(seed)
    a, b = space.sample(rng), space.sample(rng)
    check_round_trip(space, a)
    if space.size > 1:
        check_mutate(space, a, rng)
    check_crossover(space, a, b, rng)
    check_neighbors(space, a)
    check_encode(space, [a, b])
    assert decode_onehot(space, space.encode(a)) == a


@examples(60, 1000)
def test_chain_operations_yield_valid_architectures(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(space=chain_spaces(), seed=SEEDS)
    def holds(space: ChainSpace, seed: int) -> None:
        check_operations(space, seed)

    holds()


@examples(40, 500)
def test_chain_samples_fit_their_input(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(space=chain_spaces(), seed=SEEDS)
    def holds(space: ChainSpace, seed: int) -> None:
        check_build(space, space.sample(np.random.default_rng(seed)), space.input_shape)

    holds()


@examples(25, 300)
def test_chain_size_counts_the_enumerated_architectures(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(space=chain_spaces(small=True))
    def holds(space: ChainSpace) -> None:
        assume(math.prod(len(d) for d in space.decisions) <= 4000)
        archs = list(space.enumerate())
        assert space.size == len(archs) == len(set(archs))

    holds()


@examples(40, 1000)
def test_cell_operations_yield_valid_architectures(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(
        nodes=st.integers(2, 5),
        ops=st.lists(st.sampled_from(NB201_OPS), min_size=1, max_size=5, unique=True),
        seed=SEEDS,
    )
    def holds(nodes: int, ops: list[str], seed: int) -> None:
        check_operations(CellSpace(nodes=nodes, ops=ops), seed)

    holds()


# -- text into from_string ----------------------------------------------------------------------------------
PARSED_SPACES: tuple[SearchSpace, ...] = (
    ChainSpace(input_shape=(1, 8, 8), ops=["conv", "sep_conv", "max_pool", "avg_pool", "identity"], dropout=(0.0, 0.2)),
    ChainSpace(input_shape=(2, 30), ops=["conv", "max_pool", "gru", "lstm", "attention", "identity"]),
    ChainSpace(input_shape=(12,), batch_norm=(True, False)),
    ChainSpace(input_shape=(20,), vocab_size=50),
    CellSpace(),
)
"""One space per string grammar and input kind: image, sequence (recurrent and attention layers), flat, tokens."""

# Pieces of every grammar (ops, arguments, separators) and a few that break numbers, so that random text often
# comes close to a real architecture instead of failing at its first character.
_PIECES = [
    *"()>,|+~ .-_0123456789",
    *("conv", "sep_conv", "dense", "max_pool", "avg_pool", "identity", "gru", "lstm", "attention"),
    *("embed(8)", "readout(max)", "readout(foo)", "relu", "gelu", "pool", "nobn", "bn", "bi", "h2", "h0", "k3"),
    *("k0", "s1", "s0", "p0.2", "p1.5", "p1e-3", "32", "0", "999999999999999999999", "nan", "inf", "-1"),
    *(*NB201_OPS, "~0", "~1", "|+|", "\x00", "é"),
]


@st.composite
def near_misses(draw: st.DrawFn, space: SearchSpace) -> str:
    """A valid architecture's string with up to three characters or pieces inserted, deleted or replaced."""
    text = space.to_string(space.sample(np.random.default_rng(draw(SEEDS))))
    for _ in range(draw(st.integers(0, 3))):
        at, edit = draw(st.integers(0, len(text))), draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = "" if edit == "delete" else draw(st.sampled_from(_PIECES))
        text = text[:at] + piece + text[at + (edit != "insert") :]
    return text


@st.composite
def space_and_text(draw: st.DrawFn) -> tuple[SearchSpace, str]:
    space = draw(st.sampled_from(PARSED_SPACES))
    soup = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)
    return space, draw(st.one_of(st.text(max_size=40), soup, near_misses(space)))


@examples(1000, 20_000)
def test_any_text_parses_to_a_valid_member_or_raises_invalid_architecture(max_examples: int) -> None:
    @settings(_SETTINGS, max_examples=max_examples)
    @given(case=space_and_text())
    def holds(case: tuple[SearchSpace, str]) -> None:
        space, text = case
        try:
            arch = space.from_string(text)
        except InvalidArchitecture:
            return
        check_round_trip(space, arch)  # accepted text is a member: canonical, decodable, within the space

    holds()
