"""Several runs side by side (``nasforge compare``): the best validation score so far over trials and over
wall-clock, one line per setup; runs of one setup that differ only in their seed are drawn as their mean with
the range between the worst and the best seed, and listed as the mean and spread in the table."""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.exceptions import ConfigError
from nasforge.report._plots import figure, save_png
from nasforge.report._run import RunView
from nasforge.trial import TrialState

__all__ = ["Setup", "compare_runs"]


@dataclass(frozen=True)
class Setup:
    """Runs of one search configuration (everything but the seed the same), and how each ended."""

    label: str
    runs: tuple[RunView, ...]
    best: tuple[float, ...]  # each run's best validation value of the compared metric
    test: tuple[float, ...]  # each finished run's test value of it
    trials: tuple[int, ...]
    seconds: tuple[float, ...]

    def summary(self, values: Sequence[float]) -> str:
        if not values:
            return "-"
        if len(values) == 1:
            return f"{values[0]:.4f}"
        return f"{statistics.mean(values):.4f} +- {statistics.stdev(values):.4f}"


def _curve(view: RunView, metric: str, better: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trial number, search seconds and the best ``metric`` so far after each finished search trial."""
    done = [
        t
        for t in view.trials
        if t.state is TrialState.FINISHED and t.repeat_of is None and t.parent is None and metric in t.metrics
    ]
    done.sort(key=lambda t: (t.elapsed or 0.0, t.id))
    best: list[float] = []
    for t in done:
        value = t.metrics[metric]
        best.append(value if not best or better(value, best[-1]) else best[-1])
    return np.arange(1, len(done) + 1), np.array([t.elapsed or 0.0 for t in done]), np.array(best)


def _setups(views: Sequence[RunView]) -> list[list[RunView]]:
    """Runs grouped by their search identity without the seed, in the order first given."""
    groups: dict[str, list[RunView]] = {}
    for view in views:
        key = repr(sorted((k, repr(v)) for k, v in view.search.items() if k != "seed"))
        groups.setdefault(key, []).append(view)
    return list(groups.values())


def _label(group: list[RunView], everyone: Sequence[RunView]) -> str:
    names = {v.name for v in group}
    strategy = (group[0].search.get("strategy") or {}).get("name", "?")
    label = names.pop() if len(names) == 1 and len({v.name for v in everyone}) > 1 else strategy
    return f"{label} ({len(group)} seeds)" if len(group) > 1 else label


def compare_runs(run_dirs: Sequence[str | Path], out: Path) -> tuple[Path, list[Setup]]:
    """Write the comparison plot to ``out`` (PNG) and return it with one :class:`Setup` per configuration."""
    if not run_dirs:
        raise ConfigError("compare: give at least one run directory")
    views = [RunView.load(d) for d in run_dirs]
    objective = views[0].objective
    metric = objective.metric
    fig, (by_trial, by_time) = figure(11, 4, ncols=2)
    setups = []
    for colour, group in enumerate(_setups(views)):
        label = _label(group, views)
        curves = [_curve(v, metric, objective.better) for v in group]
        curves = [c for c in curves if len(c[0])]
        style = {"color": f"C{colour % 10}"}
        if curves:
            _draw(by_trial, [(c[0], c[2]) for c in curves], label, style)
            _draw(by_time, [(c[1], c[2]) for c in curves], label, style)
        setups.append(
            Setup(
                label=label,
                runs=tuple(group),
                best=tuple(float(c[2][-1]) for c in curves),
                test=tuple(float(v.best["test"][metric]) for v in group if v.best and metric in v.best.get("test", {})),
                trials=tuple(v.count(TrialState.FINISHED) for v in group),
                seconds=tuple(v.elapsed for v in group),
            )
        )
    for ax, xlabel in ((by_trial, "finished trials"), (by_time, "search time (s)")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"best validation {metric} so far")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    by_trial.set_title("Best so far, by trials")
    by_time.set_title("Best so far, by wall-clock")
    return save_png(fig, out), setups


def _draw(ax: Any, curves: list[tuple[np.ndarray, np.ndarray]], label: str, style: dict[str, Any]) -> None:
    """One run as a step line; several (seeds of one setup) as their mean on a common grid and the range."""
    label = label.replace("$", r"\$")  # a run's name, not mathtext (an unpaired or invalid one fails the plot)
    if len(curves) == 1:
        x, y = curves[0]
        ax.step(x, y, where="post", label=label, **style)
        return
    grid = np.linspace(min(x[0] for x, _ in curves), max(x[-1] for x, _ in curves), 200)
    # before a run's first result there is nothing to show; after its last, its best stays
    rows = np.array([np.interp(grid, x, y, left=np.nan) for x, y in _held(curves)])
    with warnings.catch_warnings():  # a grid point before every run's first result is NaN for all, and stays so
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, low, high = np.nanmean(rows, axis=0), np.nanmin(rows, axis=0), np.nanmax(rows, axis=0)
    ax.plot(grid, mean, label=f"{label}: mean", **style)
    ax.fill_between(grid, low, high, alpha=0.2, **style)


def _held(curves: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Step curves as points that linear interpolation reads as steps (each value held until the next x)."""
    out = []
    for x, y in curves:
        xs = np.repeat(x, 2)[1:]
        ys = np.repeat(y, 2)[:-1]
        out.append((xs, ys))
    return out
