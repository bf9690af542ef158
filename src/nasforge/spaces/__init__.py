"""Search spaces: what architectures exist, how to vary them and how to build them."""

from nasforge.spaces._base import SPACES, Decision, SearchSpace
from nasforge.spaces._cell import NB201_OPS, Cell, CellSpace

__all__ = ["NB201_OPS", "SPACES", "Cell", "CellSpace", "Decision", "SearchSpace"]
