"""The search's progress as a picture: every trial's validation metric and the leading trial's so far."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nasforge.objective import Objective
from nasforge.trial import Trial, TrialState, rank_key

__all__ = ["plot_progress"]


def plot_progress(trials: Sequence[Trial], objective: Objective, path: Path) -> Path:
    """Write a PNG of validation metric per trial (dots), the leader's so far (line) and failures (crosses)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finished = [t for t in trials if t.state is TrialState.FINISHED and t.score is not None]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    if finished:
        values = [t.metrics[objective.metric] for t in finished]
        best, leader = [], finished[0]
        for t in finished:  # the metric of the best-scoring trial so far, the one the run would return
            leader = t if rank_key(t) < rank_key(leader) else leader
            best.append(leader.metrics[objective.metric])
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
