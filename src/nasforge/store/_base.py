"""The store seam: every state change of every trial, durable before the runner moves on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from nasforge.trial import Trial, TrialState

__all__ = ["Store"]


class Store(ABC):
    """Where a run keeps its config and trials. The runner (the driver) is the only writer.

    Each method is one transaction: after it returns, a crash of the process loses nothing it wrote. Recording
    a trial's end (finished or not) also gives it the next place in the order trials end (``Trial.ended``), the
    order in which a resumed run replays their results into its strategy.
    """

    @abstractmethod
    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable value under ``key`` (the config, the final report, elapsed time)."""

    @abstractmethod
    def get_meta(self, key: str, default: Any = None) -> Any: ...

    @abstractmethod
    def create_trial(self, arch: str, seed: int, parent: int | None = None, repeat_of: int | None = None) -> Trial:
        """Record a trial as ``running`` and return it with its new id; ``parent`` is the trial it trains on,
        ``repeat_of`` the trial whose architecture it trains again with another seed (re-ranking)."""

    @abstractmethod
    def finish_trial(
        self,
        trial_id: int,
        score: float,
        metrics: Mapping[str, float],
        costs: Mapping[str, float],
        elapsed: float | None = None,
        curve: Sequence[Mapping[str, float]] = (),
        pruned: str | None = None,
    ) -> Trial:
        """Record a result; ``elapsed`` is the search's wall-clock seconds so far, so resume keeps the budget.

        ``curve`` is the learning curve; ``pruned`` (why a stopping rule ended the trial early) records the
        trial as ``pruned`` rather than ``finished``.
        """

    @abstractmethod
    def fail_trial(
        self,
        trial_id: int,
        error: str,
        costs: Mapping[str, float] | None = None,
        elapsed: float | None = None,
        curve: Sequence[Mapping[str, float]] = (),
        state: TrialState = TrialState.FAILED,
    ) -> Trial:
        """Record a trial that ended without a score: ``failed`` (its error), or ``rejected`` (the constraint
        it broke, with the costs measured before training)."""

    @abstractmethod
    def interrupt_running(self) -> int:
        """Mark trials left ``running`` by a dead process as ``interrupted``; returns how many."""

    @abstractmethod
    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[Trial]:
        """Trials in id order, optionally only those in ``states``."""

    def close(self) -> None:
        """Release the underlying resources (a no-op by default)."""
