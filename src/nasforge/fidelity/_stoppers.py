"""Stopping rules: the median rule, patience within a trial, and a threshold.

Every rule judges the objective's metric on the validation data after each epoch (``accuracy``, ``f1`` or
``loss``, without the FLOPs penalty, which does not change during training). Rules see only what the driver
knew when the trial started: the median rule's thresholds are a snapshot of the trials finished by then, so a
trial's fate does not depend on which worker trains it or on what finishes while it trains.
"""

from __future__ import annotations

import inspect
import math
import statistics
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nasforge.exceptions import ConfigError, integer_at_least
from nasforge.objective import Objective
from nasforge.trial import Trial, TrialState

__all__ = ["STOPPERS", "EpochRule", "MedianStopper", "PatienceStopper", "Stopper", "ThresholdStopper", "make_stopper"]


@dataclass
class EpochRule:
    """One trial's rule, called after every epoch with the validation metrics; returns why to stop, or None.

    Subclasses hold plain data only: a rule is pickled to the worker that trains the trial.
    """

    objective: Objective
    warmup_epochs: int

    def __call__(self, epoch: int, point: Mapping[str, float]) -> str | None:
        value = float(point[self.objective.metric])
        self.observe(value)
        return self.verdict(epoch, value) if epoch >= self.warmup_epochs else None

    def observe(self, value: float) -> None:
        """Take in this epoch's value (before the warm-up ends too)."""

    def verdict(self, epoch: int, value: float) -> str | None:
        raise NotImplementedError


def int_at_least(name: str, value: Any, low: int = 1) -> int:
    """``value`` if it is an integer >= ``low``; otherwise a one-line error naming ``fidelity.<name>``."""
    return integer_at_least(f"fidelity.{name}", value, low)


def _best(objective: Objective, values: list[float]) -> float:
    return min(values) if objective.better(0.0, 1.0) else max(values)


@dataclass
class _MedianRule(EpochRule):
    thresholds: dict[int, tuple[float, int]] = field(default_factory=dict)  # epoch -> (median, trials)
    values: list[float] = field(default_factory=list)

    def observe(self, value: float) -> None:
        self.values.append(value)

    def verdict(self, epoch: int, value: float) -> str | None:
        if epoch not in self.thresholds:
            return None
        median, trials = self.thresholds[epoch]
        best = _best(self.objective, self.values)
        if self.objective.better(median, best):
            metric = self.objective.metric
            return (
                f"stopped at epoch {epoch}: best {metric} so far {best:.4g} is worse than the median {median:.4g} "
                f"of {trials} earlier trials at that epoch"
            )
        return None


@dataclass
class _PatienceRule(EpochRule):
    patience: int = 3
    values: list[float] = field(default_factory=list)

    def observe(self, value: float) -> None:
        self.values.append(value)

    def verdict(self, epoch: int, value: float) -> str | None:
        if len(self.values) <= self.patience:
            return None
        before = _best(self.objective, self.values[: -self.patience])
        recent = _best(self.objective, self.values[-self.patience :])
        if self.objective.better(recent, before):
            return None
        metric = self.objective.metric
        return f"stopped at epoch {epoch}: {metric} has not improved on {before:.4g} for {self.patience} epochs"


@dataclass
class _ThresholdRule(EpochRule):
    threshold: float = 0.0

    def verdict(self, epoch: int, value: float) -> str | None:
        if self.objective.better(self.threshold, value):
            return f"stopped at epoch {epoch}: {self.objective.metric} {value:.4g} is worse than {self.threshold:g}"
        return None


class Stopper(ABC):
    """Lives in the driver: sees every trial that ends (:meth:`observe`) and gives each new one its rule."""

    name: str
    options: tuple[str, ...] = ()  # the config keys it takes besides ``stopper``, each an attribute

    def __init__(self, objective: Objective | None = None, warmup_epochs: int = 2) -> None:
        self.objective = objective or Objective()
        self.warmup_epochs = int_at_least("warmup_epochs", warmup_epochs)

    def observe(self, trial: Trial) -> None:
        """A trial ended (finished, pruned or failed; also stored ones when a run resumes). Most need no history."""

    def reset(self) -> None:
        """Forget every trial seen: a run calls it before replaying its own (an object reused from an earlier run
        must not count that run's trials). Most keep no history."""

    @abstractmethod
    def rule(self) -> EpochRule:
        """The rule for the trial about to start."""

    def describe(self) -> str:
        """How it stops, in words; also the search identity's ``fidelity``, so it names every option that changes
        a verdict (a run resumed under another patience or threshold is refused), those at their defaults left
        out, as before they were named (such runs still resume)."""
        defaults = inspect.signature(type(self).__init__).parameters
        given = [
            f"{k} {getattr(self, k)}"
            for k in self.options
            if k != "warmup_epochs" and getattr(self, k) != defaults[k].default
        ]
        return f"{self.name} stopping from epoch {self.warmup_epochs}" + (f" ({', '.join(given)})" if given else "")


class MedianStopper(Stopper):
    """Stop a trial whose best value so far at epoch ``e`` is worse than the median of earlier trials at ``e``.

    As Optuna's ``MedianPruner``, the earlier trials are the finished ones (a pruned trial's short curve would
    pull the median down and let more losers through), and no trial is stopped at an epoch fewer than
    ``min_trials`` finished trials reached. Unlike it, each earlier trial is summarised by its best value up to
    ``e`` rather than its value at ``e``, so that the trial is compared like with like (its best against theirs);
    the two differ only where a curve falls back, which under the default cosine is rare, and then this rule
    stops a little more.
    """

    name = "median"
    options = ("warmup_epochs", "min_trials")

    def __init__(self, objective: Objective | None = None, warmup_epochs: int = 2, min_trials: int = 5) -> None:
        super().__init__(objective, warmup_epochs)
        self.min_trials = int_at_least("min_trials", min_trials)
        self.reset()

    def reset(self) -> None:
        self._best_by_epoch: dict[int, list[float]] = {}

    def observe(self, trial: Trial) -> None:
        if trial.state is not TrialState.FINISHED or not trial.curve:
            return
        values: list[float] = []
        for point in trial.curve:
            values.append(float(point[self.objective.metric]))
            self._best_by_epoch.setdefault(int(point["epoch"]), []).append(_best(self.objective, values))

    def rule(self) -> EpochRule:
        thresholds = {
            epoch: (statistics.median(bests), len(bests))
            for epoch, bests in self._best_by_epoch.items()
            if epoch >= self.warmup_epochs and len(bests) >= self.min_trials
        }
        return _MedianRule(self.objective, self.warmup_epochs, thresholds=thresholds)


class PatienceStopper(Stopper):
    """Stop a trial whose metric has not improved on its best for ``patience`` epochs in a row."""

    name = "patience"
    options = ("warmup_epochs", "patience")

    def __init__(self, objective: Objective | None = None, warmup_epochs: int = 2, patience: int = 3) -> None:
        super().__init__(objective, warmup_epochs)
        self.patience = int_at_least("patience", patience)

    def rule(self) -> EpochRule:
        return _PatienceRule(self.objective, self.warmup_epochs, patience=self.patience)


class ThresholdStopper(Stopper):
    """Stop a trial whose metric is worse than ``threshold`` (e.g. accuracy 0.3, loss 2.0) after the warm-up."""

    name = "threshold"
    options = ("warmup_epochs", "threshold")

    def __init__(
        self, objective: Objective | None = None, warmup_epochs: int = 2, threshold: float | None = None
    ) -> None:
        super().__init__(objective, warmup_epochs)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
            raise ConfigError(f"fidelity.threshold: needs a finite number with stopper: threshold, got {threshold!r}")
        self.threshold = float(threshold)

    def rule(self) -> EpochRule:
        return _ThresholdRule(self.objective, self.warmup_epochs, threshold=self.threshold)


STOPPERS: dict[str, type[Stopper]] = {s.name: s for s in (MedianStopper, PatienceStopper, ThresholdStopper)}


def make_stopper(spec: Mapping[str, Any] | None, objective: Objective | None = None) -> Stopper | None:
    """A stopper from a config's ``fidelity:`` block (``{stopper: median, warmup_epochs: 2}``); None: no stopping."""
    if spec is None:
        return None
    options = dict(spec)
    name = options.pop("stopper", None)
    if name in (None, "none"):
        if options:
            given = ", ".join(sorted(options))
            raise ConfigError(f"fidelity: {given} apply only with a stopper (median, patience or threshold)")
        return None
    if name not in STOPPERS:
        raise ConfigError(f"fidelity.stopper: must be one of none, {', '.join(STOPPERS)}, got {name!r}")
    kind = STOPPERS[name]
    unknown = sorted(set(options) - set(kind.options))
    if unknown:
        raise ConfigError(
            f"fidelity: {', '.join(unknown)} does not apply to stopper {name} (it takes {', '.join(kind.options)})"
        )
    return kind(objective, **options)
