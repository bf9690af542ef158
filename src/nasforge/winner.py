"""After the search: retrain the winner, evaluate it once on the test split, export and describe it.

In a Pareto search there is no single winner: the run's front (:func:`~nasforge.pareto.front_of`) is named in
``best.json``, and up to ``front`` of its points, spread along it, are retrained and tested once each. The point
best in the objective's first validation metric is the one exported as ``best.*``; any other is exported with
``nasforge export --trial ID``.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import NasforgeError
from nasforge.objective import COSTS
from nasforge.pareto import front_of, pareto_order
from nasforge.run import Run, derive_seed
from nasforge.trial import Trial, rank_key

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Best", "report_winner", "spread_front", "winner_of"]


@dataclass
class Best:
    """The architecture a run returns (:func:`winner_of`), retrained and tested once; in a Pareto search ``front``
    holds the points of the front that were retrained and tested too."""

    trial: Trial
    arch: Hashable
    test: Mapping[str, float]
    model: nn.Module | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    front: list[dict[str, Any]] = field(default_factory=list)
    front_trials: list[Trial] = field(default_factory=list)  # the whole front (a Pareto search)
    _build: Any = None

    @property
    def metrics(self) -> Mapping[str, float]:
        """Validation metrics from the search."""
        return self.trial.metrics

    @property
    def costs(self) -> Mapping[str, float]:
        return self.trial.costs

    def build(self) -> nn.Module:
        """A fresh module of the winner, carrying the retrained weights where the run has them."""
        if self._build is None:
            raise NasforgeError("this run has no network to build (a tabular benchmark run)")
        module = self._build()
        if self.model is not None:
            module.load_state_dict(copy.deepcopy(self.model.state_dict()))
        return module


def report_winner(
    run: Run,
    out_dir: Path | None,
    input_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
    trial: Trial | None = None,
    stem: str = "best",
    config: Mapping[str, Any] | None = None,
    front: int = 0,
    data: Mapping[str, Any] | None = None,
) -> Best:
    """Retrain ``trial`` (default: the best by validation) on train+validation, test it once, export it.

    Writes ``<stem>.json`` and, when the evaluator produced a model, ``<stem>.pt`` and a verified
    ``<stem>.onnx`` into ``out_dir``. ``data`` (:meth:`~nasforge.data.Splits.describe`) goes into the JSON as
    ``"data"``: the input scaler, tokenizer and target scaler that new inputs must pass through. In a Pareto
    search with ``front > 0``, up to ``front`` points of the run's front (``trial`` among them) are retrained
    and tested too, and ``best.json`` names the whole front.
    """
    points = front_of(run.trials, run.objective) if run.objective.multi else []
    trial = trial or winner_of(run, points)
    if trial is None:
        raise NasforgeError("no trial finished, so there is no winner to report (see the failed trials' errors)")
    arch = run.space.from_string(trial.arch)
    report = run.evaluator.final_test(arch, derive_seed(run.seed, 2, trial.id))
    best = Best(trial=trial, arch=arch, test=dict(report.metrics), model=report.model, front_trials=points)
    pareto: dict[str, Any] = {}
    if front > 0 and run.objective.multi:
        pareto = {"objectives": list(run.objective.names), "trials": [t.id for t in points]}
        for point in spread_front(points, run.objective, front, keep=trial):
            test = best.test if point.id == trial.id else _test_once(run, point)
            best.front.append({**_describe(point), "test": test})
        pareto["tested"] = best.front
    if input_shape is not None and num_classes is not None:
        best._build = lambda: run.space.build(arch, input_shape, num_classes)
    if out_dir is None:
        return best
    from nasforge.export import export_model, write_best_json

    out_dir.mkdir(parents=True, exist_ok=True)
    exported: dict[str, Any] = {}
    if report.model is not None and input_shape is not None:
        result = export_model(report.model, input_shape, out_dir, stem=stem, rebuild=best._build)
        best.paths.update(pt=result.pt, onnx=result.onnx)
        exported = result.describe()
    payload = {
        **_describe(trial),
        "test": best.test,
        "timings": {k: v for k, v in trial.costs.items() if k.endswith("seconds")},
        "export": exported,
        **({"front": pareto} if pareto else {}),
        **({"data": dict(data)} if data is not None else {}),
        "search": {"trials": run.done, "seconds": round(run.elapsed_before, 1), "stopped_by": run.stop_reason},
        "config": dict(config or {}),
    }
    json_path = out_dir / f"{stem}.json"
    write_best_json(json_path, payload)
    best.paths["json"] = json_path
    return best


def winner_of(run: Run, front: Sequence[Trial] | None = None) -> Trial | None:
    """The trial a run returns: its best (:func:`~nasforge.trial.rank_key`), or in a Pareto search the best point
    of its front (``front`` when the caller has it) by that same ranking, since the most accurate trial may be
    dominated by an equally accurate, cheaper one."""
    if run.objective.multi:
        front = front_of(run.trials, run.objective) if front is None else front
        if front:
            return min(front, key=rank_key)
    return run.best_trial


def spread_front(front: Sequence[Trial], objective: Any, k: int, keep: Trial | None = None) -> list[Trial]:
    """Up to ``k`` points of ``front`` spread along it: its ends first, then the least crowded (NSGA-II's
    crowding distance), always including ``keep``; in order of the first objective, best first."""
    points = list(front)
    order = pareto_order([objective.values(t.metrics, t.costs) for t in points])
    chosen = [points[i] for i in order]
    if keep is not None and keep in chosen:
        chosen.remove(keep)
        chosen.insert(0, keep)
    chosen = chosen[:k]
    return [t for t in points if t in chosen]


def _test_once(run: Run, trial: Trial) -> dict[str, float]:
    """Retrain one more point of the front on train+validation and test it once (its model is not kept)."""
    arch = run.space.from_string(trial.arch)
    return dict(run.evaluator.final_test(arch, derive_seed(run.seed, 2, trial.id)).metrics)


def _describe(trial: Trial) -> dict[str, Any]:
    return {
        "arch": trial.arch,
        "trial": trial.id,
        "validation": dict(trial.metrics),
        "costs": {k: v for k, v in trial.costs.items() if k in COSTS},
    }
