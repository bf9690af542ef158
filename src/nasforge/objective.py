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

    Why the default is 0 (rank by the metric alone; equal metrics rank by validation loss, then FLOPs, see
    :func:`~nasforge.trial.rank_key`): the penalty picks, among networks whose validation scores differ by a
    few samples, the cheapest, and on images of 28x28 that choice lost test accuracy. Measured with
    ``benchmarks/vs_optuna.py`` through the CLI, 600 s, seeds 0-2 (``docs/benchmarks.md``, issue 16): on
    5,000 drawn 28x28 digits, 0.1 returned 3-12 MFLOP networks averaging 0.9907 test accuracy (one at 0.984
    after 0.993 on validation), 0 returned 8-37 MFLOP ones averaging 0.9957; on a held-out 28x28 set, 0.1
    crowned a 13k-parameter network (validation 0.978, test 0.963) over a 51k one (0.981, test 0.978). On
    small inputs it had helped trial speed (issue 12: 0.88 -> 0.69 s per trial on the sequence task); the
    image space now bounds trial cost itself (``max_activations``). Set ``flops_penalty`` to trade accuracy
    for cheaper networks knowingly: 0.1 halves the FLOPs for 10% more error.

    >>> Objective(flops_penalty=0.2).score({"accuracy": 0.9}, {"flops": 2e6})
    0.875
    """

    metric: Literal["accuracy", "f1", "loss"] = "accuracy"
    flops_penalty: float = 0.0

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

    def describe(self) -> str:
        """How trials rank, in words, for every display that shows a leader or a top-k table."""
        what = f"validation {self.metric}"
        if not self.flops_penalty:
            return what
        error = "loss" if self.metric == "loss" else f"error (1 - {self.metric})"
        return f"{what} traded against FLOPs (2x the FLOPs must cut the {error} by {self.flops_penalty:.0%})"

    def better(self, a: float, b: float) -> bool:
        """Whether raw metric value ``a`` beats ``b`` (the loss is minimised, the others maximised)."""
        return a < b if self.metric == "loss" else a > b

    def config(self) -> dict[str, Any]:
        return asdict(self)
