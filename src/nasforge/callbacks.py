"""Hooks into a search's life (progress bars, the live report, TensorBoard, MLflow); every hook is a no-op by
default."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasforge.run import Run
    from nasforge.trial import Trial
    from nasforge.winner import Best

__all__ = ["Callback"]


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
