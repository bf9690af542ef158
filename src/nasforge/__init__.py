"""nasforge: neural architecture search on your own data, every classic strategy on one ask/tell interface.

Importing ``nasforge`` stays cheap (no torch, no scikit-learn): the names that need them load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nasforge.budget import Budget
from nasforge.exceptions import ConfigError, DataError, InvalidArchitecture, NasforgeError, StoreError
from nasforge.objective import Objective
from nasforge.spaces import Cell, CellSpace, SearchSpace
from nasforge.strategies import (
    Bananas,
    GeneticAlgorithm,
    GridSearch,
    GuidedLocalSearch,
    LocalSearch,
    QLearning,
    RandomSearch,
    RegularizedEvolution,
    Reinforce,
    Strategy,
)
from nasforge.trial import Trial, TrialState

if TYPE_CHECKING:
    from nasforge import data
    from nasforge.api import search
    from nasforge.evaluators import Trainer, TrainEvaluator
    from nasforge.run import Run
    from nasforge.spaces import Chain, ChainSpace

__version__ = "0.1.0"

_LAZY = {
    "search": "nasforge.api",
    "export_trial": "nasforge.api",
    "Run": "nasforge.run",
    "Trainer": "nasforge.evaluators",
    "TrainEvaluator": "nasforge.evaluators",
    "ChainSpace": "nasforge.spaces",
    "Chain": "nasforge.spaces",
}


def __getattr__(name: str) -> Any:
    if name == "data":
        return importlib.import_module("nasforge.data")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nasforge' has no attribute {name!r}")


__all__ = [
    "Bananas",
    "Budget",
    "Cell",
    "CellSpace",
    "Chain",
    "ChainSpace",
    "ConfigError",
    "DataError",
    "GeneticAlgorithm",
    "GridSearch",
    "GuidedLocalSearch",
    "InvalidArchitecture",
    "LocalSearch",
    "NasforgeError",
    "Objective",
    "QLearning",
    "RandomSearch",
    "RegularizedEvolution",
    "Reinforce",
    "Run",
    "SearchSpace",
    "StoreError",
    "Strategy",
    "TrainEvaluator",
    "Trainer",
    "Trial",
    "TrialState",
    "data",
    "search",
]
