"""The run commands: search, resume, show, pareto, export, report and compare."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nasforge.exceptions import ConfigError, NasforgeError, StoreError

if TYPE_CHECKING:
    from nasforge.config import Config
    from nasforge.store import SQLiteStore

__all__ = ["compare", "export", "pareto", "report", "resume", "search", "show"]

RunDir = Annotated[Path, typer.Argument(help="A run directory (holds store.sqlite).", show_default=False)]
Workers = Annotated[
    int | None, typer.Option("--workers", min=1, help="Trials at once, in worker processes [executor: in the config].")
]
DaskAddress = Annotated[
    str | None,
    typer.Option("--dask-address", help="Run trials on the Dask scheduler at this address (tcp://HOST:8786)."),
]


def search(
    config: Annotated[Path, typer.Argument(help="YAML config (see examples/).", show_default=False)],
    run_dir: Annotated[Path | None, typer.Option("--run-dir", help="Where to write the run [runs/<name>].")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    workers: Workers = None,
    dask_address: DaskAddress = None,
) -> None:
    """Search architectures, then retrain the winner, test it once and export it."""
    from nasforge.config import load_config

    cfg = _with_executor(load_config(config), workers, dask_address)
    run_dir = run_dir or Path("runs") / cfg.name
    if (run_dir / "store.sqlite").exists():
        raise ConfigError(
            f"--run-dir: {run_dir} already holds a run; continue it with 'nasforge resume {run_dir}' "
            "or choose another --run-dir"
        )
    _execute(cfg, run_dir, quiet)


def resume(
    run_dir: RunDir,
    trials: Annotated[int | None, typer.Option(min=1, help="Raise the trial budget to this many.")] = None,
    seconds: Annotated[float | None, typer.Option(min=1, help="Raise the time budget to this many seconds.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    workers: Workers = None,
    dask_address: DaskAddress = None,
) -> None:
    """Continue a stopped run; finished trials are never redone."""
    from nasforge.config import parse_config

    store = _open(run_dir)
    stored = store.get_meta("config")
    store.close()
    if stored is None:
        raise StoreError(
            f"{run_dir}: this run was started from Python; resume it by calling nasforge.search() "
            "again with the same run_dir"
        )
    budget = stored.setdefault("budget", {})
    budget.update({k: v for k, v in (("trials", trials), ("seconds", seconds)) if v is not None})
    _execute(_with_executor(parse_config(stored), workers, dask_address), run_dir, quiet)


def _with_executor(cfg: Config, workers: int | None, dask_address: str | None) -> Config:
    """The config with ``--workers`` / ``--dask-address`` applied over its ``executor:`` block."""
    from nasforge.config import parse_executor

    if workers is None and dask_address is None:
        return cfg
    block = cfg.executor.model_dump(exclude_none=True)
    if dask_address is not None:  # the cluster has its own workers and retries: the config's were for others
        block = {k: v for k, v in block.items() if k not in ("workers", "retries")}
        block.update(type="dask", address=dask_address)
    elif block["type"] != "dask":
        block["type"] = "processes" if workers > 1 else "local"
    if workers is not None:
        block["workers"] = workers
    return cfg.model_copy(update={"executor": parse_executor(block)})


def _execute(cfg: Config, run_dir: Path, quiet: bool) -> None:
    from nasforge.api import components_from_config, search
    from nasforge.cli._display import Display
    from nasforge.tracking import tracking_callbacks

    display = Display(quiet=quiet)
    tracking = tracking_callbacks(run_dir, cfg.report.tensorboard, cfg.report.mlflow)  # a missing extra: one line
    with display.status("loading data and building the search"):
        components = components_from_config(cfg)
    display.header(cfg, components, run_dir)
    try:
        run = search(
            **components,
            run_dir=run_dir,
            callbacks=[display.progress(components["budget"], components["objective"]), *tracking],
            config=_with_absolute_path(cfg).model_dump(mode="json"),
        )
    except KeyboardInterrupt:  # typer would turn it into a silent exit 130
        print(f"stopped: every finished trial is stored; continue with 'nasforge resume {run_dir}'", file=sys.stderr)
        raise typer.Exit(130) from None
    display.winner(run)


def _with_absolute_path(cfg: Config) -> Config:
    """The config to store: its data file's path absolute (it was read from the current directory), so that
    ``resume`` and ``export`` find the same file from any directory."""
    if cfg.data.path is None:
        return cfg
    return cfg.model_copy(update={"data": cfg.data.model_copy(update={"path": str(Path(cfg.data.path).resolve())})})


def show(
    run_dir: RunDir,
    top: Annotated[int, typer.Option(min=1, help="How many of the best trials to list.")] = 10,
    all_trials: Annotated[bool, typer.Option("--all", help="List every trial in id order, with failures.")] = False,
    trial: Annotated[
        int | None, typer.Option("--trial", help="Show one trial in full, with its learning curve.")
    ] = None,
) -> None:
    """Show a run's trials as a table (any run, finished or not), or one trial with its learning curve."""
    from nasforge.cli._display import Display

    store = _open(run_dir)
    try:
        if trial is None:
            Display().run_summary(store, top=None if all_trials else top, run_dir=run_dir)
            return
        found = {t.id: t for t in store.trials()}
        if trial not in found:
            raise NasforgeError(f"--trial: no trial with id {trial} in {run_dir} (ids 1-{len(found)})")
        Display().trial(found[trial])
    finally:
        store.close()


def pareto(
    run_dir: RunDir,
    objectives: Annotated[
        str | None,
        typer.Option(help="Comma-separated objectives [the run's own when it has several, else the metric,params]."),
    ] = None,
) -> None:
    """The run's non-dominated trials as a table, and RUN_DIR/pareto.png; export any of them with --trial."""
    from nasforge.cli._display import Display
    from nasforge.objective import Objective
    from nasforge.pareto import front_of
    from nasforge.report import plot_pareto

    store = _open(run_dir)
    try:
        objective = Objective(**(store.get_meta("search") or {}).get("objective", {}))
        trials = store.trials()
        tested = set((store.get_meta("final") or {}).get("front", []))
    finally:
        store.close()
    if objectives is not None:
        names = tuple(n.strip() for n in objectives.split(",") if n.strip())
        if len(names) < 2:
            raise ConfigError(
                f"--objectives: two or more names, comma-separated (e.g. accuracy,params), got {objectives!r}"
            )
        try:
            objective = Objective(metrics=names)
        except ConfigError as exc:
            raise ConfigError(f"--objectives: {str(exc).removeprefix('objective.metrics: ')}") from None
    elif not objective.multi:
        objective = Objective(metrics=(objective.metric, "params"))
    front = front_of(trials, objective)
    if not front:
        raise NasforgeError(f"{run_dir}: no finished trial has {', '.join(objective.names)} yet")
    returned = [t for t in trials if t.id in tested]  # a finished Pareto run's retrained and tested points
    path = plot_pareto(trials, front, objective, run_dir / "pareto.png", returned)
    Display().pareto(front, objective, path)


def export(
    run_dir: RunDir,
    trial: Annotated[int | None, typer.Option("--trial", help="Trial id to export [the best].")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory [RUN_DIR/trial-<id>].")] = None,
) -> None:
    """Retrain a trial's architecture on train+validation, test it once and export .pt/.onnx/.json."""
    from nasforge.api import export_trial
    from nasforge.cli._display import Display
    from nasforge.config import parse_config

    store = _open(run_dir)
    stored = store.get_meta("config")
    store.close()
    if stored is None:
        raise StoreError(f"{run_dir}: this run was started from Python; export from Python with nasforge.export_trial")
    best = export_trial(parse_config(stored), run_dir, trial_id=trial, out_dir=out)
    Display().exported(best)


def report(
    run_dir: RunDir,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Where to write it [RUN_DIR/report.html].")] = None,
) -> None:
    """Write the run's report: one self-contained HTML file (no network, opens offline), and its figures as PNGs
    in RUN_DIR. Works for a run that is still going or was interrupted."""
    from nasforge.report import write_report

    written = write_report(run_dir, out)
    print(f"wrote {written.pop('report')} and {len(written)} figures in {run_dir}: {', '.join(written)}")


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories.", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the plot.")] = Path("compare.png"),
) -> None:
    """Runs side by side: best-so-far over trials and over wall-clock in one plot (seeds of one setup as their
    mean and range), and a table of how each setup ended."""
    from nasforge.cli._display import Display
    from nasforge.report import compare_runs

    path, setups = compare_runs(run_dirs, out)
    Display().compared(setups, path)


def _open(run_dir: Path) -> SQLiteStore:
    from nasforge.api import STORE_FILE
    from nasforge.store import SQLiteStore

    path = run_dir / STORE_FILE
    if not path.is_file():
        raise StoreError(f"{run_dir}: no nasforge run here ({STORE_FILE} is missing)")
    return SQLiteStore(path)
