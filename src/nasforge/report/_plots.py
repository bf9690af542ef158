"""A run as pictures. Each ``*_figure`` function draws one matplotlib figure from a run's trials; the same
figure is saved as a PNG in the run directory (:func:`save_png`) and inlined as SVG in the HTML report
(:func:`svg`), so the two never disagree."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.exceptions import cannot_write
from nasforge.objective import METRICS, Objective
from nasforge.trial import Trial, TrialState, rank_key

__all__ = [
    "choices_figure",
    "curves_figure",
    "distribution_figure",
    "generations_figure",
    "plot_curves",
    "plot_pareto",
    "plot_progress",
    "progress_figure",
    "save_png",
    "supernet_figure",
    "svg",
]

TOP_SHARE = 0.1
"""The share of finished trials that counts as "the best" in the choice-frequency figure."""

DENSE = 300
"""Above this many points or lines, a figure's dots and curves are drawn as an image inside its SVG (axes and
text stay vector): a 2,000-trial report would otherwise carry a vector path for every one of them."""


def figure(width: float = 7, height: float = 4, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    """A new figure and its axes (a grid when ``ncols`` or ``nrows`` > 1), drawn off-screen (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width, height), dpi=120)


def save_png(fig: Any, path: Path, close: bool = True) -> Path:
    """Write ``fig`` to ``path`` as a PNG and close it (unless ``close`` is false: it is drawn again as SVG)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        if close:
            plt.close(fig)
    return path


def svg(fig: Any) -> str:
    """``fig`` as an inline ``<svg>`` element (no XML prolog, no fixed size: it scales with the page), closed."""
    import matplotlib
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buffer = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none"}):  # text as text, not glyph outlines: a third the size
            fig.savefig(buffer, format="svg")
    finally:
        plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 width="100%"', text, count=1)


def _searched(trials: Sequence[Trial]) -> list[Trial]:
    """The search's own trials: not a promotion's deeper training, not a re-ranking repeat."""
    return [t for t in trials if t.parent is None and t.repeat_of is None]


def progress_figure(trials: Sequence[Trial], objective: Objective) -> Any:
    """Validation metric per trial (dots), the leader's so far (line), pruned (hollow) and failed (crosses)."""
    metric = objective.metric
    finished = [t for t in trials if t.state is TrialState.FINISHED and t.score is not None]
    pruned = [t for t in trials if t.state is TrialState.PRUNED and metric in t.metrics]
    failed = [t for t in trials if t.state is TrialState.FAILED]
    fig, ax = figure()
    if finished:
        values = [t.metrics[metric] for t in finished]
        best, leader = [], finished[0]
        for t in finished:  # the metric of the best-scoring trial so far, the one the run would return
            leader = t if rank_key(t) < rank_key(leader) else leader
            best.append(leader.metrics[metric])
        dense = len(finished) > DENSE
        ax.scatter([t.id for t in finished], values, s=14, alpha=0.6, label="trial (validation)", rasterized=dense)
        ax.step([t.id for t in finished], best, where="post", color="C3", label="best so far")
        if pruned:
            ax.scatter(
                [t.id for t in pruned],
                [t.metrics[metric] for t in pruned],
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
    ax.set_ylabel(f"validation {metric}")
    counts = f"{len(finished)} finished, {len(pruned)} pruned, " if pruned else f"{len(finished)} finished, "
    ax.set_title(f"Search progress: {counts}{len(failed)} failed")
    ax.grid(alpha=0.3)
    if finished:
        ax.legend(loc="best")
    return fig


def curves_figure(trials: Sequence[Trial], objective: Objective, winner: int | None = None) -> Any:
    """Every trial's learning curve (validation metric per epoch); pruned ones dashed, grey; the winner red."""
    metric = objective.metric
    fig, ax = figure()
    labelled: set[str] = set()
    dense = sum(bool(t.curve) for t in trials) > DENSE
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
        ax.plot(epochs, values, label=None if kind in labelled else kind, rasterized=dense, **style)
        labelled.add(kind)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.set_title("Learning curves")
    ax.grid(alpha=0.3)
    if labelled:
        ax.legend(loc="best")
    return fig


def pareto_figure(
    trials: Sequence[Trial], front: Sequence[Trial], objective: Objective, returned: Sequence[Trial] = ()
) -> Any:
    """Every finished trial on the first two objectives (dots), the Pareto front (line), and the points the run
    returned, retrained and tested (stars)."""
    x_name, y_name = objective.names[:2]

    def value(t: Trial, name: str) -> float | None:
        found = t.metrics.get(name, t.costs.get(name))
        return None if found is None else float(found)

    points = [(value(t, x_name), value(t, y_name)) for t in trials if t.state is TrialState.FINISHED]
    points = [p for p in points if None not in p]
    fig, ax = figure()
    if points:
        dense = len(points) > DENSE
        ax.scatter(*zip(*points, strict=True), s=10, color="0.7", label="finished trials", rasterized=dense)
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
    ax.set_title("Trade-off: " + " against ".join(objective.names[:2]))
    ax.grid(True, alpha=0.3)
    if points:
        ax.legend(fontsize=8)
    return fig


def generations_figure(trials: Sequence[Trial], objective: Objective, size: int) -> Any | None:
    """Best, median and worst validation metric of each generation: consecutive blocks of ``size`` search
    trials in the order they were proposed (a genetic algorithm's generations; for regularized evolution,
    whose population turns over one at a time, blocks of its population size). None with fewer than two."""
    metric = objective.metric
    searched = [t for t in _searched(trials) if t.state in (TrialState.FINISHED, TrialState.PRUNED)]
    blocks = [searched[i : i + size] for i in range(0, len(searched), size)]
    rows = [[t.metrics[metric] for t in b if metric in t.metrics] for b in blocks]
    rows = [r for r in rows if r]
    if len(rows) < 2:
        return None
    generation = np.arange(1, len(rows) + 1)
    worst, median, best = (np.array([f(r) for r in rows]) for f in (min, np.median, max))
    if objective.better(0.0, 1.0):  # a metric to minimise (loss, MSE): its best is its smallest
        worst, best = best, worst
    fig, ax = figure()
    ax.fill_between(generation, worst, best, color="C0", alpha=0.15, label="worst to best")
    ax.plot(generation, best, "o-", color="C3", label="best")
    ax.plot(generation, median, "s-", color="C0", label="median")
    ax.plot(generation, worst, "v-", color="0.5", label="worst")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(f"generation ({size} trials each)")
    ax.set_ylabel(f"validation {metric}")
    ax.set_title("Fitness per generation")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig


def distribution_figure(trials: Sequence[Trial], objective: Objective) -> Any:
    """A histogram of the finished trials' validation metric, the winner's value marked."""
    metric = objective.metric
    finished = [t for t in trials if t.state is TrialState.FINISHED and metric in t.metrics]
    fig, ax = figure(7, 3.2)
    if finished:
        values = [t.metrics[metric] for t in finished]
        ax.hist(values, bins=min(40, max(5, len(values) // 4)), color="C0", alpha=0.8)
        leader = min(finished, key=rank_key).metrics[metric]
        ax.axvline(leader, color="C3", linewidth=2, label=f"best: {leader:.4g}")
        ax.legend(loc="best")
    ax.set_xlabel(f"validation {metric}")
    ax.set_ylabel("trials")
    ax.set_title(f"Score distribution ({len(finished)} finished trials)")
    ax.grid(alpha=0.3)
    return fig


def choices_figure(trials: Sequence[Trial], space: Any, limit: int = 8) -> Any | None:
    """How often each choice appears among the best ``TOP_SHARE`` of finished trials against all of them, for
    the ``limit`` decisions where the two differ most (total variation distance). None without enough trials."""
    finished = sorted((t for t in _searched(trials) if t.state is TrialState.FINISHED), key=rank_key)
    if len(finished) < 10:
        return None
    decisions = space.decisions
    values = np.array([space.to_decisions(space.from_string(t.arch)) for t in finished])
    top = values[: max(1, round(TOP_SHARE * len(finished)))]
    rows = []
    for k, decision in enumerate(decisions):
        share_all = np.bincount(values[:, k], minlength=len(decision)) / len(values)
        share_top = np.bincount(top[:, k], minlength=len(decision)) / len(top)
        rows.append((0.5 * np.abs(share_all - share_top).sum(), decision, share_all, share_top))
    rows = sorted(rows, key=lambda r: -r[0])[:limit]
    labels, all_shares, top_shares = [], [], []
    for _, decision, share_all, share_top in rows:
        for c, choice in enumerate(decision.choices):
            if share_all[c] > 0 or share_top[c] > 0:
                labels.append(f"{decision.name} = {choice}")
                all_shares.append(share_all[c])
                top_shares.append(share_top[c])
    fig, ax = figure(7, 1.2 + 0.22 * len(labels))
    y = np.arange(len(labels))
    ax.barh(y - 0.2, all_shares, height=0.4, color="0.65", label=f"all finished ({len(values)})")
    ax.barh(y + 0.2, top_shares, height=0.4, color="C3", label=f"best {TOP_SHARE:.0%} ({len(top)})")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of trials with this choice")
    ax.set_xlim(0, 1)
    ax.set_title("Choices of the best trials against all")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def supernet_figure(history: dict[str, Any]) -> Any | None:
    """A one-shot run's architecture weights per edge over the supernet epochs (the store's ``supernet`` meta:
    ``{"ops": [...], "edges": [...], "epochs": [{"weights": [[...] per edge], ...}, ...]}``), one panel per
    edge: where the weights drift to parameter-free ops, the search is collapsing."""
    epochs = history.get("epochs") or []
    if not epochs:
        return None
    weights = np.array([e["weights"] for e in epochs])  # (epochs, edges, ops)
    edges = history["edges"]
    cols = min(3, len(edges))
    rows = -(-len(edges) // cols)
    fig, axes = figure(3.3 * cols, 2.4 * rows + 0.6, ncols=cols, nrows=rows)
    axes = np.atleast_1d(axes).ravel()
    x = np.arange(1, len(epochs) + 1)
    for e, (ax, edge) in enumerate(zip(axes, edges, strict=False)):
        for k, op in enumerate(history["ops"]):
            ax.plot(x, weights[:, e, k], label=op, color=f"C{k}")
        ax.set_title(edge, fontsize=9)  # the scale follows the weights: early on they differ by little
        ax.set_xlabel("supernet epoch", fontsize=8)
        ax.set_ylabel("op weight", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(edges) :]:
        ax.axis("off")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Architecture weights per edge over the supernet's epochs")
    return fig


def plot_progress(trials: Sequence[Trial], objective: Objective, path: Path) -> Path:
    """Write :func:`progress_figure` as a PNG."""
    return save_png(progress_figure(trials, objective), path)


def plot_curves(trials: Sequence[Trial], objective: Objective, path: Path, winner: int | None = None) -> Path:
    """Write :func:`curves_figure` as a PNG."""
    return save_png(curves_figure(trials, objective, winner), path)


def plot_pareto(
    trials: Sequence[Trial], front: Sequence[Trial], objective: Objective, path: Path, returned: Sequence[Trial] = ()
) -> Path:
    """Write :func:`pareto_figure` as a PNG."""
    return save_png(pareto_figure(trials, front, objective, returned), path)
