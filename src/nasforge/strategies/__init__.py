"""Search strategies on one ask/tell interface.

Every strategy registers itself in :data:`STRATEGIES` under a short name (``random``, ``grid``, ``local``,
``evolution``, ``genetic``, ``reinforce``, ``qlearning``, ``bananas``, ``guided_local``) and works on any
space through the space's generic operations only.
"""

from nasforge.strategies._bananas import Bananas
from nasforge.strategies._base import STRATEGIES, SpaceExhausted, Strategy, ask_new
from nasforge.strategies._evolution import RegularizedEvolution
from nasforge.strategies._genetic import GeneticAlgorithm
from nasforge.strategies._grid import GridSearch
from nasforge.strategies._guided import GuidedLocalSearch
from nasforge.strategies._local import LocalSearch
from nasforge.strategies._nsga2 import NSGA2
from nasforge.strategies._qlearning import QLearning
from nasforge.strategies._random import RandomSearch
from nasforge.strategies._reinforce import Reinforce

__all__ = [
    "NSGA2",
    "STRATEGIES",
    "Bananas",
    "GeneticAlgorithm",
    "GridSearch",
    "GuidedLocalSearch",
    "LocalSearch",
    "QLearning",
    "RandomSearch",
    "RegularizedEvolution",
    "Reinforce",
    "SpaceExhausted",
    "Strategy",
    "ask_new",
]
