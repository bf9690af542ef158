"""Search spaces: what architectures exist, how to vary them and how to build them."""

from nasforge.spaces._base import SPACES, Decision, SearchSpace
from nasforge.spaces._cell import NB201_OPS, Cell, CellSpace
from nasforge.spaces._chain import ChainSpace
from nasforge.spaces._chain_arch import Chain, Layer

__all__ = [
    "NB201_OPS",
    "SPACES",
    "Cell",
    "CellSpace",
    "Chain",
    "ChainSpace",
    "Decision",
    "Layer",
    "SearchSpace",
]
