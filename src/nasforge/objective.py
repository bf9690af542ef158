"""Turns a trial's validation metrics and costs into the number every strategy maximises, or into an objective
vector for a Pareto search."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nasforge.exceptions import ConfigError

__all__ = ["COSTS", "METRICS", "TASK_METRICS", "Objective"]

TASK_METRICS = {"classification": ("accuracy", "f1", "loss"), "regression": ("mse", "mae", "r2", "loss")}
"""Validation metrics every trained trial reports, by task; the first is the default objective."""
METRICS = ("accuracy", "f1", "loss", "mse", "mae", "r2")
COSTS = ("params", "flops", "size_kb", "activation_kb", "latency_ms")
"""Costs a trained trial reports (``latency_ms`` where it is measured), usable as objectives and penalties."""
_MINIMISED = frozenset({"loss", "mse", "mae", *COSTS})
_WORDS = {"flops": "FLOPs", "params": "parameters", "latency_ms": "latency"}
_REFERENCE = {"flops": 1e6}  # a cost's penalty factor is 1 at this value (1 for others): scales scores, never ranks


@dataclass(frozen=True)
class Objective:
    """What a search optimises: one validation metric, softly traded against costs, or several objectives at once.

    **One objective.** The metric is read as an error (``1 - accuracy``, ``1 - f1``, ``1 - r2``, or the loss, MSE
    or MAE itself; the score every strategy maximises is minus a minimised metric: negated here only), and a
    ``penalty`` ``q`` on a cost (``{"flops": 0.1}``; ``flops_penalty=q`` is the same as ``{"flops": q}``) is the
    fraction by which a network with twice that cost must cut that error to rank higher: the error is divided by
    ``(1 - q) ** log2(cost / reference)`` (a soft cost constraint in the spirit of MnasNet, Tan et al., CVPR
    2019, whose reward multiplies accuracy by a power of latency). Scaling the error rather than the accuracy
    keeps the trade fair near 100%, where a relative accuracy penalty would crown networks several times worse.
    Trials without that cost (benchmark tables) score their bare metric, as does a penalty of 0.

    Why the default is no penalty (rank by the metric alone; equal metrics rank by validation loss, then FLOPs,
    see :func:`~nasforge.trial.rank_key`): the penalty picks, among networks whose validation scores differ by a
    few samples, the cheapest, and on images of 28x28 that choice lost test accuracy. Measured with
    ``benchmarks/vs_optuna.py`` through the CLI, 600 s, seeds 0-2 (``docs/benchmarks.md``, issue 16): on
    5,000 drawn 28x28 digits, 0.1 returned 3-12 MFLOP networks averaging 0.9907 test accuracy (one at 0.984
    after 0.993 on validation), 0 returned 8-37 MFLOP ones averaging 0.9957; on a held-out 28x28 set, 0.1
    crowned a 13k-parameter network (validation 0.978, test 0.963) over a 51k one (0.981, test 0.978). On
    small inputs it had helped trial speed (issue 12: 0.88 -> 0.69 s per trial on the sequence task); the
    image space now bounds trial cost itself (``max_activations``). Set a penalty to trade accuracy for cheaper
    networks knowingly: ``{"flops": 0.1}`` halves the FLOPs for 10% more error.

    **Several objectives** (``metrics=("accuracy", "params")``, each maximised or minimised: ``directions``,
    by default ``max`` for accuracy and f1, ``min`` for the loss and costs): the search is after the Pareto
    front. :meth:`values` gives a trial's objective vector, every component oriented to be maximised; ``metric``
    becomes the first validation metric among them (stopping rules and progress displays follow it, as it is
    what training changes), and the ``score`` stored with a trial, told to single-objective strategies, is its.

    >>> Objective(flops_penalty=0.2).score({"accuracy": 0.9}, {"flops": 2e6})
    0.875
    >>> Objective(metrics=("accuracy", "params")).values({"accuracy": 0.9}, {"params": 5000})
    (0.9, -5000.0)
    """

    metric: str = "accuracy"
    flops_penalty: float = 0.0
    penalty: Mapping[str, float] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.metrics:
            names = tuple(self.metrics)
            for name in names:
                if name not in METRICS + COSTS:
                    allowed = ", ".join(METRICS + COSTS)
                    raise ConfigError(f"objective.metrics: each must be one of {allowed}, got {name!r}")
            if len(set(names)) != len(names) or len(names) < 2:
                raise ConfigError(f"objective.metrics: two or more different names, got {list(names)}")
            measured = [n for n in names if n in METRICS]
            if not measured:
                allowed = ", ".join(METRICS)
                raise ConfigError(f"objective.metrics: need one of {allowed} besides costs, got {list(names)}")
            object.__setattr__(self, "metrics", names)
            object.__setattr__(self, "metric", measured[0])  # what training moves: stoppers and displays follow it
        elif self.metric not in METRICS:
            raise ConfigError(f"objective.metric: must be one of {', '.join(METRICS)}, got {self.metric!r}")
        elif self.directions:  # one metric's direction is its own; a stated one would split score from better()
            raise ConfigError(
                f"objective.directions: only with objective.metrics (several objectives); a single metric keeps "
                f"its own ({', '.join(sorted(_MINIMISED & set(METRICS)))} minimised, the others maximised)"
            )
        directions = tuple(self.directions) or tuple("min" if n in _MINIMISED else "max" for n in self.names)
        if len(directions) != len(self.names) or set(directions) - {"max", "min"}:
            raise ConfigError(
                f"objective.directions: one of max, min per objective ({len(self.names)}), got {list(directions)}"
            )
        object.__setattr__(self, "directions", directions)
        penalty = dict(self.penalty or {})
        q = self.flops_penalty
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0.0 <= q < 1.0:
            raise ConfigError(f"objective.flops_penalty: must be a number in [0, 1), got {q!r}")
        if q:
            if "flops" in penalty:
                raise ConfigError("objective: give flops_penalty or penalty.flops, not both")
            penalty["flops"] = q
        for name, value in penalty.items():
            if name not in COSTS:
                raise ConfigError(f"objective.penalty: costs are {', '.join(COSTS)}, got {name!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ConfigError(f"objective.penalty.{name}: must be a number in [0, 1), got {value!r}")
        if self.metrics and any(penalty.values()):
            raise ConfigError("objective.penalty: not with several objectives (name the cost as an objective)")
        object.__setattr__(self, "penalty", {k: float(v) for k, v in penalty.items() if v})
        object.__setattr__(self, "flops_penalty", 0.0)  # folded into penalty: one place holds each trade

    @property
    def names(self) -> tuple[str, ...]:
        """The objectives, first the one that ranks trials when a single number is needed."""
        return self.metrics or (self.metric,)

    @property
    def costs(self) -> set[str]:
        """The costs this objective reads (as objectives or penalties): the evaluator must measure them."""
        return ({*self.names} | set(self.penalty)) & set(COSTS)

    @property
    def multi(self) -> bool:
        """Whether this is a Pareto search (several objectives)."""
        return bool(self.metrics)

    def score(self, metrics: Mapping[str, float], costs: Mapping[str, Any] | None = None) -> float:
        """The number to maximise; raises ``KeyError`` when ``metrics`` lacks the objective's metric.

        With several objectives, the value of the first validation metric among them, oriented to be maximised.
        """
        if self.multi:
            return self.values(metrics, costs)[self.metrics.index(self.metric)]
        value = float(metrics[self.metric])
        minimised = self.metric in _MINIMISED
        error = value if minimised else 1.0 - value
        for name, q in self.penalty.items():
            cost = (costs or {}).get(name)
            if cost:
                error /= (1.0 - q) ** math.log2(float(cost) / _REFERENCE.get(name, 1.0))
        return -error if minimised else 1.0 - error

    def check_task(self, task: str) -> Objective:
        """This objective, or a one-line ``ConfigError`` when it reads a metric ``task`` does not report."""
        allowed = TASK_METRICS[task]
        wrong = [n for n in self.names if n in METRICS and n not in allowed]
        if wrong:
            key = "objective.metrics" if self.multi else "objective.metric"
            raise ConfigError(f"{key}: {wrong[0]} is not a {task} metric (allowed: {', '.join(allowed)})")
        return self

    def values(self, metrics: Mapping[str, float], costs: Mapping[str, Any] | None = None) -> tuple[float, ...]:
        """The objective vector, each component to be maximised (minimised ones negated); one objective: its
        score. Raises ``KeyError`` for a name that is neither among the metrics nor the costs."""
        if not self.multi:
            return (self.score(metrics, costs),)
        return self._oriented(lambda name: float(metrics[name] if name in metrics else (costs or {})[name]))

    def cost_values(self, costs: Mapping[str, Any]) -> tuple[float, ...]:
        """The objective vector's components an architecture has before training (its costs among the
        objectives, oriented as in :meth:`values`), NaN for the metrics only training gives and for costs
        ``costs`` lacks."""
        return self._oriented(lambda name: float(costs[name]) if name in COSTS and name in costs else math.nan)

    def _oriented(self, value: Callable[[str], float]) -> tuple[float, ...]:
        """Each objective's ``value(name)``, negated where it is minimised, so that every component is maximised."""
        pairs = zip(map(value, self.names), self.directions, strict=True)
        return tuple(v if direction == "max" else -v for v, direction in pairs)

    def describe(self) -> str:
        """How trials rank, in words, for every display that shows a leader or a top-k table."""
        if self.multi:
            parts = [f"{n} ({d})" for n, d in zip(self.metrics, self.directions, strict=True)]
            return f"Pareto front of {', '.join(parts)} (validation); single ranking by {self.metric}"
        what = f"validation {self.metric}"
        if not self.penalty:
            return what
        error = self.metric if self.metric in _MINIMISED else f"error (1 - {self.metric})"
        words = {n: _WORDS.get(n, n) for n in self.penalty}
        trades = ", ".join(f"2x the {words[n]} must cut the {error} by {q:.0%}" for n, q in self.penalty.items())
        return f"{what} traded against {' and '.join(words.values())} ({trades})"

    def better(self, a: float, b: float) -> bool:
        """Whether raw value ``a`` of :attr:`metric` beats ``b`` (by its direction)."""
        return a < b if self.directions[self.names.index(self.metric)] == "min" else a > b

    def config(self) -> dict[str, Any]:
        """Constructor arguments; an objective that older versions could state keeps their form (run identity)."""
        if self.multi:
            return {"metrics": list(self.metrics), "directions": list(self.directions)}
        if set(self.penalty) <= {"flops"}:
            return {"metric": self.metric, "flops_penalty": self.penalty.get("flops", 0.0)}
        return {"metric": self.metric, "penalty": dict(self.penalty)}
