"""After the search: retrain the winner, evaluate it once on the test split, export and describe it."""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import NasforgeError
from nasforge.run import Run, derive_seed
from nasforge.trial import Trial

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Best", "report_winner"]


@dataclass
class Best:
    """The architecture a run returns: the best validation score (metric with FLOPs penalty), retrained, tested once."""

    trial: Trial
    arch: Hashable
    test: Mapping[str, float]
    model: nn.Module | None = None
    paths: dict[str, Path] = field(default_factory=dict)
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
) -> Best:
    """Retrain ``trial`` (default: the best by validation) on train+validation, test it once, export it.

    Writes ``<stem>.json`` and, when the evaluator produced a model, ``<stem>.pt`` and a verified
    ``<stem>.onnx`` into ``out_dir``.
    """
    trial = trial or run.best_trial
    if trial is None:
        raise NasforgeError("no trial finished, so there is no winner to report (see the failed trials' errors)")
    arch = run.space.from_string(trial.arch)
    report = run.evaluator.final_test(arch, derive_seed(run.seed, 2, trial.id))
    best = Best(trial=trial, arch=arch, test=dict(report.metrics), model=report.model)
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
        "arch": trial.arch,
        "trial": trial.id,
        "validation": dict(trial.metrics),
        "test": best.test,
        "costs": {k: v for k, v in trial.costs.items() if k in ("params", "flops")},
        "timings": {k: v for k, v in trial.costs.items() if k.endswith("seconds")},
        "export": exported,
        "search": {"trials": run.done, "seconds": round(run.elapsed_before, 1), "stopped_by": run.stop_reason},
        "config": dict(config or {}),
    }
    json_path = out_dir / f"{stem}.json"
    write_best_json(json_path, payload)
    best.paths["json"] = json_path
    return best
