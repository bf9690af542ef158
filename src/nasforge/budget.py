"""When a search stops: a number of trials, a wall-clock limit, a total of training epochs, whichever comes first."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Literal

from nasforge.exceptions import ConfigError, finite_positive, integer_at_least

__all__ = ["DEFAULT_TRIALS", "MIN_FAILURES", "Budget", "StopReason"]

DEFAULT_TRIALS = 40
"""The trial limit of a search that was given no limit at all; a search given only seconds has no trial limit."""

MIN_FAILURES = 5
"""Failed trials before a fractional ``max_failures`` may stop a search: a few unlucky first trials are no pattern
(with one candidate in five failing, five failures within the first nine trials happen about once in fifty runs)."""

StopReason = Literal["trials", "seconds", "epochs"]


@dataclass(frozen=True)
class Budget:
    """``trials`` counts finished, pruned and failed trials; ``seconds`` is the wall-clock limit of the search
    phase; ``epochs`` the training epochs of all trials together (the cost unit of multi-fidelity search: a
    trial pruned after 2 epochs costs 2, a promotion continued from epoch 3 to 9 costs 6).

    Give any of them. Only a budget given no limit falls back to ``DEFAULT_TRIALS`` trials
    (``defaulted`` then says so), so that "search for five minutes" (``Budget(seconds=300)``) means five
    minutes, not five minutes or 40 trials. A trial that is running when a trials or epochs limit is reached
    is finished and kept (so parallel workers may overshoot an epochs budget by the trials they hold; one that
    is rejected by a constraint instead counts for nothing, and another takes its place); one still training
    when the seconds run out stops there and is recorded interrupted, so that the search ends on time.

    ``max_failures`` stops a search whose trials keep failing (a broken dataset, a space too large for the
    machine) instead of burning the budget on it: a count (``>= 1``), or a fraction (``< 1``) of the ended
    trials, checked once ``MIN_FAILURES`` have failed. The default 0.5 lets a search lose the odd candidate
    (one that runs out of memory or diverges) and stops one where most trials fail, after five trials when
    every trial does.

        >>> Budget(seconds=300).trials is None, Budget().trials
        (True, 40)
        >>> Budget().too_many_failures(failed=5, ended=5), Budget().too_many_failures(failed=5, ended=10)
        (True, False)
    """

    trials: int | None = None
    seconds: float | None = None
    epochs: int | None = None
    max_failures: float = 0.5
    defaulted: bool = field(default=False, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.trials is None and self.seconds is None and self.epochs is None:
            object.__setattr__(self, "trials", DEFAULT_TRIALS)
            object.__setattr__(self, "defaulted", True)
        if self.trials is not None:
            integer_at_least("budget.trials", self.trials)
        if self.seconds is not None:
            finite_positive("budget.seconds", self.seconds)
        if self.epochs is not None:
            integer_at_least("budget.epochs", self.epochs)
        failures = self.max_failures
        if not (_is(failures, Real) and 0 < failures < math.inf) or (failures > 1 and failures != int(failures)):
            raise ConfigError(f"budget.max_failures: a count >= 1 or a fraction in (0, 1), got {failures!r}")

    def stop_reason(self, trials_done: int, elapsed: float, epochs_spent: float = 0) -> StopReason | None:
        """Which limit is reached after ``trials_done`` trials, ``elapsed`` seconds and ``epochs_spent``, or None."""
        if self.trials is not None and trials_done >= self.trials:
            return "trials"
        if self.seconds is not None and elapsed >= self.seconds:
            return "seconds"
        if self.epochs is not None and epochs_spent >= self.epochs:
            return "epochs"
        return None

    def room(self, done: int, elapsed: float, pace: float | None) -> int | None:
        """How many more units (trials, or a one-shot run's epochs, each taking ``pace`` seconds) fit after
        ``done`` of them and ``elapsed`` seconds: the least of the trials and epochs left and the whole paces
        in the seconds left; None while nothing bounds it (only seconds, and no pace measured yet).

            >>> Budget(seconds=100).room(done=2, elapsed=20.0, pace=10.0), Budget(trials=5).room(2, 20.0, None)
            (8, 3)
        """
        left = [limit - done for limit in (self.trials, self.epochs) if limit is not None]
        if self.seconds is not None and pace:
            left.append(int((self.seconds - elapsed) // pace))
        return max(0, min(left)) if left else None

    def too_many_failures(self, failed: int, ended: int) -> bool:
        """Whether ``failed`` of ``ended`` trials (finished, pruned and failed) reach ``max_failures`` (a count)
        or, once ``MIN_FAILURES`` failed, are more than that share of them (a fraction)."""
        if self.max_failures >= 1:
            return failed >= self.max_failures
        return failed >= MIN_FAILURES and failed > self.max_failures * ended

    def describe(self) -> str:
        """The limits in words, for headers and logs: ``300 s``, ``40 trials (default)``, ``40 trials or 600 s``."""
        limits = [
            f"{self.trials} trials" if self.trials is not None else "",
            _seconds(self.seconds),
            f"{self.epochs} epochs" if self.epochs is not None else "",
        ]
        text = " or ".join(x for x in limits if x)
        if self.defaulted:
            return f"{text} (the default when no budget is given)"
        return f"{text}, whichever comes first" if " or " in text else text


def _is(value: object, kind: type) -> bool:
    """Whether ``value`` is a number of ``kind`` (``Real``; numpy's too), not a bool (``True`` is an int to
    Python, never a limit a user meant)."""
    return isinstance(value, kind) and not isinstance(value, bool)


def _seconds(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:g} s"
