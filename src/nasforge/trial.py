"""The trial lifecycle: a state enum and a frozen record, so that a failure is data rather than an exception."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "DONE",
    "Trial",
    "TrialState",
    "end_order",
    "epochs_reached",
    "epochs_trained",
    "failure_summary",
    "rank_key",
    "training_seconds",
]


class TrialState(str, Enum):
    """Where a trial is in its life.

    ``PRUNED`` marks a trial a stopping rule ended early: it has a score, at the epochs it reached, but is
    never the run's winner. ``INTERRUPTED`` marks a trial whose process died; it is redone on resume.
    ``REJECTED`` marks an architecture that broke a hard constraint (``constraints: {max_params: ...}``) when it
    was built: it was never trained, does not count against the budget, and its strategy was told it failed.
    """

    RUNNING = "running"
    FINISHED = "finished"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    REJECTED = "rejected"

    @property
    def is_done(self) -> bool:
        """Finished, pruned and failed trials count against the budget; running and interrupted ones do not."""
        return self in DONE


DONE = (TrialState.FINISHED, TrialState.PRUNED, TrialState.FAILED)
"""The states of trials that count against the budget and that a resumed run replays into its strategy."""


@dataclass(frozen=True)
class Trial:
    """One evaluation of one architecture, as the store keeps it.

    ``score`` is the objective as a number to maximise (the validation metric with its FLOPs penalty, the loss
    negated; see :class:`~nasforge.objective.Objective`); ``metrics`` are validation metrics; ``costs`` hold
    ``params``, ``flops`` and timings in seconds; ``elapsed`` is the search's wall-clock seconds when the trial
    ended; ``curve`` holds the validation metrics after every epoch (``{"epoch", "accuracy", "f1", "loss",
    "seconds"}``), the learning curve; ``error`` says why a trial failed, was pruned or interrupted;
    ``parent`` is the trial whose training this one continues (a promotion to more epochs); ``repeat_of`` the
    trial whose architecture this one trains again, from scratch with another seed, to re-rank the leaders
    (:mod:`nasforge.rerank`): such a repeat is no new search result and is never told to the strategy.
    ``ended`` is the trial's place among the run's trials in the order they ended (1 for the first), which is the
    order the runner told their results: with parallel workers not the order they started (``id``), and a resume
    replays them in it; None while a trial runs, or where its process died before it ended.
    """

    id: int
    arch: str
    state: TrialState
    seed: int
    score: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    costs: Mapping[str, float] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None
    elapsed: float | None = None
    error: str | None = None
    curve: tuple[Mapping[str, float], ...] = ()
    parent: int | None = None
    repeat_of: int | None = None
    ended: int | None = None


def rank_key(trial: Trial) -> tuple[float, float, float, float, int]:
    """Sort key, best first: more epochs trained, higher score, lower validation loss, fewer FLOPs, earlier trial.

    Epochs first: under a scheduler that trains some trials longer (ASHA), a result after 9 epochs is not
    compared with one after 1; without one every finished trial trained the same epochs and the key ranks by
    score. Accuracy on a validation set of a few hundred samples moves in steps of one sample, so several
    trials often tie at the top; their validation loss still tells them apart, measured on the same data. Over
    10 breast_cancer searches (seeds 10-19, 114 validation samples) picking the lowest loss among the tied
    leaders scored 0.9798 test accuracy against 0.9737 for the fewest FLOPs (``docs/benchmarks.md``, issue 16).
    FLOPs still break exact ties (and rank trials without a loss, e.g. benchmark tables). A NaN (a measurement
    that failed, stored as null) ranks as unknown: a loss or FLOPs after every known one, epochs as none, since
    NaN compares false with everything and would leave ``sorted``'s order undefined.
    """
    score = trial.score if trial.score is not None else -math.inf
    loss = trial.metrics.get("loss", math.inf)
    loss = loss if loss == loss else math.inf  # x == x is False only for NaN (and cheaper than math.isnan)
    flops = trial.costs.get("flops", 0.0)
    return (-epochs_reached(trial), -score, loss, flops if flops == flops else math.inf, trial.id)


def end_order(trial: Trial) -> tuple[bool, int, int]:
    """Sort key of the order trials ended, which is the order a run told its strategy their results: a replay
    in it rebuilds what depends on that order (an aging population is the last N told). Trials that never
    ended (interrupted by a crash; never told) come last."""
    return (trial.ended is None, trial.ended or 0, trial.id)


def epochs_reached(trial: Trial) -> float:
    """The epochs ``trial``'s result stands at (``costs['epochs']``; a promotion's include its parent's): 0
    where its evaluator does not say, or recorded NaN."""
    epochs = trial.costs.get("epochs", 0.0)
    return epochs if epochs == epochs else 0.0


def epochs_trained(trial: Trial) -> float:
    """What ``trial`` spent of an epochs budget: the epochs it trained (0 where its evaluator does not say)."""
    return float(trial.costs.get("epochs_trained", 0))


def training_seconds(trial: Trial) -> float:
    """What ``trial``'s training took: building, costs and training (0 where its evaluator records no time)."""
    return sum(float(trial.costs.get(k, 0.0)) for k in ("build_seconds", "cost_seconds", "train_seconds"))


def failure_summary(trials: Sequence[Trial], limit: int = 3) -> str:
    """The distinct reasons of the failed trials, most frequent first, as one line: ``2x TrainingDiverged: ...;
    1x MemoryError``. Only each error's first line counts (the traceback below it differs by call site)."""
    reasons = Counter((t.error or "no reason recorded").splitlines()[0] for t in trials if t.state is TrialState.FAILED)
    shown = [f"{count}x {reason}" for reason, count in reasons.most_common(limit)]
    if len(reasons) > limit:
        shown.append(f"and {len(reasons) - limit} other reasons")
    return "; ".join(shown)
