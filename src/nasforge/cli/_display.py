"""Everything the CLI prints: header, live progress, the top-k table, the winner and what was written."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from nasforge.budget import Budget
from nasforge.callbacks import Callback
from nasforge.objective import TASK_METRICS, Objective
from nasforge.rerank import mean_scores
from nasforge.run import MAX_REJECTED_IN_A_ROW
from nasforge.trial import Trial, TrialState, failure_summary, rank_key

__all__ = ["Display", "trials_table"]


def _num(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1e4:
        for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
            if abs(value) >= scale:
                return f"{value / scale:.2f}{unit}"
    return f"{value:.{digits}f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:g}"


def _status(trial: Trial) -> str:
    if trial.state is TrialState.FAILED:
        return f"failed: {(trial.error or '').splitlines()[0]}"
    if trial.state is TrialState.PRUNED:
        return f"pruned at epoch {_num(trial.costs.get('epochs'))}"
    if trial.repeat_of is not None:
        return f"{trial.state.value} (#{trial.repeat_of} again, another seed)"
    return trial.state.value


def _metric_names(points: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The validation metrics these trials (or curve points) report: a regression's, or a classification's."""
    regression = any("mse" in point for point in points)
    return TASK_METRICS["regression" if regression else "classification"]


def trials_table(trials: Sequence[Trial], title: str) -> Table:
    """Trials with their validation metrics and costs, in the order given."""
    table = Table(title=title, title_justify="left")
    metrics = _metric_names([t.metrics for t in trials])
    for name, justify in (
        ("#", "right"),
        ("trial", "right"),
        ("status", "left"),
        ("epochs", "right"),
        *((m, "right") for m in metrics),
        ("params", "right"),
        ("FLOPs", "right"),
        ("seconds", "right"),
        ("architecture", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for rank, t in enumerate(trials, start=1):
        seconds = (t.finished_at - t.started_at) if t.finished_at and t.started_at else None
        status = _status(t)
        table.add_row(
            str(rank),
            str(t.id) if t.parent is None else f"{t.id} (from {t.parent})",
            status,
            _num(t.costs.get("epochs")),
            *(_num(t.metrics.get(m)) for m in metrics),
            _num(t.costs.get("params")),
            _num(t.costs.get("flops")),
            _num(seconds, 1),
            t.arch,
        )
    return table


def _stopping(spec: dict[str, Any] | None, epochs: int) -> str:
    from nasforge.fidelity import make_fidelity

    stopper, scheduler = make_fidelity(spec, None, epochs)
    chosen = stopper or scheduler
    return f", {chosen.describe()}" if chosen else ""


def curve_table(trial: Trial) -> Table:
    """A trial's learning curve: the validation metrics after every epoch."""
    table = Table(title=f"Trial {trial.id} ({_status(trial)}): validation after each epoch", title_justify="left")
    metrics = _metric_names(trial.curve)
    for name in ("epoch", *metrics, "seconds"):
        table.add_column(name, justify="right")
    for point in trial.curve:
        table.add_row(_num(point.get("epoch")), *(_num(point.get(m)) for m in metrics), _num(point.get("seconds"), 1))
    return table


class _Progress(Callback):
    """Live bar (trial i of N, elapsed, the leading trial, ETA); one line per trial when not on a terminal.

    The leader is the trial the run would return now (``run.best_trial``: the objective's ranking, which may
    trade the metric against FLOPs), so the display names its metric and FLOPs, and also the highest raw
    metric when another trial holds it: a user then sees why ``0.9780`` leads while a ``0.9810`` finished.
    """

    def __init__(self, console: Console, budget: Budget, objective: Objective, quiet: bool) -> None:
        self.console, self.budget, self.objective, self.quiet = console, budget, objective, quiet
        self.best: Trial | None = None
        self.top: Trial | None = None
        self.progress: Progress | None = None

    def on_search_start(self, run: Any) -> None:
        self.best = run.best_trial
        for trial in run.top():
            self._consider_top(trial)
        self.start = time.monotonic() - run.elapsed_before
        self.done = run.done
        self.known = len(run.trials)  # trials from before this search started (ids grow)
        self.console.print(f"ranking: {self.objective.describe()}; budget: {self.budget.describe()}")
        if run.done:
            self.console.print(f"resuming: {run.done} trials already done, none will be redone")
        if self.quiet or not self.console.is_terminal:
            return
        self.progress = Progress(
            TextColumn("[bold]trial {task.fields[trial]}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[leader]}"),
            console=self.console,
            transient=False,
        )
        self.task = self.progress.add_task("search", total=1.0, trial=self._count(), leader=self._leader())
        self.progress.start()
        self._update()

    def _count(self) -> str:
        return f"{self.done}/{self.budget.trials}" if self.budget.trials else str(self.done)

    def _leader(self) -> str:
        if self.best is None:
            return "leader -"
        metric = self.objective.metric
        text = f"leader #{self.best.id} {metric} {self._metric(self.best)}"
        if "flops" in self.objective.penalty and "flops" in self.best.costs:
            text += f" @ {_num(float(self.best.costs['flops']))} FLOPs"
        if self.top is not None and self.top.id != self.best.id:
            text += f" (highest {metric}: {self._metric(self.top)}, #{self.top.id})"
        return text

    def _metric(self, trial: Trial) -> str:
        return f"{trial.metrics[self.objective.metric]:.4f}"

    def _consider_top(self, trial: Trial) -> None:
        metric = self.objective.metric
        value = trial.metrics.get(metric)
        if value is not None and (self.top is None or self.objective.better(value, self.top.metrics[metric])):
            self.top = trial

    def _update(self) -> None:
        elapsed = time.monotonic() - self.start
        fraction = max(
            self.done / self.budget.trials if self.budget.trials else 0.0,
            elapsed / self.budget.seconds if self.budget.seconds else 0.0,
        )
        if self.progress is not None:
            self.progress.update(self.task, completed=min(fraction, 1.0), trial=self._count(), leader=self._leader())

    def on_trial_end(self, run: Any, trial: Trial) -> None:
        self.done += 1
        if trial.state is TrialState.FINISHED:
            if self.best is None or rank_key(trial) < rank_key(self.best):
                self.best = trial
            self._consider_top(trial)
        self._update()
        if self.progress is None and not self.quiet:
            value = "failed" if trial.score is None else self._metric(trial)
            if trial.state is TrialState.PRUNED:
                value += f" (pruned at epoch {_num(trial.costs.get('epochs'))})"
            elif trial.parent is not None:
                value += f" ({_num(trial.costs.get('epochs'))} epochs, promoted from #{trial.parent})"
            elif trial.repeat_of is not None:
                value += f" (re-ranking: #{trial.repeat_of} with another seed)"
            self.console.print(
                f"trial {self._count()}  {self.objective.metric} {value}  {self._leader()}  "
                f"{time.monotonic() - self.start:.0f}s  {trial.arch}",
                highlight=False,
            )

    def on_search_end(self, run: Any, reason: str) -> None:
        if self.progress is not None:
            self._update()
            self.progress.stop()
        why = {
            "trials": f"trial budget of {self.budget.trials} spent",
            "seconds": f"time budget of {self.budget.seconds or 0:g} s spent",
            "exhausted": "every architecture of the space evaluated",
            "interrupted": "interrupted",
            "infeasible": f"{MAX_REJECTED_IN_A_ROW} architectures in a row broke the constraints",
            "failures": f"too many trials failed, budget.max_failures {self.budget.max_failures:g}",
        }.get(reason, reason)
        elapsed = time.monotonic() - self.start
        states = [t.state for t in run.trials]
        pruned, rejected = states.count(TrialState.PRUNED), states.count(TrialState.REJECTED)
        trials = f"{run.done} trials ({pruned} pruned)" if pruned else f"{run.done} trials"
        if rejected:
            trials += f"; {rejected} architectures over the constraints rejected before training"
        cut = states[self.known :].count(TrialState.INTERRUPTED) if reason != "interrupted" else 0
        if cut:
            trials += f"; {cut} cut by the time budget (not counted; a resume given more time trains them again)"
        self.console.print(f"search stopped ({why}) after {trials} in {elapsed:.0f} s")
        failed = states.count(TrialState.FAILED)
        if failed:
            self.console.print(f"{failed} failed: {failure_summary(run.trials)}", highlight=False)
        if reason != "interrupted" and run.top(5):
            self.console.print(trials_table(run.top(5), f"Top 5 by {self.objective.describe()}"))
            self.console.print(
                "retraining the winner on train+validation (several times where that is cheap: final.seeds), "
                "each retraining then evaluated once on the test split"
            )


class Display:
    """The CLI's output in one place, so that commands stay short."""

    def __init__(self, quiet: bool = False) -> None:
        self.console = Console(highlight=False)
        if not self.console.is_terminal:  # logs and CI: no wrapping of long architecture strings
            self.console = Console(highlight=False, width=240)
        self.quiet = quiet

    def status(self, message: str) -> AbstractContextManager[Any]:
        return nullcontext() if self.quiet or not self.console.is_terminal else self.console.status(message)

    def header(self, cfg: Any, parts: dict[str, Any], run_dir: Path) -> None:
        data, space = parts["data"], parts["space"]
        size = getattr(space, "size", None)
        self.console.print(
            f"[bold]nasforge[/] {cfg.name}: {space.name} space ({_num(float(size)) if size else '?'} architectures) "
            f"on {data.name} {tuple(data.input_shape)} x {len(data)} samples, {parts['strategy'].name}, "
            f"budget {parts['budget'].describe()}{_stopping(parts['fidelity'], parts['trainer'].epochs)}; "
            f"trials run {parts['executor'].describe()}; run dir {run_dir}"
        )

    def progress(self, budget: Budget, objective: Objective) -> Callback:
        return _Progress(self.console, budget, objective, self.quiet)

    def winner(self, run: Any) -> None:
        best = run.best
        test = "  ".join(f"{k} {_num(v)}" for k, v in best.test.items())
        how = "once, after retraining on train+validation"
        if best.test_seeds:
            spread = statistics.stdev(s[run.objective.metric] for s in best.test_seeds)
            test += f" (+- {_num(spread)} in {run.objective.metric})"
            how = f"the mean of {len(best.test_seeds)} retrainings on train+validation, each tested once"
        reranked = mean_scores(run.trials).get(best.trial.id)
        valid = _num(best.metrics.get(run.objective.metric))
        if reranked:
            failed = f", {reranked.failed} failed" if reranked.failed else ""
            valid += f" (re-ranked: mean score {_num(reranked.mean)} over {len(reranked.scores)} seeds{failed})"
        costs = best.costs
        self.console.print(
            f"[bold]winner[/] trial {best.trial.id}: {best.trial.arch}\n"
            f"  validation {run.objective.metric} {valid}; test ({how}): {test}\n"
            f"  params {_num(costs.get('params'))}, FLOPs {_num(costs.get('flops'))}"
        )
        if best.front:  # a Pareto search: the points retrained and tested, in order of the first objective
            self.console.print(f"Pareto front: {len(best.front)} points retrained and tested once each")
            for point in best.front:
                values = ", ".join(
                    f"{n} {_num(point['costs'].get(n, point['validation'].get(n)))}" for n in run.objective.names
                )
                test = "  ".join(f"{k} {_num(v)}" for k, v in point["test"].items())
                self.console.print(f"  trial {point['trial']}: {values}; test {test}")
        self.console.print("wrote " + ", ".join(str(p) for p in best.paths.values()))

    def exported(self, best: Any) -> None:
        test = "  ".join(f"{k} {_num(v)}" for k, v in best.test.items())
        self.console.print(f"trial {best.trial.id} retrained on train+validation; test: {test}")
        self.console.print("wrote " + ", ".join(str(p) for p in best.paths.values()))

    def pareto(self, front: Sequence[Trial], objective: Objective, path: Path) -> None:
        """The non-dominated trials, best first in the first objective, and where the plot went."""
        pairs = zip(objective.names, objective.directions, strict=True)
        title = "Pareto front of " + ", ".join(f"{n} ({d})" for n, d in pairs)
        self.console.print(trials_table(front, f"{title}: {len(front)} trials"))
        self.console.print(f"wrote {path}; export one with 'nasforge export RUN_DIR --trial ID'")

    def compared(self, setups: Sequence[Any], path: Path) -> None:
        """One row per setup: its runs, finished trials, best validation and test values (mean +- sd over seeds)."""
        table = Table(title="Runs compared (mean +- sd where a setup has several seeds)")
        for head in ("setup", "runs", "finished trials", "best validation", "test", "search s"):
            table.add_column(head, justify="left" if head == "setup" else "right")
        for s in setups:
            table.add_row(
                s.label,
                str(len(s.runs)),
                ", ".join(map(str, s.trials)),
                s.summary(s.best),
                s.summary(s.test),
                ", ".join(f"{x:.0f}" for x in s.seconds),
            )
        self.console.print(table)
        self.console.print(f"wrote {path}")

    def trial(self, trial: Trial) -> None:
        """One trial in full: status, architecture, metrics, costs and its learning curve."""
        self.console.print(trials_table([trial], f"Trial {trial.id}"))
        if trial.error:  # why it failed (with the traceback), was pruned or interrupted
            self.console.print(trial.error, markup=False)
        if trial.curve:
            self.console.print(curve_table(trial))
        else:
            self.console.print("no learning curve stored for this trial")

    def run_summary(self, store: Any, top: int | None, run_dir: Path) -> None:
        trials = store.trials()
        counts = {s: sum(t.state is s for t in trials) for s in TrialState}
        self.console.print(
            f"{run_dir}: {len(trials)} trials (" + ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) + ")"
        )
        if top is None:
            self.console.print(trials_table(trials, "All trials"))
        else:
            finished = sorted((t for t in trials if t.state is TrialState.FINISHED), key=rank_key)
            objective = Objective(**(store.get_meta("search") or {}).get("objective", {}))
            self.console.print(trials_table(finished[:top], f"Top {top} by {objective.describe()}"))
        final = store.get_meta("final")
        if final:
            test = "  ".join(f"{k} {_num(v)}" for k, v in final["test"].items())
            self.console.print(f"winner: trial {final['trial']}, test after retraining: {test}")
