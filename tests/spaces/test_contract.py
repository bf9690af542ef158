"""Every registered space honours the space contract on each input kind it accepts."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.exceptions import InvalidArchitecture
from nasforge.spaces import SPACES
from nasforge.testing import check_space, make_space

IMAGE, SEQUENCE, FLAT = (1, 8, 8), (3, 20), (12,)
# Cheap options per space so the contract runs in seconds; a new space runs with its defaults.
_SMALL = {"cell": {"stem_channels": 4, "stages": 2}}


def _cases() -> list[tuple[str, tuple[int, ...]]]:
    return [(name, shape) for name in SPACES.names() for shape in (IMAGE, SEQUENCE, FLAT)]


@pytest.mark.parametrize(("name", "shape"), _cases(), ids=lambda v: str(v))
def test_contract(name: str, shape: tuple[int, ...]) -> None:
    space = make_space(name, shape, **_SMALL.get(name, {}))
    try:
        space.build(space.sample(np.random.default_rng(0)), shape, 3)
    except InvalidArchitecture as err:
        if len(shape) == 3:
            raise
        pytest.skip(f"{name} space does not take input {shape}: {err}")
    check_space(space, shape, seed=len(shape))


@pytest.mark.parametrize("name", SPACES.names())
def test_config_names_its_type(name: str) -> None:
    space = make_space(name, IMAGE, **_SMALL.get(name, {}))
    assert space.config()["type"] == name
