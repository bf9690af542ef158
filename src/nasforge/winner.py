"""After the search: retrain the winner, evaluate it once on the test split, export and describe it.

In a Pareto search there is no single winner: the run's front (:func:`~nasforge.pareto.front_of`) is named in
``best.json``, and up to ``front`` of its points, spread along it, are retrained and tested once each. The point
best in the objective's first validation metric is the one exported as ``best.*``; any other is exported with
``nasforge export --trial ID``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import ConfigError, NasforgeError
from nasforge.objective import COSTS
from nasforge.pareto import front_of, pareto_order
from nasforge.rerank import AUTO_SHARE, from_scratch, mean_scores
from nasforge.run import Run, derive_seed
from nasforge.trial import Trial, rank_key, training_seconds

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "AUTO_SEEDS",
    "Best",
    "check_seeds",
    "final_seed",
    "final_seeds",
    "report_winner",
    "spread_front",
    "winner_of",
]

AUTO_SEEDS = 3
"""Final retrainings of the winner under ``final.seeds: auto`` where they fit (see :func:`final_seeds`)."""


@dataclass
class Best:
    """The architecture a run returns (:func:`winner_of`), retrained and tested once; in a Pareto search ``front``
    holds the points of the front that were retrained and tested too.

    With several final seeds, ``test`` is the mean over the retrainings and ``test_seeds`` holds each one's
    metrics, the first being those of ``model``, the one exported.
    """

    trial: Trial
    arch: Hashable
    test: Mapping[str, float]
    model: nn.Module | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    front: list[dict[str, Any]] = field(default_factory=list)
    front_trials: list[Trial] = field(default_factory=list)  # the whole front (a Pareto search)
    test_seeds: list[dict[str, float]] = field(default_factory=list)
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
    seeds: int | str = 1,
) -> Best:
    """Retrain ``trial`` (default: the best by validation) on train+validation, test it once, export it.

    Writes ``<stem>.json`` and, when the evaluator produced a model, ``<stem>.pt`` and a verified
    ``<stem>.onnx`` into ``out_dir``. ``data`` (:meth:`~nasforge.data.Splits.describe`) goes into the JSON as
    ``"data"``: the input scaler, tokenizer and target scaler that new inputs must pass through. In a Pareto
    search with ``front > 0``, up to ``front`` points of the run's front (``trial`` among them) are retrained
    and tested too, and ``best.json`` names the whole front. ``seeds`` retrainings of the winner (``auto``: see
    :func:`final_seeds`) give its test mean and spread; the first seed's model is the one exported, because
    choosing the seed by its test score would make the score reported for it optimistic. A later retraining that
    fails is a warning and a ``test_failed_seeds`` entry, the mean taken over the others: the exported model and
    its test stand.
    """
    points = front_of(run.trials, run.objective) if run.objective.multi else []
    trial = trial or winner_of(run, points)
    if trial is None:
        raise NasforgeError("no trial finished, so there is no winner to report (see the failed trials' errors)")
    arch = run.space.from_string(trial.arch)
    count = final_seeds(seeds, trial, run.elapsed_before)
    report = run.evaluator.final_test(arch, final_seed(run, trial))  # the model exported: its failure is final
    reports, failed = [report], []
    for k in range(1, count):
        seed = final_seed(run, trial, k)
        try:
            reports.append(run.evaluator.final_test(arch, seed))
        except Exception as exc:  # one more retraining diverged: the exported model and the others still stand
            failed.append({"seed": seed, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]})
            warnings.warn(
                f"final.seeds: retraining {k + 1} of {count} failed ({failed[-1]['error']}); the test mean is over "
                "the others",
                RuntimeWarning,
                stacklevel=2,
            )
    test = _mean([r.metrics for r in reports])
    best = Best(trial=trial, arch=arch, test=test, model=report.model, front_trials=points)
    if count > 1:
        best.test_seeds = [dict(r.metrics) for r in reports]
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
        **_spread(best.test_seeds),
        **({"test_failed_seeds": failed} if failed else {}),
        **_reranked(run),
        "timings": {k: v for k, v in trial.costs.items() if k.endswith("seconds")},
        "recipe": run.evaluator.recipe(),
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
    return dict(run.evaluator.final_test(arch, final_seed(run, trial)).metrics)


def _describe(trial: Trial) -> dict[str, Any]:
    return {
        "arch": trial.arch,
        "trial": trial.id,
        "validation": dict(trial.metrics),
        "costs": {k: v for k, v in trial.costs.items() if k in COSTS},
    }


def final_seeds(seeds: int | str, trial: Trial, search_seconds: float) -> int:
    """How many times the winner is retrained: ``seeds``, or under ``auto`` ``AUTO_SEEDS`` where those
    retrainings (on train+validation, about 4/3 of a trial's data) take at most ``AUTO_SHARE`` of the search's
    ``search_seconds``, else one: a 300 s search of one-second trials gets three, a search of a few long
    trainings one, and an evaluator that records no training time (a table) one. A promotion's time covers only
    the epochs it added to its parent's; a retraining trains them all."""
    if seeds != "auto":
        return int(seeds)
    cost = AUTO_SEEDS * from_scratch(trial) * training_seconds(trial) * 4 / 3
    return AUTO_SEEDS if 0 < cost <= AUTO_SHARE * search_seconds else 1


def check_seeds(seeds: object) -> int | str:
    """The config's ``final.seeds`` as given, or a one-line error: ``auto`` or a count >= 1."""
    if seeds != "auto" and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
        raise ConfigError(f"final.seeds: must be 'auto' or an integer >= 1, got {seeds!r}")
    return seeds  # type: ignore[return-value]


def final_seed(run: Run, trial: Trial, k: int = 0) -> int:
    """The seed of the ``k``-th final retraining of ``trial`` (the first one's is the seed used before seeds
    could be several, so older runs export the same model)."""
    return derive_seed(run.seed, 2, trial.id) if k == 0 else derive_seed(run.seed, 2, trial.id, k)


def _mean(metrics: Sequence[Mapping[str, float]]) -> dict[str, float]:
    return {k: sum(m[k] for m in metrics) / len(metrics) for k in metrics[0]}


def _spread(per_seed: Sequence[Mapping[str, float]]) -> dict[str, Any]:
    """``test_std`` and ``test_seeds`` for ``best.json`` when the winner was retrained with several seeds."""
    if len(per_seed) < 2:
        return {}
    import statistics

    std = {k: statistics.stdev(m[k] for m in per_seed) for k in per_seed[0]}
    return {"test_std": std, "test_seeds": [dict(m) for m in per_seed]}


def _reranked(run: Run) -> dict[str, Any]:
    """The re-ranked leaders for ``best.json`` in the run's order (:meth:`Run.top`: best mean first, a tie broken
    as it was when the winner was chosen), each with its scores over its seeds and its failed repeats."""
    means = mean_scores(run.trials)
    if not means:
        return {}
    rows = []
    for t in run.top():
        if t.id in means:
            mean, scores, failed = means[t.id]
            rows.append({"trial": t.id, "arch": t.arch, "mean": mean, "scores": scores, "failed": failed})
    return {"rerank": rows}
