"""Pareto dominance, non-dominated sorting, crowding distance and hypervolume, for several objectives at once.

Every function takes objective vectors already oriented for maximisation (a minimised cost enters negated), as
rows of an array: one convention, so that no caller has to remember which way each objective points. A NaN
objective (a metric a trial could not measure, as R2 on a constant target) counts as the worst value: compared as
it is, it would neither beat nor lose to anything, and its trial would sit on the first front whatever it scored.

- Non-dominated sorting and crowding distance follow NSGA-II (Deb et al., IEEE TEC 2002): the first front is
  the set no other point dominates, the next front is that of the rest, and so on; within a front, points in
  sparse regions (large crowding distance, infinite at the ends) rank first.
- Random scalarisations follow ParEGO (Knowles, IEEE TEC 2006): objectives scaled to [0, 1] over the points
  seen, then the augmented Tchebycheff distance to the ideal point under one weight vector, so that a
  single-objective model can chase one region of the front at a time.
- The hypervolume is the volume dominated by the points and bounded by a reference point, computed exactly by
  slicing along the first objective (the "hypervolume by slicing objectives" recursion of While et al., IEEE TEC
  2006), which is fast for the two or three objectives and fronts of hundreds of points a search produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nasforge.objective import Objective
    from nasforge.trial import Trial

__all__ = [
    "crowding_distance",
    "dominates",
    "first_front",
    "front_of",
    "hypervolume",
    "hypervolume_gains",
    "non_dominated_fronts",
    "pareto_order",
    "scalarize",
]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether ``a`` is at least as good as ``b`` in every objective and better in one (maximising)."""
    a, b = _points(a), _points(b)
    return bool(np.all(a >= b) and np.any(a > b))


def _points(values: np.ndarray | Sequence[Sequence[float]] | Sequence[float]) -> np.ndarray:
    """``values`` as floats, NaN as minus infinity (the worst value; see the module docstring)."""
    points = np.asarray(values, dtype=float)
    return np.where(np.isnan(points), -np.inf, points)


def non_dominated_fronts(values: np.ndarray | Sequence[Sequence[float]]) -> list[list[int]]:
    """Row indices grouped into fronts, best first (NSGA-II's fast non-dominated sort, O(M N^2))."""
    points = _points(values)
    n = len(points)
    if n == 0:
        return []
    ge = np.all(points[:, None, :] >= points[None, :, :], axis=2)
    gt = np.any(points[:, None, :] > points[None, :, :], axis=2)
    beats = ge & gt  # beats[i, j]: i dominates j
    beaten_by = beats.sum(axis=0)
    fronts: list[list[int]] = []
    current = [int(i) for i in np.flatnonzero(beaten_by == 0)]
    while current:
        fronts.append(current)
        for i in current:
            beaten_by[beats[i]] -= 1
        beaten_by[current] = -1  # placed
        current = [int(i) for i in np.flatnonzero(beaten_by == 0)]
    return fronts


def first_front(values: np.ndarray | Sequence[Sequence[float]]) -> list[int]:
    """Row indices of the non-dominated points, in order of the first objective (best first). Unlike
    :func:`non_dominated_fronts`, which needs an N x N comparison (half a gigabyte for the 15,625 rows of
    NAS-Bench-201), each point is compared only with the front so far: sorted lexicographically best first,
    a point can only be dominated by points before it, and dominance is transitive."""
    points = _points(values)
    if points.ndim != 2 or len(points) == 0:
        return []
    order = np.lexsort(tuple(-points[:, k] for k in reversed(range(points.shape[1]))))
    kept: list[int] = []
    for i in order:
        if kept:
            front = points[kept]
            if np.any(np.all(front >= points[i], axis=1) & np.any(front > points[i], axis=1)):
                continue
        kept.append(int(i))
    return kept


def crowding_distance(values: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """NSGA-II's crowding distance of each point of one front: the sum over objectives of the gap between its
    neighbours, normalised by the front's range; the extreme points of every objective get infinity (an
    objective whose range is infinite, a NaN among its values, adds nothing else)."""
    points = _points(values)
    n, m = points.shape if points.ndim == 2 else (len(points), 0)
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(points[:, k], kind="stable")
        column = points[order, k]
        span = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if np.isfinite(span) and span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


def pareto_order(values: np.ndarray | Sequence[Sequence[float]]) -> list[int]:
    """All row indices, best first: by front, then by crowding distance (largest first), then by index."""
    points = _points(values)
    order: list[int] = []
    for front in non_dominated_fronts(points):
        crowd = crowding_distance(points[front])
        order += [front[i] for i in sorted(range(len(front)), key=lambda i: (-crowd[i], front[i]))]
    return order


def scalarize(
    values: np.ndarray | Sequence[Sequence[float]],
    weights: Sequence[float],
    rho: float = 0.05,
    bounds: tuple[Sequence[float] | float, Sequence[float] | float] | None = None,
) -> np.ndarray:
    """ParEGO's augmented Tchebycheff scalarisation of every row, negated so that higher is better.

    Each objective is scaled to [0, 1] between ``bounds`` (low, high; by default the rows' own minimum and
    maximum, and a constant objective counts as 1), its shortfall ``d = 1 - u`` weighted, and a row scores
    ``-(max_i w_i d_i + rho * sum_i w_i d_i)``: 0 at the ideal point. The max term lets any point of a concave
    front win for some weights (a weighted sum would not); the small sum term breaks ties between weakly
    dominated points.

    >>> scalarize([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], [0.5, 0.5]).round(4).tolist()
    [-0.525, -0.525, -0.275]
    """
    points = np.asarray(values, dtype=float)
    low, high = (points.min(axis=0), points.max(axis=0)) if bounds is None else np.broadcast_arrays(*bounds)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    span = np.where(high > low, high - low, 1.0)
    shortfall = np.where(high > low, (high - points) / span, 0.0) * np.asarray(weights, dtype=float)
    return -(shortfall.max(axis=1) + rho * shortfall.sum(axis=1))


def hypervolume(values: np.ndarray | Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """The volume dominated by the points and bounded below by ``reference`` (maximising; points that do not
    beat the reference in every objective add nothing)."""
    points = np.asarray(values, dtype=float).reshape(-1, len(reference))
    ref = np.asarray(reference, dtype=float)
    points = points[np.all(points > ref, axis=1)]
    if len(points) == 0:
        return 0.0
    points = points[first_front(points)]
    return _slice(points - ref)


def hypervolume_gains(front: np.ndarray, points: np.ndarray, reference: Sequence[float]) -> np.ndarray:
    """For two objectives (maximised): how much hypervolume each of ``points`` alone would add to ``front``'s,
    above ``reference``. Vectorised over the points, since an acquisition scores hundreds of candidates: a
    point's gain is its own box less the front's boxes clipped to it, and in two dimensions the volume of boxes
    is a sweep (sort by the first objective, running maximum of the second)."""
    ref = np.asarray(reference, dtype=float)
    own = np.clip(np.asarray(points, dtype=float) - ref, 0.0, None)  # (P, 2): each point's box
    boxes = np.clip(np.asarray(front, dtype=float).reshape(-1, 2) - ref, 0.0, None)
    clipped = np.minimum(boxes[None, :, :], own[:, None, :])  # (P, F, 2): the front inside each point's box
    order = np.argsort(-clipped[:, :, 0], axis=1, kind="stable")
    x = np.take_along_axis(clipped[:, :, 0], order, axis=1)
    y = np.maximum.accumulate(np.take_along_axis(clipped[:, :, 1], order, axis=1), axis=1)
    width = x - np.concatenate([x[:, 1:], np.zeros((len(x), 1))], axis=1)
    return own.prod(axis=1) - (width * y).sum(axis=1)


def _slice(points: np.ndarray) -> float:
    """Hypervolume of points above the origin: sweep the first objective from the top, each slab's depth times
    the (d-1)-dimensional volume of the points that reach it."""
    if points.shape[1] == 1:
        return float(points[:, 0].max())
    order = np.argsort(-points[:, 0], kind="stable")
    points = points[order]
    volume = 0.0
    for i in range(len(points)):
        low = points[i + 1, 0] if i + 1 < len(points) else 0.0
        depth = points[i, 0] - low
        if depth > 0:
            rest = points[: i + 1, 1:]
            volume += depth * _slice(rest[non_dominated_fronts(rest)[0]])
    return volume


def front_of(trials: Sequence[Trial], objective: Objective) -> list[Trial]:
    """The run's non-dominated trials under ``objective``'s objectives, in order of its first objective (best
    first). Only finished trials trained as long as the longest count (a scheduler's early rungs are not
    compared with full trainings); a trial that lacks one of the objectives is left out, and so are repeats (a
    re-ranking's second seeds of an architecture already there)."""
    from nasforge.trial import TrialState, epochs_reached

    finished = [t for t in trials if t.state is TrialState.FINISHED and t.repeat_of is None]
    deepest = max((epochs_reached(t) for t in finished), default=0.0)
    candidates, values = [], []
    for t in finished:
        if epochs_reached(t) != deepest:
            continue
        try:
            values.append(objective.values(t.metrics, t.costs))
        except KeyError:
            continue
        candidates.append(t)
    if not candidates:
        return []
    points = _points(values)
    front = first_front(points)
    return [candidates[i] for i in sorted(front, key=lambda i: (-points[i, 0], candidates[i].id))]
