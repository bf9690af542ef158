"""Hooks into a search's life (progress bars, the live report, TensorBoard, MLflow); every hook is a no-op by
default."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasforge.run import Run
    from nasforge.trial import Trial
    from nasforge.winner import Best

__all__ = ["Callback", "failure_as_warning"]


class Callback:
    """Subclass and override what you need; the runner calls every hook in the driver process."""

    def on_search_start(self, run: Run) -> None:
        """Called once per ``optimize`` call, after stored trials were replayed."""

    def on_trial_start(self, run: Run, trial: Trial) -> None:
        """Called when a trial is recorded as running, before it is evaluated."""

    def on_trial_end(self, run: Run, trial: Trial) -> None:
        """Called when a trial is recorded as finished, pruned or failed (not for one rejected by a constraint
        or cut by the time budget: neither counts as a trial that ended)."""

    def on_search_end(self, run: Run, reason: str) -> None:
        """Called when the search stops, with why: a limit (``trials``, ``seconds``, ``epochs``), ``exhausted``,
        ``failures``, ``infeasible``, ``early stop`` (a one-shot run) or ``interrupted``."""

    def on_final(self, run: Run, best: Best) -> None:
        """Called by :func:`nasforge.search` once the winner is retrained, tested once and (with a run
        directory) exported: ``best.model`` is the retrained network, ``best.paths`` the files written."""


@contextmanager
def failure_as_warning(what: str) -> Iterator[None]:
    """Turn an error inside into a ``RuntimeWarning`` saying ``what`` failed, for hooks whose failure must not end
    the search (a tracker, the live report): the runner calls hooks without catching, so a user's own hook may
    still stop it by raising. Ctrl-C is not an ``Exception`` and still stops the search."""
    try:
        yield
    except Exception as exc:
        warnings.warn(f"{what} ({type(exc).__name__}: {exc}); the search goes on", RuntimeWarning, stacklevel=4)
