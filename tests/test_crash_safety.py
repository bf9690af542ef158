"""SIGKILL a real search five times (once inside a store write, once inside the final export) and resume each time.

The search runs through a small launcher script that may arm one fault in the process it starts: a SIGKILL in the
middle of a store transaction (the trial's UPDATE executed, not committed) or in the middle of the ONNX export
(after ``best.pt`` is written). The other kills come from outside, at random moments (seeded) once the search
has made progress. After every resume the store must pass SQLite's integrity check and keep every finished
trial as it was; at the end the finished trials equal the budget, no finished architecture was trained again,
and ``best.json``, ``best.pt`` and ``best.onnx`` describe the same network. A second search under ASHA is killed
while promotions train, and must promote no trial twice.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil  # comes with Dask distributed
import pytest

TRIALS = 14

CONFIG = f"""
name: crash
seed: 3
data: {{builtin: digits}}
space: {{type: chain, depth: [1, 2], widths: [8, 16, 32]}}
strategy: {{name: evolution, population: 4, sample: 2}}
train: {{epochs: 1}}
budget: {{trials: {TRIALS}}}
"""

LAUNCHER = """
import os, signal, sys

fault = os.environ.get("NASFORGE_TEST_FAULT", "")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if fault.startswith("write:"):  # die inside the Nth trial-finishing transaction, before its COMMIT
    from nasforge.store import _sqlite

    left = [int(fault.split(":")[1])]
    original = _sqlite.SQLiteStore._write

    def _write(self, sql, params):
        if sql.startswith("UPDATE trials SET status = ?, score"):
            left[0] -= 1
            if left[0] == 0:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(sql, params)
                die()
        return original(self, sql, params)

    _sqlite.SQLiteStore._write = _write
elif fault == "export":  # die while the ONNX file is being written, after best.pt
    from nasforge import export

    def _export_onnx(model, x, path):
        with open(path, "wb") as half:
            half.write(b"partial")
        die()

    export._export_onnx = _export_onnx

if __name__ == "__main__":  # worker processes started by spawn import this file too
    from nasforge.cli import main

    sys.argv = ["nasforge", *sys.argv[1:]]
    main()
"""


def _trials(store: Path) -> list[tuple[int, str, int, str]]:
    """(id, arch, seed, status) of every trial, in id order."""
    return [t[:4] for t in _rows(store)]


def _rows(store: Path) -> list[tuple[int, str, int, str, int | None, int | None, int | None]]:
    """(id, arch, seed, status, parent, epochs, epochs_trained) of every trial, in id order (none before the
    schema exists)."""
    if not store.exists():
        return []
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute(
            "SELECT id, arch, seed, status, parent, json_extract(costs, '$.epochs'), "
            "json_extract(costs, '$.epochs_trained') FROM trials ORDER BY id"
        ).fetchall()
    except sqlite3.OperationalError:  # the schema is not written yet
        return []
    finally:
        db.close()


def _finished(store: Path) -> list[tuple[int, str, int, str]]:
    return [t for t in _trials(store) if t[3] == "finished"]


def _integrity(store: Path) -> str:
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def _start(tmp_path: Path, args: list[str], fault: str = "") -> subprocess.Popen[bytes]:
    env = {**os.environ, "NASFORGE_TEST_FAULT": fault}
    return subprocess.Popen(
        [sys.executable, str(tmp_path / "launch.py"), *args, "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_when(proc: subprocess.Popen[bytes], store: Path, progressed: int, delay: float) -> None:
    """SIGKILL the driver ``delay`` s after the store holds ``progressed`` finished trials."""
    _kill_once(proc, lambda: len(_finished(store)) >= progressed, delay)


def _kill_once(proc: subprocess.Popen[bytes], ready: Callable[[], bool], delay: float = 0.0) -> None:
    """SIGKILL the driver and its worker processes ``delay`` s after ``ready()`` holds."""
    deadline = time.monotonic() + 240
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    assert proc.poll() is None, "the search ended before the kill: give it a larger budget"
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    _, alive = psutil.wait_procs(children, timeout=30)
    for process in alive:  # started by this test: never leave them behind
        process.kill()
    assert not alive, "worker processes must not outlive a killed driver"


def _agree(run_dir: Path) -> None:
    """best.json names the store's best trial, and best.pt and best.onnx compute the same outputs."""
    import onnxruntime
    import torch

    from nasforge.api import make_space

    best = json.loads((run_dir / "best.json").read_text())
    db = sqlite3.connect(run_dir / "store.sqlite")
    top = db.execute("SELECT id, arch FROM trials WHERE status = 'finished' ORDER BY score DESC, id LIMIT 1").fetchone()
    db.close()
    assert (best["trial"], best["arch"]) == tuple(top)
    space = make_space({"type": "chain", "depth": [1, 2], "widths": [8, 16, 32]}, (1, 8, 8))
    model = space.build(space.from_string(best["arch"]), (1, 8, 8), 10)
    model.load_state_dict(torch.load(run_dir / "best.pt", weights_only=True))
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(x)).numpy()
    session = onnxruntime.InferenceSession(str(run_dir / "best.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("workers", [None, pytest.param("2", marks=pytest.mark.slow)])
def test_five_sigkills_lose_no_finished_trial_and_train_none_twice(tmp_path, workers):
    (tmp_path / "crash.yaml").write_text(CONFIG)
    (tmp_path / "launch.py").write_text(LAUNCHER)
    run_dir = tmp_path / "runs" / "crash"
    store = run_dir / "store.sqlite"
    parallel = ["--workers", workers] if workers else []
    rng = random.Random(7)
    kills = ["random", "write:2", "random", "random", "export"]
    for number, kill in enumerate(kills):
        before = _finished(store)
        args = ["search", "crash.yaml", *parallel] if number == 0 else ["resume", str(run_dir), *parallel]
        proc = _start(tmp_path, args, fault=kill if kill != "random" else "")
        if kill == "random":
            _kill_when(proc, store, progressed=len(before) + 1, delay=rng.uniform(0.0, 1.0))
        else:
            assert proc.wait(timeout=300) == -signal.SIGKILL, f"the armed fault {kill} must fire"
        after = _finished(store)
        assert _integrity(store) == "ok"
        assert after[: len(before)] == before, f"kill {number} ({kill}): finished trials are kept as they were"
        if kill == "export":
            assert len(after) == TRIALS and not (run_dir / "best.json").exists()

    searched = _trials(store)
    last = _start(tmp_path, ["resume", str(run_dir), *parallel])
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()
    trials = _trials(store)
    assert trials == searched, "the last resume finished the winner's report without searching again"
    assert _integrity(store) == "ok"
    finished = [t for t in trials if t[3] == "finished"]
    assert len(finished) == TRIALS, "the finished trials equal the budget"
    for trial_id, arch, *_ in finished:
        again = [t for t in trials if t[1] == arch and t[0] > trial_id]
        assert not again, f"trial {trial_id} ({arch}) finished, then was trained again as {again}"
    assert {state for *_, state in trials} <= {"finished", "interrupted"}
    _agree(run_dir)


ASHA_TRIALS = 24

ASHA_CONFIG = f"""
name: brackets
seed: 5
data: {{builtin: digits}}
space: {{type: chain, depth: [2, 3], widths: [64, 128]}}
strategy: {{name: evolution, population: 4, sample: 2}}
train: {{epochs: 8}}
fidelity: {{scheduler: asha, min_epochs: 1, eta: 2}}
budget: {{trials: {ASHA_TRIALS}}}
"""
RUNGS = {1: 2, 2: 4, 4: 8}  # a rung's epochs -> the next rung's


def _promoting(store: Path) -> bool:
    """A promotion is training: a running trial with a parent."""
    return any(t[3] == "running" and t[4] is not None for t in _rows(store))


def test_sigkills_in_the_middle_of_asha_brackets_lose_no_promotion_and_decide_no_rung_twice(tmp_path):
    """Issue 18's resume in the middle of a bracket, with real SIGKILLs: twice while a promotion trains, once at
    a seeded random moment, then a resume to the end. Each kill keeps every ended trial as it was; at the end
    every promotion continues a finished trial of the same architecture and seed to its next rung (1, 2, 4, 8
    epochs), no trial is promoted twice, a cut promotion is redone once, from the checkpoint its parent left on
    disk (it trains only the epochs it adds), and no architecture starts twice."""
    (tmp_path / "brackets.yaml").write_text(ASHA_CONFIG)
    (tmp_path / "launch.py").write_text(LAUNCHER)
    run_dir = tmp_path / "runs" / "brackets"
    store = run_dir / "store.sqlite"
    rng = random.Random(11)
    for number in range(3):
        before = [t for t in _rows(store) if t[3] == "finished"]
        args = ["search", "brackets.yaml"] if number == 0 else ["resume", str(run_dir)]
        proc = _start(tmp_path, args)
        if number == 1:
            _kill_when(proc, store, progressed=len(before) + 2, delay=rng.uniform(0.0, 0.3))
        else:
            _kill_once(proc, lambda: _promoting(store))
        after = [t for t in _rows(store) if t[3] == "finished"]
        assert _integrity(store) == "ok"
        assert after[: len(before)] == before, f"kill {number}: finished trials are kept as they were"
    last = _start(tmp_path, ["resume", str(run_dir)])
    _, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()

    rows = _rows(store)
    by_id = {t[0]: t for t in rows}
    assert {t[3] for t in rows} <= {"finished", "interrupted"}
    finished = [t for t in rows if t[3] == "finished"]
    assert len(finished) == ASHA_TRIALS, "promotions are trials of the budget, cut ones are not"
    cut = [t for t in rows if t[3] == "interrupted" and t[4] is not None]
    assert cut, "a kill caught a promotion training"
    for trial in cut:
        redone = [t for t in rows if t[4] == trial[4] and t[0] > trial[0]]
        assert [t[3] for t in redone] == ["finished"], f"the cut promotion {trial[0]} is redone once"
        assert redone[0][6] == redone[0][5] - by_id[trial[4]][5], f"{redone[0][0]} goes on from its parent's weights"
    assert not (run_dir / "checkpoints").exists(), "a search that ended leaves no checkpoint behind"
    promotions = [t for t in finished if t[4] is not None]
    assert {t[5] for t in promotions} >= {2, 4}, "trials were promoted past the second rung"
    for child in promotions:
        parent = by_id[child[4]]
        assert parent[3] == "finished" and child[5] == RUNGS[parent[5]] and child[1:3] == parent[1:3]
    parents = [t[4] for t in promotions]
    assert len(parents) == len(set(parents)), "no trial is promoted twice: no rung is decided twice"
    new = [t for t in finished if t[4] is None]
    assert {t[5] for t in new} == {1} and len({t[1] for t in new}) == len(new)
