"""SIGKILL a real search five times (once inside a store write, once inside the final export) and resume each time.

The search runs through a small launcher script that may arm one fault in the process it starts: a SIGKILL in the
middle of a store transaction (the trial's UPDATE executed, not committed) or in the middle of the ONNX export
(after ``best.pt`` is written). The other kills come from outside, at random moments (seeded) once the search
has made progress. After every resume the store must pass SQLite's integrity check and keep every finished
trial as it was; at the end the finished trials equal the budget, no finished architecture was trained again,
and ``best.json``, ``best.pt`` and ``best.onnx`` describe the same network.
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
    if not store.exists():
        return []
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute("SELECT id, arch, seed, status FROM trials ORDER BY id").fetchall()
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
    deadline = time.monotonic() + 240
    while len(_finished(store)) < progressed and proc.poll() is None and time.monotonic() < deadline:
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
