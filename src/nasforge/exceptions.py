"""Typed errors with one-line messages: the CLI prints them and exits 2, tracebacks only with --debug."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "ExportError",
    "Infeasible",
    "InvalidArchitecture",
    "NasforgeError",
    "StoreError",
    "TrainingDiverged",
    "TrialTimeout",
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
