"""Spending less on losers: stopping rules that end a trial early, judged on its learning curve.

A :class:`Stopper` lives in the driver and watches the trials that end; for each new trial it hands the
executor an :class:`EpochRule`, a small picklable snapshot that travels with the trial (to a worker process if
need be) and is asked after every epoch whether to stop. A stopped trial is recorded ``pruned`` with its
curve, its score is the one at the epoch it reached, and the strategy is told that score. A
:class:`Scheduler` (ASHA, successive halving, Hyperband) instead schedules epochs: architectures train
briefly, the best are promoted to train on.
"""

from nasforge.fidelity._make import make_fidelity, scheduled_epochs
from nasforge.fidelity._schedulers import SCHEDULERS, Asha, Hyperband, Scheduler, SuccessiveHalving, rung_epochs
from nasforge.fidelity._shelf import MAX_CHECKPOINTS, CheckpointShelf
from nasforge.fidelity._stoppers import (
    STOPPERS,
    EpochRule,
    MedianStopper,
    PatienceStopper,
    Stopper,
    ThresholdStopper,
    make_stopper,
)

__all__ = [
    "MAX_CHECKPOINTS",
    "SCHEDULERS",
    "STOPPERS",
    "Asha",
    "CheckpointShelf",
    "EpochRule",
    "Hyperband",
    "MedianStopper",
    "PatienceStopper",
    "Scheduler",
    "Stopper",
    "SuccessiveHalving",
    "ThresholdStopper",
    "make_fidelity",
    "make_stopper",
    "rung_epochs",
    "scheduled_epochs",
]
