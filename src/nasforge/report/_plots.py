"""A run as pictures: every trial's validation metric with the leader's so far, and the learning curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasforge.exceptions import cannot_write
from nasforge.objective import METRICS, Objective
from nasforge.trial import Trial, TrialState, rank_key

__all__ = ["plot_curves", "plot_pareto", "plot_progress"]


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4), dpi=120)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        plt.close(fig)
    return path


def plot_progress(trials: Sequence[Trial], objective: Objective, path: Path) -> Path:
    """Write a PNG of validation metric per trial (dots), the leader's so far (line) and failures (crosses)."""
    finished = [t for t in trials if t.state is TrialState.FINISHED and t.score is not None]
    pruned = [t for t in trials if t.state is TrialState.PRUNED and objective.metric in t.metrics]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    fig, ax = _figure()
    if finished:
        values = [t.metrics[objective.metric] for t in finished]
        best, leader = [], finished[0]
        for t in finished:  # the metric of the best-scoring trial so far, the one the run would return
            leader = t if rank_key(t) < rank_key(leader) else leader
            best.append(leader.metrics[objective.metric])
        ax.scatter([t.id for t in finished], values, s=14, alpha=0.6, label="trial (validation)")
        ax.step([t.id for t in finished], best, where="post", color="C3", label="best so far")
        if pruned:
            ax.scatter(
                [t.id for t in pruned],
                [t.metrics[objective.metric] for t in pruned],
                s=14,
                facecolors="none",
                edgecolors="0.5",
                label="pruned (at the epoch reached)",
            )
        if failed:
            floor = min(values)
            ax.scatter([t.id for t in failed], [floor] * len(failed), marker="x", color="0.4", label="failed")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {objective.metric}")
    counts = f"{len(finished)} finished, {len(pruned)} pruned, " if pruned else f"{len(finished)} finished, "
    ax.set_title(f"Search progress: {counts}{len(failed)} failed")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return _save(fig, path)


def plot_curves(trials: Sequence[Trial], objective: Objective, path: Path, winner: int | None = None) -> Path:
    """Write a PNG of every trial's learning curve (validation metric per epoch); pruned ones dashed, grey."""
    metric = objective.metric
    fig, ax = _figure()
    labelled: set[str] = set()
    for t in trials:
        if not t.curve or t.state not in (TrialState.FINISHED, TrialState.PRUNED):
            continue
        epochs = [p["epoch"] for p in t.curve]
        values = [p[metric] for p in t.curve]
        if t.id == winner:
            kind, style = "winner", {"color": "C3", "linewidth": 2.0, "zorder": 3}
        elif t.state is TrialState.PRUNED:
            kind, style = "pruned", {"color": "0.6", "linestyle": "--", "linewidth": 0.8}
        else:
            kind, style = "finished", {"color": "C0", "alpha": 0.35, "linewidth": 0.8}
        ax.plot(epochs, values, label=None if kind in labelled else kind, **style)
        labelled.add(kind)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.set_title("Learning curves")
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(loc="best")
    return _save(fig, path)


def plot_pareto(
    trials: Sequence[Trial], front: Sequence[Trial], objective: Objective, path: Path, returned: Sequence[Trial] = ()
) -> Path:
    """Write a PNG of every finished trial on the first two objectives (dots) with the Pareto front (line) and
    the points the run returned, retrained and tested (stars)."""
    x_name, y_name = objective.names[:2]

    def value(t: Trial, name: str) -> float | None:
        found = t.metrics.get(name, t.costs.get(name))
        return None if found is None else float(found)

    points = [(value(t, x_name), value(t, y_name)) for t in trials if t.state is TrialState.FINISHED]
    points = [p for p in points if None not in p]
    fig, ax = _figure()
    if points:
        ax.scatter(*zip(*points, strict=True), s=10, color="0.7", label="finished trials")
    if front:
        xs, ys = [value(t, x_name) for t in front], [value(t, y_name) for t in front]
        ax.plot(xs, ys, "o-", color="C3", label=f"Pareto front ({len(front)})")
    if returned:
        xs, ys = [value(t, x_name) for t in returned], [value(t, y_name) for t in returned]
        label = f"returned: retrained and tested ({len(returned)})"
        ax.scatter(xs, ys, marker="*", s=160, color="C0", edgecolor="k", zorder=3, label=label)
    labels = [
        f"{'validation ' if n in METRICS else ''}{n} ({d})"
        for n, d in zip(objective.names[:2], objective.directions[:2], strict=True)
    ]
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if x_name in ("params", "flops"):
        ax.set_xscale("log")
    if y_name in ("params", "flops"):
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
