"""A search in the tools practitioners already watch: TensorBoard and MLflow, each an optional extra
(``pip install 'nasforge[tensorboard]'``, ``'nasforge[mlflow]'``), neither installed by default.

Both are :class:`~nasforge.callbacks.Callback` s: pass them to :func:`nasforge.search` (``callbacks=[...]``), or
turn them on in the config (``report: {tensorboard: true, mlflow: true}``). They run in the driver, after a
trial is stored, so a tracking server that is slow or down costs time but never a trial; and a tracker that
fails (a server down, a directory it cannot write, a value it refuses) is a warning, never the end of the
search: the runner calls callbacks without catching, so each hook here catches its own errors.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from nasforge.callbacks import Callback, failure_as_warning
from nasforge.exceptions import ConfigError
from nasforge.trial import Trial, TrialState

if TYPE_CHECKING:
    from nasforge.run import Run
    from nasforge.winner import Best

__all__ = ["MLflowCallback", "TensorBoardCallback", "tracking_callbacks"]


def _require(module: str, extra: str, field: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"{field}: needs the {module} package; install it with pip install 'nasforge[{extra}]'")


_Hook = TypeVar("_Hook", bound=Callable[..., None])


def _tolerant(hook: _Hook) -> _Hook:
    """``hook`` with its errors turned into a warning naming the tracker's config key: the search goes on."""

    @functools.wraps(hook)
    def guarded(self: Any, *args: Any) -> None:
        with failure_as_warning(f"{self.field}: {hook.__name__} failed"):  # whatever the library or server raises
            hook(self, *args)

    return guarded  # type: ignore[return-value]


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class TensorBoardCallback(Callback):
    """Scalars per trial (``trial/<metric>``, ``trial/<cost>`` and ``search/best_score`` at step = trial id),
    per epoch (``curve/<metric>/trial_<id>`` at step = epoch) and the winner's graph, in ``log_dir``."""

    field: ClassVar[str] = "report.tensorboard"

    def __init__(self, log_dir: str | Path) -> None:
        _require("tensorboard", "tensorboard", self.field)
        self.log_dir = Path(log_dir)
        self._writer: Any = None
        self._best: float | None = None

    @_tolerant
    def on_search_start(self, run: Run) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(str(self.log_dir))

    @_tolerant
    def on_trial_end(self, run: Run, trial: Trial) -> None:
        writer = self._writer
        if writer is None or trial.state is not TrialState.FINISHED or trial.score is None:
            return
        for name, value in {**_numbers(dict(trial.metrics)), **_numbers(dict(trial.costs))}.items():
            writer.add_scalar(f"trial/{name}", value, trial.id)
        self._best = trial.score if self._best is None else max(self._best, trial.score)
        writer.add_scalar("search/best_score", self._best, trial.id)
        for point in trial.curve:
            for name, value in _numbers(point).items():
                if name not in ("epoch", "seconds"):
                    writer.add_scalar(f"curve/{name}/trial_{trial.id:05d}", value, int(point["epoch"]))
        writer.flush()

    @_tolerant
    def on_search_end(self, run: Run, reason: str) -> None:
        if self._writer is not None:
            self._writer.flush()

    @_tolerant
    def on_final(self, run: Run, best: Best) -> None:
        import torch

        writer = self._writer
        if writer is None:
            return
        try:
            if best.model is not None:
                shape = tuple(run.evaluator.input_shape)  # type: ignore[attr-defined]
                dtype = torch.long if getattr(run.space, "kind", "") == "tokens" else torch.float32
                model = copy.deepcopy(best.model).cpu().eval()  # traced on a copy: the caller's model stays put
                writer.add_graph(model, torch.ones((1, *shape), dtype=dtype))
        finally:
            writer.close()


class MLflowCallback(Callback):
    """One MLflow run per search (its space, strategy and seed as parameters), a nested run per trial (its
    architecture, state, metrics, costs, and its learning curve as metric steps), and at the end the winner's
    test metrics and files (``best.pt``, ``best.onnx``, ``best.json``, the report) as artifacts."""

    field: ClassVar[str] = "report.mlflow"

    def __init__(self, tracking_uri: str | None = None, experiment: str = "nasforge") -> None:
        _require("mlflow", "mlflow", self.field)
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_id: str | None = None

    @_tolerant
    def on_search_start(self, run: Run) -> None:
        import mlflow

        if self.tracking_uri is not None:
            mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_experiment(self.experiment)  # once: every later call logs under the search's run id
        # ended on the way out even when a call fails, or every later start_run would find a run still active
        with mlflow.start_run(run_id=self.run_id) if self.run_id else mlflow.start_run(run_name="search") as parent:
            self.run_id = parent.info.run_id
            identity = run.store.get_meta("search") or {}
            if mlflow.get_run(self.run_id).data.params == {}:
                mlflow.log_params(
                    {
                        "space": (identity.get("space") or {}).get("type"),
                        "strategy": (identity.get("strategy") or {}).get("name"),
                        "objective": run.objective.describe(),
                        "seed": identity.get("seed"),
                    }
                )

    @_tolerant
    def on_trial_end(self, run: Run, trial: Trial) -> None:
        import mlflow

        with mlflow.start_run(run_id=self.run_id), mlflow.start_run(run_name=f"trial {trial.id}", nested=True):
            mlflow.log_params({"arch": trial.arch, "state": trial.state.value, "seed": trial.seed})
            mlflow.log_metrics({**_numbers(dict(trial.metrics)), **_numbers(dict(trial.costs))})
            for point in trial.curve:
                values = {k: v for k, v in _numbers(point).items() if k not in ("epoch", "seconds")}
                mlflow.log_metrics(values, step=int(point["epoch"]))
            if trial.error:
                mlflow.set_tag("error", trial.error[:5000])
        if trial.state is TrialState.FINISHED and trial.score is not None:
            with mlflow.start_run(run_id=self.run_id):
                mlflow.log_metric("best_score", max(t.score for t in run.top(1)), step=trial.id)

    @_tolerant
    def on_final(self, run: Run, best: Best) -> None:
        import mlflow

        with mlflow.start_run(run_id=self.run_id):
            mlflow.log_param("winner", best.trial.arch)
            mlflow.log_metrics({f"test_{k}": float(v) for k, v in best.test.items()})
            for path in best.paths.values():
                if path.suffix in (".pt", ".onnx", ".json", ".html"):
                    mlflow.log_artifact(str(path), artifact_path="winner")


def tracking_callbacks(run_dir: Path | None, tensorboard: bool | str, mlflow: bool | str) -> list[Callback]:
    """The callbacks a config's ``report:`` block asks for: TensorBoard in ``RUN_DIR/tensorboard`` (or the
    directory given), MLflow at its default tracking URI (``MLFLOW_TRACKING_URI``, else ``mlflow.db`` here; or the one
    given)."""
    callbacks: list[Callback] = []
    if tensorboard:
        if tensorboard is True and run_dir is None:
            raise ConfigError("report.tensorboard: give a directory, or search with a run directory")
        callbacks.append(TensorBoardCallback(run_dir / "tensorboard" if tensorboard is True else Path(tensorboard)))
    if mlflow:
        callbacks.append(MLflowCallback(None if mlflow is True else str(mlflow)))
    return callbacks
