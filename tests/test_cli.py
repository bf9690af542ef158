"""The CLI as users run it: real subprocesses, real data, tiny budgets."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil  # comes with Dask distributed
import pytest

TINY = """
name: tiny
seed: 1
data: {builtin: digits}
space: {type: chain, depth: [1, 2]}
strategy: {name: evolution, population: 3, sample: 2}
train: {epochs: 1}
budget: {trials: TRIALS}
"""


def nasforge(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "nasforge", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_config(tmp_path: Path, trials: int) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("TRIALS", str(trials)))
    return path


def finished(store: Path) -> list[tuple[int, str]]:
    if not store.exists():
        return []
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute("SELECT id, arch FROM trials WHERE status = 'finished' ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_help_does_not_import_torch():
    code = "import sys; from nasforge.cli import app; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("data: {builtin: digits}\nbudget: {trials: 0}\n", "error: budget.trials: must be >= 1, got 0"),
        ("data: {builtin: digts}\n", "error: data.builtin: unknown dataset 'digts'; did you mean 'digits'"),
        ("data: {builtin: digits}\nstrategy: {name: evolution, population: 0}\n", "error: strategy.population"),
        ("data: {path: nowhere.npz}\n", "error: data.path: file not found"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, config, message):
    (tmp_path / "bad.yaml").write_text(config)
    proc = nasforge("search", "bad.yaml", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(message), proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_search_show_export(tmp_path):
    write_config(tmp_path, trials=3)
    out = nasforge("search", "tiny.yaml", cwd=tmp_path).stdout
    run_dir = tmp_path / "runs" / "tiny"
    assert "Top 5 by validation" in out and "winner" in out
    best = json.loads((run_dir / "best.json").read_text())
    assert {"arch", "validation", "test", "costs", "config"} <= best.keys()
    assert {"accuracy", "f1", "loss"} <= best["test"].keys() and best["costs"]["params"] > 0
    assert best["export"]["onnx_max_abs_diff"] < 1e-4
    import torch

    state = torch.load(run_dir / "best.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert (run_dir / "progress.png").stat().st_size > 0

    shown = nasforge("show", str(run_dir), "--top", "2", cwd=tmp_path).stdout
    assert "3 trials (3 finished)" in shown and "Top 2" in shown
    assert not (run_dir / "curves.png").exists(), "one epoch each: no curve to draw"
    assert "Trials" in (run_dir / "report.html").read_text()
    one = nasforge("show", str(run_dir), "--trial", "2", cwd=tmp_path).stdout
    assert "Trial 2 (finished): validation after each epoch" in one and "no learning curve" not in one
    missing = nasforge("show", str(run_dir), "--trial", "9", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "--trial: no trial with id 9" in missing.stderr

    again = nasforge("search", "tiny.yaml", cwd=tmp_path, check=False)
    assert again.returncode == 2 and "already holds a run" in again.stderr

    front = nasforge("pareto", str(run_dir), cwd=tmp_path).stdout
    assert "Pareto front of accuracy (max), params (min)" in front and (run_dir / "pareto.png").stat().st_size > 0
    bad_names = nasforge("pareto", str(run_dir), "--objectives", "accuracy,speed", cwd=tmp_path, check=False)
    assert bad_names.returncode == 2 and bad_names.stderr.startswith("error: --objectives: each must be one of")
    no_names = nasforge("pareto", str(run_dir), "--objectives", ",", cwd=tmp_path, check=False)
    assert no_names.returncode == 2 and no_names.stderr.startswith("error: --objectives: two or more names")

    trial_id = finished(run_dir / "store.sqlite")[-1][0]
    nasforge("export", str(run_dir), "--trial", str(trial_id), cwd=tmp_path)
    assert (run_dir / f"trial-{trial_id}" / "model.onnx").exists()
    bad = nasforge("export", str(run_dir), "--trial", "99", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "--trial: no finished trial with id 99" in bad.stderr


# in this process: slow, as test_crash_safety's five kills cover it in the default suite
@pytest.mark.parametrize("workers", [pytest.param(None, marks=pytest.mark.slow), "2"])
def test_sigkill_then_resume_keeps_every_finished_trial(tmp_path, workers):
    trials = 8
    write_config(tmp_path, trials)
    store = tmp_path / "runs" / "tiny" / "store.sqlite"
    parallel = ["--workers", workers] if workers else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasforge", "search", "tiny.yaml", "--quiet", *parallel],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while len(finished(store)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    children = _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = finished(store)
    assert 3 <= len(before) < trials, "the kill must land mid-search"
    assert _outlive(children, seconds=30) == [], "worker processes must not outlive a killed driver"

    nasforge("resume", str(store.parent), "--quiet", *parallel, cwd=tmp_path)
    after = finished(store)
    assert after[: len(before)] == before, "finished trials are kept as they were"
    assert len(after) == trials, "the resumed run reaches the same trial count as an uninterrupted one"
    assert len({arch for _, arch in after}) == trials, "no architecture was evaluated twice"


# one worker: slow, as two workers take the same path with more to stop
@pytest.mark.parametrize("workers", [pytest.param("1", marks=pytest.mark.slow), "2"])
def test_ctrl_c_is_one_line_stops_the_workers_and_leaves_no_trial_running(tmp_path, workers):
    write_config(tmp_path, 8)
    store = tmp_path / "runs" / "tiny" / "store.sqlite"
    proc = subprocess.Popen(  # a session of its own: Ctrl-C signals the terminal's whole process group
        [sys.executable, "-m", "nasforge", "search", "tiny.yaml", "--quiet", "--workers", workers],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as from a terminal: a shell that started these tests in the background left SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 240
    while len(finished(store)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    children = _descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    run_dir = store.parent.relative_to(tmp_path)
    assert err.splitlines() == [f"stopped: every finished trial is stored; continue with 'nasforge resume {run_dir}'"]
    assert _outlive(children, seconds=30) == [], "worker processes must stop with the driver"
    db = sqlite3.connect(store)
    states = {status for (status,) in db.execute("SELECT status FROM trials")}
    db.close()
    assert "running" not in states and "finished" in states
    nasforge("resume", str(store.parent), "--quiet", "--workers", workers, cwd=tmp_path)
    assert len(finished(store)) == 8


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _outlive(processes: list[psutil.Process], seconds: float) -> list[int]:
    """Pids of ``processes`` still alive after ``seconds``; those are then killed (this test started them)."""
    _, alive = psutil.wait_procs(processes, timeout=seconds)
    for process in alive:
        process.kill()
    return [process.pid for process in alive]


def test_a_time_budget_no_training_fits_in_ends_on_time_with_one_line(tmp_path):
    config = tmp_path / "slow.yaml"
    config.write_text(TINY.replace("epochs: 1", "epochs: 100000").replace("trials: TRIALS", "seconds: 2"))
    proc = nasforge("search", str(config), "--run-dir", "runs/slow", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "1 cut by the time budget" in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: budget.seconds: no trial finished in the time given (1 cut by it, the last: ")
    assert last.endswith("(nasforge resume RUN_DIR --seconds N) or fewer epochs (train.epochs)")


def test_export_refuses_a_data_file_that_changed_since_the_search(tmp_path):
    rows = [[i % 7, (i * 3) % 5, i % 2] for i in range(60)]
    table = "\n".join(["a,b,label", *(",".join(map(str, row)) for row in rows)])
    (tmp_path / "rows.csv").write_text(table + "\n")
    config = "name: rows\ndata: {path: rows.csv, target: label}\ntrain: {epochs: 1}\nbudget: {trials: 1}\n"
    (tmp_path / "rows.yaml").write_text(config)
    nasforge("search", "rows.yaml", "--quiet", cwd=tmp_path)
    with (tmp_path / "rows.csv").open("a") as handle:  # rows added: split anew, its test part would hold searched ones
        handle.write("".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40)))
    changed = nasforge("export", "runs/rows", cwd=tmp_path, check=False)
    assert changed.returncode == 2 and "holds a search on other data" in changed.stderr
