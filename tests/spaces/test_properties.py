"""Property-based tests: every space operation, from any seed and on any small input, yields valid members."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasforge.spaces import CellSpace, ChainSpace
from nasforge.testing import check_crossover, check_mutate, check_neighbors, check_round_trip

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

shapes = st.one_of(
    st.tuples(st.integers(1, 64)),
    st.tuples(st.integers(1, 4), st.integers(1, 40)),
    st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
)


@st.composite
def chain_spaces(draw: st.DrawFn) -> ChainSpace:
    shape = draw(shapes)
    lo = draw(st.integers(1, 3))
    options: dict = {"depth": (lo, lo + draw(st.integers(0, 2)))}
    if len(shape) > 1:
        # An odd kernel always fits at stride 1, so every drawn space holds some chain once the image rules
        # (how much a chain must see, how wide it may be) are lifted; tests/spaces/test_chain.py covers them.
        options.update(min_receptive_field=0.0, max_activations=None)
        options["kernels"] = [3, *draw(st.lists(st.sampled_from([1, 2, 5]), max_size=2, unique=True))]
        options["strides"] = [1, *draw(st.lists(st.sampled_from([2, 3]), max_size=1))]
    options["dropout"] = draw(st.sampled_from([0.0, (0.0, 0.3)]))
    options["batch_norm"] = draw(st.sampled_from([True, False, (True, False)]))
    return ChainSpace(input_shape=shape, **options)


@_SETTINGS
@given(space=chain_spaces(), seed=st.integers(0, 2**32 - 1))
def test_chain_operations_yield_valid_architectures(space: ChainSpace, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = space.sample(rng), space.sample(rng)
    check_round_trip(space, a)
    if space.size > 1:
        check_mutate(space, a, rng)
    check_crossover(space, a, b, rng)
    check_neighbors(space, a)
    assert space.encode(a).shape == space.encode(b).shape


@_SETTINGS
@given(space=chain_spaces(), seed=st.integers(0, 2**32 - 1))
def test_chain_samples_fit_their_input(space: ChainSpace, seed: int) -> None:
    import torch

    arch = space.sample(np.random.default_rng(seed))
    model = space.build(arch, space.input_shape, 3)
    assert model(torch.randn(2, *space.input_shape)).shape == (2, 3)


@_SETTINGS
@given(
    nodes=st.integers(2, 5),
    ops=st.lists(
        st.sampled_from(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_cell_operations_yield_valid_architectures(nodes: int, ops: list[str], seed: int) -> None:
    space = CellSpace(nodes=nodes, ops=ops)
    rng = np.random.default_rng(seed)
    a, b = space.sample(rng), space.sample(rng)
    check_round_trip(space, a)
    if space.size > 1:
        check_mutate(space, a, rng)
    check_crossover(space, a, b, rng)
    check_neighbors(space, a)
    assert space.from_string(space.to_string(a)) == a
