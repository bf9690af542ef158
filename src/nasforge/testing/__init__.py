"""Reusable test helpers: the search-space contract, for this package's tests and for plug-in spaces."""

from nasforge.testing._spaces import (
    check_build,
    check_config_round_trip,
    check_crossover,
    check_encode,
    check_mutate,
    check_neighbors,
    check_round_trip,
    check_sample,
    check_space,
    make_space,
)

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
