"""Typed errors with one-line messages: the CLI prints them and exits 2, tracebacks only with --debug."""

from __future__ import annotations

import errno
import math
from numbers import Integral, Real
from typing import Any

__all__ = [
    "ConfigError",
    "DataError",
    "ExportError",
    "Infeasible",
    "InvalidArchitecture",
    "NasforgeError",
    "StoreError",
    "TrainingDiverged",
    "TrialFailed",
    "TrialInterrupted",
    "TrialTimeout",
    "cannot_write",
    "finite_positive",
    "integer_at_least",
]


class NasforgeError(Exception):
    """Base of every error nasforge raises on purpose; its message is one line meant for the user."""


class ConfigError(NasforgeError, ValueError):
    """A configuration value is wrong; the message names the field and what is allowed."""


class InvalidArchitecture(NasforgeError, ValueError):
    """An architecture string or value does not belong to its search space, or cannot fit the input."""


class DataError(NasforgeError, ValueError):
    """A dataset file or array cannot be used; the message says what is wrong with it."""


class StoreError(NasforgeError):
    """The experiment store is missing, corrupt or from an incompatible version."""


def cannot_write(path: object, error: OSError) -> StoreError:
    """The one line for a file of a run that could not be written: a full disk, a read-only or forbidden folder.

    What was stored before stays; ``nasforge resume`` finishes the run once the cause is gone.
    """
    full = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    advice = "make room, then resume" if full else "choose a run directory you can write"
    return StoreError(f"{path}: cannot write it ({error.strerror or error}); {advice}")


class TrialTimeout(NasforgeError):
    """A trial ran past its time limit; training stopped between two batches and the trial counts as failed."""


class TrainingDiverged(NasforgeError):
    """The training loss became NaN or infinite; the trial counts as failed."""


class ExportError(NasforgeError):
    """An exported model does not load back or does not reproduce the PyTorch outputs."""


class Infeasible(NasforgeError):
    """An architecture broke a hard constraint when it was built; it is recorded ``rejected``, never trained.

    ``costs`` holds what was measured (so the store shows by how much the limit was broken).
    """

    def __init__(self, message: str, costs: dict[str, float]) -> None:
        super().__init__(message)
        self.costs = costs

    def __reduce__(self) -> tuple[Any, ...]:  # raised on workers: it must pickle with its costs
        return (type(self), (str(self), self.costs))


class TrialFailed(NasforgeError):
    """A trial's evaluation raised after its network was built: why (the original error's type and message,
    and in ``detail`` its traceback when it was not one of ours), with the costs measured before training and
    the learning curve up to the failure, so that the store keeps what the trial did reach.

    It is raised where the trial ran (a worker, perhaps) and carries text rather than the original exception,
    which may not pickle or may need modules the driver lacks.
    """

    def __init__(
        self,
        message: str,
        costs: dict[str, float] | None = None,
        curve: tuple[dict[str, float], ...] = (),
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.costs = dict(costs or {})
        self.curve = tuple(curve)
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.costs, self.curve, self.detail))


class TrialInterrupted(TrialFailed):
    """A trial stopped by something outside it: the search's time budget ran out while it trained.

    It is recorded ``interrupted`` rather than failed, with its costs and the curve it reached: its result
    would be that of a shorter training, so it is not told to the strategy and does not count against the
    budget, and a resume given more time trains it again.
    """


def finite_positive(key: str, value: Any) -> float:
    """``value`` if it is a finite number > 0 (numpy's too); else a one-line ``ConfigError`` naming ``key``.

    A bool is refused (``True`` is 1 to Python, never a duration a user meant); so are NaN, which passes no
    comparison, and infinity (no limit is ``None``, not ``inf``)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
        raise ConfigError(f"{key}: must be a finite number > 0, got {value!r}")
    return float(value)


def integer_at_least(key: str, value: Any, low: int = 1) -> int:
    """``value`` if it is a whole number >= ``low`` (numpy's too); else a one-line ``ConfigError`` naming ``key``.

    A bool is refused (``True`` is an int to Python, never a count a user meant), and so is a float, which
    passes a comparison and fails later, far from the key that caused it (``range(2.5)``, a slice)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ConfigError(f"{key}: must be an integer >= {low}, got {value!r}")
    return int(value)
