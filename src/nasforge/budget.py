"""When a search stops: a number of trials, a wall-clock limit, or both (whichever comes first)."""

from __future__ import annotations

from dataclasses import dataclass

from nasforge.exceptions import ConfigError

__all__ = ["Budget"]


@dataclass(frozen=True)
class Budget:
    """``trials`` counts finished and failed trials; ``seconds`` is the wall-clock limit of the search phase."""

    trials: int | None = 40
    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.trials is None and self.seconds is None:
            raise ConfigError("budget: give trials, seconds or both; an unbounded search never ends")
        if self.trials is not None and self.trials < 1:
            raise ConfigError(f"budget.trials: must be >= 1, got {self.trials}")
        if self.seconds is not None and self.seconds <= 0:
            raise ConfigError(f"budget.seconds: must be > 0, got {self.seconds}")

    def exhausted(self, trials_done: int, elapsed: float) -> bool:
        return (self.trials is not None and trials_done >= self.trials) or (
            self.seconds is not None and elapsed >= self.seconds
        )
