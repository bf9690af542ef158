"""The evaluator seam: score one architecture on the validation data, nothing more.

The test split is not reachable through :meth:`Evaluator.evaluate`; only the runner's final report calls
:meth:`Evaluator.final_test`, once, for the architecture the search returns.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["Evaluation", "Evaluator", "FinalReport", "Plan"]


@dataclass(frozen=True)
class Evaluation:
    """Validation metrics of one trial and what it cost (``params``, ``flops``, ``*_seconds``).

    ``curve`` holds the validation metrics after every epoch (evaluators that train in epochs); ``pruned``
    says why an epoch rule stopped the training early (the metrics are then those of the last epoch run).
    """

    metrics: Mapping[str, float]
    costs: Mapping[str, float] = field(default_factory=dict)
    curve: tuple[Mapping[str, float], ...] = ()
    pruned: str | None = None
    checkpoint: Any = None


@dataclass(frozen=True)
class Plan:
    """How far to train one trial, beyond the evaluator's defaults (for evaluators that train in epochs).

    ``rule`` is asked after every epoch whether to stop (:class:`~nasforge.fidelity.EpochRule`); ``until``
    ends the training after that epoch, the schedule still laid over all epochs; ``start`` continues from a
    checkpoint of an earlier, shorter training of the same architecture and seed; ``keep`` returns one.
    ``seconds`` is what was left of the search's time budget when the trial was sent: a training still
    going then stops and the trial is interrupted (:class:`~nasforge.exceptions.TrialInterrupted`), so that
    a search ends on time instead of one trial's length later.
    """

    rule: Any = None
    until: int | None = None
    start: Any = None
    keep: bool = False
    seconds: float | None = None


@dataclass(frozen=True)
class FinalReport:
    """Test metrics of the architecture a run returns, and the retrained model where there is one to export."""

    metrics: Mapping[str, float]
    model: Any = None


class Evaluator(ABC):
    """Scores architectures. Raising from :meth:`evaluate` marks the trial failed; the search goes on."""

    costs_are_free: ClassVar[bool] = False
    """Whether :meth:`costs_before_training` only looks values up (a table) rather than building a network."""

    @abstractmethod
    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        """Validation metrics of ``arch``; ``seed`` makes the evaluation reproducible.

        Evaluators that train in epochs also take ``plan``, a :class:`Plan` (a stopping rule, how many epochs,
        a checkpoint to continue from).
        """

    @abstractmethod
    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        """Test metrics of the returned architecture: called once per run, after the search."""

    def costs_before_training(self, arch: Hashable, names: Collection[str]) -> dict[str, float]:
        """Those of the costs ``names`` (``params``, ``latency_ms``, ...) that ``arch`` has before any training:
        what a model-based strategy can read exactly instead of predicting it. Empty by default (unknown)."""
        return {}

    def recipe(self) -> dict[str, Any]:
        """How this evaluator scores, as plain data for the run's record (``best.json``); empty by default."""
        return {}

    @property
    def takes_plan(self) -> bool:
        """Whether :meth:`evaluate` takes a ``plan`` (evaluators that train in epochs, and tables of them)."""
        return "plan" in inspect.signature(self.evaluate).parameters

    def for_workers(self, load_data: bool = False) -> Evaluator:
        """What an executor ships to worker processes once per search: this evaluator without its test data.

        Evaluators that hold test data override it; a remote worker must never be able to read the test split.
        ``load_data`` asks for a copy that loads the training data on the worker from where the driver loaded
        it, instead of carrying it (``executor: {data: load}``, for data too big to send).
        """
        return self
