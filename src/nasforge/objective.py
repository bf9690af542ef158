"""Turns a trial's validation metrics and costs into the single number every strategy maximises."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from nasforge.exceptions import ConfigError

__all__ = ["METRICS", "Objective"]

METRICS = ("accuracy", "f1", "loss")
_REFERENCE_FLOPS = 1e6  # the factor is 1 at one MFLOP; only the scale of scores depends on it, never a ranking


@dataclass(frozen=True)
class Objective:
    """The validation metric a search optimises, softly traded against the network's FLOPs.

    The metric is read as an error (``1 - accuracy``, ``1 - f1``, or the loss itself), and ``flops_penalty``
    ``q`` is the fraction by which a network with twice the FLOPs must cut that error to rank higher: the
    error is divided by ``(1 - q) ** log2(flops / 1e6)`` (a soft cost constraint in the spirit of MnasNet,
    Tan et al., CVPR 2019, whose reward multiplies accuracy by a power of latency). Scaling the error rather
    than the accuracy keeps the trade fair near 100%, where a relative accuracy penalty would crown networks
    several times worse. Trials without a FLOPs count (benchmark tables) score their bare metric, as does
    ``flops_penalty=0``.

    Why a default of 0.1: without a penalty, regularized evolution drifts to the larger of networks whose
    validation errors differ by a sample or two, and its trials grow slower as the search goes on. Measured
    with ``benchmarks/vs_optuna.py``'s data at 300 s (``docs/benchmarks.md``, issue 12): on the sequence task
    (seed 0), penalties of 0, 0.1 and 0.2 gave 0.88, 0.69 and 0.50 s per trial and test accuracies of 0.900,
    0.925 and 0.933; on digits (seeds 0-2), 0.2 returned 6-14k-parameter networks that averaged 0.986 test
    accuracy, against 0.993 at 0.1. ``flops_penalty=0`` ranks by the metric alone.

    >>> Objective(flops_penalty=0.2).score({"accuracy": 0.9}, {"flops": 2e6})
    0.875
    """

    metric: Literal["accuracy", "f1", "loss"] = "accuracy"
    flops_penalty: float = 0.1

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ConfigError(f"objective.metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")
        q = self.flops_penalty
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q < 1.0:
            raise ConfigError(f"objective.flops_penalty: must be a number in [0, 1), got {q!r}")

    def score(self, metrics: Mapping[str, float], costs: Mapping[str, Any] | None = None) -> float:
        """The number to maximise; raises ``KeyError`` when ``metrics`` lacks the objective's metric."""
        value = float(metrics[self.metric])
        error = value if self.metric == "loss" else 1.0 - value
        flops = (costs or {}).get("flops")
        if self.flops_penalty and flops:
            error /= (1.0 - self.flops_penalty) ** math.log2(float(flops) / _REFERENCE_FLOPS)
        return -error if self.metric == "loss" else 1.0 - error

    def config(self) -> dict[str, Any]:
        return asdict(self)
