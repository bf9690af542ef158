"""Hard limits on what an architecture may cost, checked on the built network before any training.

An architecture over a limit is never trained: the evaluator raises :class:`~nasforge.exceptions.Infeasible`
with the measured costs, the runner records the trial ``rejected`` (it does not count against the budget), tells
the strategy that it failed (so that evolution never breeds from it and predictors learn the region is bad), and
asks again. See :mod:`nasforge.costs` for how each cost is measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from nasforge.exceptions import ConfigError

__all__ = ["Constraints"]


@dataclass(frozen=True)
class Constraints:
    """Upper limits on costs; ``None`` leaves a cost free.

    >>> Constraints(max_params=5000).broken({"params": 9000, "flops": 1e5})
    'params 9,000 > max_params 5,000'
    """

    max_params: float | None = None
    max_flops: float | None = None
    max_size_kb: float | None = None
    max_activation_kb: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        for name, value in self.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"constraints.{name}: must be a number > 0, got {value!r}")

    def items(self) -> list[tuple[str, float]]:
        """The limits given, as (``max_<cost>``, value)."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]

    @property
    def costs(self) -> set[str]:
        """The costs that must be measured to check the limits (``latency_ms`` only when it is limited)."""
        return {name.removeprefix("max_") for name, _ in self.items()}

    def broken(self, costs: Mapping[str, Any]) -> str | None:
        """The first limit ``costs`` break, in words, or None when they fit."""
        for name, limit in self.items():
            cost = name.removeprefix("max_")
            value = float(costs[cost])
            if value > limit:
                return f"{cost} {_number(value)} > {name} {_number(limit)}"
        return None

    def config(self) -> dict[str, float]:
        return dict(self.items())

    def __bool__(self) -> bool:
        return bool(self.items())


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
