"""nasforge: neural architecture search on your own data, every classic strategy on one ask/tell interface."""

from nasforge.budget import Budget
from nasforge.exceptions import ConfigError, DataError, InvalidArchitecture, NasforgeError, StoreError
from nasforge.objective import Objective
from nasforge.spaces import Cell, CellSpace, SearchSpace
from nasforge.strategies import Strategy
from nasforge.trial import Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "Budget",
    "Cell",
    "CellSpace",
    "ConfigError",
    "DataError",
    "InvalidArchitecture",
    "NasforgeError",
    "Objective",
    "SearchSpace",
    "StoreError",
    "Strategy",
    "Trial",
    "TrialState",
]
