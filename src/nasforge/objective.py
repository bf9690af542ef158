"""Turns validation metrics into the single number every strategy maximises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from nasforge.exceptions import ConfigError

__all__ = ["METRICS", "Objective"]

METRICS = ("accuracy", "f1", "loss")


@dataclass(frozen=True)
class Objective:
    """Which validation metric the search optimises; ``loss`` is minimised by maximising its negation."""

    metric: Literal["accuracy", "f1", "loss"] = "accuracy"

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ConfigError(f"objective.metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")

    @property
    def maximize(self) -> bool:
        return self.metric != "loss"

    def score(self, metrics: Mapping[str, float]) -> float:
        value = float(metrics[self.metric])
        return value if self.maximize else -value

    def value(self, score: float) -> float:
        """The metric back from a score, for display."""
        return score if self.maximize else -score
