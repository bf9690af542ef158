"""A contract every search space must honour, as plain functions that raise ``AssertionError``.

Tests call :func:`check_space` on every registered space (see ``tests/spaces/test_contract.py``), so a space is
tested the moment it is registered; a new space's own tests can call the single checks too.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from nasforge.exceptions import InvalidArchitecture
from nasforge.spaces import SPACES, SearchSpace

__all__ = [
    "check_build",
    "check_config_round_trip",
    "check_crossover",
    "check_encode",
    "check_mutate",
    "check_neighbors",
    "check_round_trip",
    "check_sample",
    "check_space",
    "make_space",
]


def make_space(name: str, input_shape: Sequence[int], **options: Any) -> SearchSpace:
    """The registered space ``name`` with its defaults, given ``input_shape`` when its constructor takes one."""
    factory = SPACES.get(name)
    if "input_shape" in inspect.signature(factory).parameters:
        options.setdefault("input_shape", tuple(input_shape))
    return factory(**options)


def check_round_trip(space: SearchSpace, arch: Hashable) -> None:
    """The value is hashable and survives its string and its decision vector unchanged."""
    hash(arch)
    text = space.to_string(arch)
    assert isinstance(text, str) and text, f"empty string for {arch!r}"
    assert space.from_string(text) == arch, f"string round trip changed {text!r}"
    assert space.to_string(space.from_string(text)) == text, f"string form of {text!r} is not canonical"
    values = space.to_decisions(arch)
    assert len(values) == len(space.decisions)
    assert all(0 <= v < len(d) for v, d in zip(values, space.decisions, strict=True)), f"{values} out of range"
    assert space.from_decisions(values) == arch, f"decision round trip changed {text!r}"
    assert space.is_valid(values)


def check_sample(space: SearchSpace, rng: np.random.Generator, n: int = 20) -> list[Hashable]:
    """Samples are valid canonical values, reproducible from the generator's seed."""
    archs = [space.sample(rng) for _ in range(n)]
    for arch in archs:
        check_round_trip(space, arch)
    return archs


def check_mutate(space: SearchSpace, arch: Hashable, rng: np.random.Generator) -> None:
    child = space.mutate(arch, rng)
    assert child != arch, f"mutation returned its parent {space.to_string(arch)}"
    check_round_trip(space, child)


def check_crossover(space: SearchSpace, a: Hashable, b: Hashable, rng: np.random.Generator) -> None:
    for method in ("uniform", "one_point"):
        child = space.crossover(a, b, rng, method=method)  # type: ignore[arg-type]
        check_round_trip(space, child)


def _one_step(space: SearchSpace, arch: Hashable) -> set[Hashable]:
    """Every valid value one decision away from ``arch``, computed independently of ``space.neighbors``."""
    values = space.to_decisions(arch)
    found = set()
    for i, d in enumerate(space.decisions):
        for v in range(len(d)):
            with contextlib.suppress(InvalidArchitecture):
                found.add(space.from_decisions([*values[:i], v, *values[i + 1 :]]))
    return found - {arch}


def check_neighbors(space: SearchSpace, arch: Hashable) -> None:
    """Neighbours are distinct, valid, differ from ``arch`` and are exactly the one-decision changes."""
    found = space.neighbors(arch)
    assert len(set(found)) == len(found), "neighbors are not distinct"
    assert arch not in found
    for other in found[:10]:
        check_round_trip(space, other)
    assert set(found) == _one_step(space, arch), "neighbors are not the one-decision changes"


def check_encode(space: SearchSpace, archs: Sequence[Hashable]) -> None:
    """Every encoding is a finite float vector of one fixed length; distinct values encode differently."""
    for kind in space.encodings:
        vectors = [space.encode(a, kind) for a in archs]
        assert len({v.shape for v in vectors}) == 1 and vectors[0].ndim == 1, f"{kind} length varies"
        assert all(np.isfinite(v).all() for v in vectors)
    onehots = {space.encode(a).tobytes(): a for a in archs}
    assert len(onehots) == len(set(archs)), "distinct architectures share a one-hot encoding"


def check_build(
    space: SearchSpace, arch: Hashable, input_shape: Sequence[int], num_classes: int = 3, batch: int = 2
) -> None:
    """``build`` gives a module mapping ``(batch, *input_shape)`` to ``(batch, num_classes)`` in both modes
    (token ids below the space's ``vocab_size``, when it has one; standard normal inputs otherwise)."""
    import torch

    model = space.build(arch, input_shape, num_classes)
    vocab_size = getattr(space, "vocab_size", None)
    x = torch.randn(batch, *input_shape) if vocab_size is None else torch.randint(vocab_size, (batch, *input_shape))
    model.train()
    assert tuple(model(x).shape) == (batch, num_classes), f"train output shape for {space.to_string(arch)}"
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert tuple(out.shape) == (batch, num_classes) and torch.isfinite(out).all()


def check_config_round_trip(space: SearchSpace) -> None:
    cfg = space.config()
    assert SPACES.get(cfg["type"]) is type(space)
    again = SPACES.get(cfg["type"])(**{k: v for k, v in cfg.items() if k != "type"})
    assert again.config() == cfg, "config does not round-trip"
    assert again.decisions == space.decisions


def check_space(space: SearchSpace, input_shape: Sequence[int], seed: int = 0, n: int = 12, builds: int = 2) -> None:
    """The whole contract on ``n`` sampled architectures (``builds`` of them built and run)."""
    rng = np.random.default_rng(seed)
    archs = check_sample(space, rng, n)
    assert space.sample(np.random.default_rng(seed)) == archs[0], "sampling is not reproducible from the seed"
    for a, b in itertools.pairwise(archs):
        check_mutate(space, a, rng)
        check_crossover(space, a, b, rng)
    for arch in archs[:3]:
        check_neighbors(space, arch)
    check_encode(space, archs)
    for arch in archs[:builds]:
        check_build(space, arch, input_shape)
    check_config_round_trip(space)
    assert space.size >= len(set(archs))
