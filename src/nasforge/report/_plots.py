"""The search's progress as a picture: every trial's validation score and the best so far."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nasforge.objective import Objective
from nasforge.trial import Trial, TrialState

__all__ = ["plot_progress"]


def plot_progress(trials: Sequence[Trial], objective: Objective, path: Path) -> Path:
    """Write a PNG of validation score per trial (dots), best so far (line) and failures (crosses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finished = [t for t in trials if t.state is TrialState.FINISHED and t.score is not None]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    if finished:
        values = [objective.value(t.score) for t in finished]  # type: ignore[arg-type]
        best, running = [], None
        for t in finished:
            running = t.score if running is None else max(running, t.score)  # type: ignore[type-var]
            best.append(objective.value(running))  # type: ignore[arg-type]
        ax.scatter([t.id for t in finished], values, s=14, alpha=0.6, label="trial (validation)")
        ax.step([t.id for t in finished], best, where="post", color="C3", label="best so far")
        if failed:
            floor = min(values)
            ax.scatter([t.id for t in failed], [floor] * len(failed), marker="x", color="0.4", label="failed")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {objective.metric}")
    ax.set_title(f"Search progress: {len(finished)} finished, {len(failed)} failed")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
