"""Search strategies on one ask/tell interface."""

from nasforge.strategies._base import STRATEGIES, SpaceExhausted, Strategy, ask_new

__all__ = ["STRATEGIES", "SpaceExhausted", "Strategy", "ask_new"]
