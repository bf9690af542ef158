"""Executors with real worker processes: a local Dask cluster, one started with the ``dask`` CLI, a killed worker."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import nasforge as nf
from nasforge.api import make_executor, make_strategy, search
from nasforge.callbacks import Callback
from nasforge.data import load, split, synthetic
from nasforge.evaluators import TrainEvaluator
from nasforge.exceptions import ConfigError, DataError
from nasforge.executors import DaskExecutor, LocalExecutor
from nasforge.run import Run
from nasforge.spaces import ChainSpace
from nasforge.store import SQLiteStore
from nasforge.trial import TrialState

DATA = synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=0)
TRAINER = nf.Trainer(epochs=2)


def test_trials_on_worker_processes_score_as_they_do_here():
    run = search(data=DATA, trainer=TRAINER, budget=nf.Budget(trials=6), executor={"type": "processes", "workers": 2})
    trials = run.trials
    assert [t.state for t in trials] == [TrialState.FINISHED] * 6
    assert run.best.test["accuracy"] > 0  # retrained and tested in this process, after the workers stopped
    splits = split(DATA, seed=0)
    here = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, TRAINER)
    for trial in trials[:3]:
        assert here.evaluate(here.space.from_string(trial.arch), trial.seed).metrics == pytest.approx(trial.metrics)


def test_a_local_cluster_takes_no_fixed_port_so_searches_can_run_side_by_side():
    """Dask's scheduler serves HTTP on 8787 by default, and warned (three lines on stderr) when another search
    held it; with 8787 taken, a local cluster starts without a word."""
    splits = split(DATA, seed=0)
    evaluator = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, TRAINER)
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:
            pass  # something else holds it already: the case under test all the same
        executor = DaskExecutor(workers=1, timeout=60)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                executor.start(evaluator)
            finally:
                executor.shutdown()
    assert not [w for w in caught if "already in use" in str(w.message)]


def test_workers_never_receive_the_test_split():
    splits = split(DATA, seed=0)
    shipped = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, TRAINER).for_workers()
    assert shipped._test is None
    with pytest.raises(RuntimeError, match="holds no test split"):
        shipped.final_test(shipped.space.sample(np.random.default_rng(0)), seed=0)


def _saved(path: Path, dataset: nf.data.Dataset) -> nf.data.Dataset:
    np.savez(path, X=dataset.X, y=dataset.y)
    return load({"path": str(path)})


def test_workers_can_load_the_data_themselves_and_must_find_the_same(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative path is recorded absolute: workers may start elsewhere
    splits = split(_saved(tmp_path / "d.npz", DATA), seed=0)
    assert splits.recipe.source == {"path": str(tmp_path / "d.npz")}
    here = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, TRAINER)
    shipped = pickle.dumps(here.for_workers(load_data=True))
    assert len(shipped) < DATA.X.nbytes / 10  # no samples travel, only where they are and their digest
    there = pickle.loads(shipped)
    assert there._test is None
    arch = here.space.sample(np.random.default_rng(1))
    assert there.evaluate(arch, seed=3).metrics == pytest.approx(here.evaluate(arch, seed=3).metrics)
    other = synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=1)
    np.savez(tmp_path / "d.npz", X=other.X, y=other.y)  # the file changed after the driver loaded it
    with pytest.raises(DataError, match="other train/validation samples than the driver"):
        pickle.loads(shipped)


def test_data_built_from_arrays_can_only_be_sent():
    splits = split(DATA, seed=0)
    with pytest.raises(ConfigError, match=r"executor\.data: load needs data loaded from a source"):
        TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, TRAINER).for_workers(load_data=True)


def test_a_search_whose_workers_load_the_data(tmp_path):
    data = _saved(tmp_path / "d.npz", DATA)
    # one worker process each: with two, a trial's seed counts the trials ended when it starts, which depends on
    # which worker finishes first, and the two searches could pair an architecture with another seed
    common = {"trainer": TRAINER, "strategy": "random", "budget": nf.Budget(trials=4)}
    loaded = search(data=data, executor={"type": "processes", "workers": 1, "data": "load"}, **common).trials
    assert [t.state for t in loaded] == [TrialState.FINISHED] * 4
    sent = search(data=DATA, executor={"type": "processes", "workers": 1}, **common).trials
    assert [(t.arch, t.seed) for t in loaded] == [(t.arch, t.seed) for t in sent]
    for a, b in zip(loaded, sent, strict=True):
        assert a.metrics == pytest.approx(b.metrics)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "local", "workers": 2}, "executor: type local runs one trial at a time"),
        ({"type": "local", "data": "load"}, "executor: data: load is for worker processes"),
        ({"type": "processes", "data": "copy"}, "executor.data: must be one of 'send' or 'load'"),
        ({"type": "processes", "workers": 0}, "executor.workers: must be >= 1"),
        ({"type": "processes", "address": "tcp://x:1"}, "executor: address and security belong to type: dask"),
        ({"type": "threads"}, "executor.type: must be one of 'local', 'processes' or 'dask'"),
        ({"type": "local", "retries": 2}, "executor: retries and resources are for trials on workers"),
        ({"type": "local", "resources": {"GPU": 1}}, "executor: retries and resources are for trials on workers"),
        ({"type": "dask", "address": "tcp://x:1", "workers": 4}, "executor: workers and retries are for worker"),
        ({"type": "dask", "address": "tcp://x:1", "retries": 1}, "executor: workers and retries are for worker"),
        ({"type": "dask", "address": "tls://x:1", "security": {"tls_ca": "ca.pem"}}, "executor.security: Unknown"),
    ],
)
def test_bad_executor_blocks_are_one_line(spec, message):
    with pytest.raises(ConfigError) as info:
        make_executor(spec)
    assert str(info.value).startswith(message)


def test_executor_types_map_to_executors():
    assert isinstance(make_executor(None), LocalExecutor)
    processes = make_executor({"type": "processes", "workers": 2})
    assert isinstance(processes, DaskExecutor) and (processes.address, processes.workers) == (None, 2)
    assert processes.describe() == "on 2 worker processes"
    dask = make_executor({"type": "dask", "address": "tcp://127.0.0.1:8786", "resources": {"GPU": 1}})
    assert (dask.address, dask.resources) == ("tcp://127.0.0.1:8786", {"GPU": 1})
    assert dask.describe() == "on the Dask cluster at tcp://127.0.0.1:8786"
    tls = {"tls_ca_file": "ca.pem", "tls_client_cert": "c.pem", "tls_client_key": "c.key", "require_encryption": True}
    secured = make_executor({"type": "dask", "address": "tls://10.0.0.5:8786", "security": tls})
    assert (secured.security.tls_ca_file, secured.security.require_encryption) == ("ca.pem", True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_cluster_started_with_the_dask_cli_runs_searches_and_matches_resources(tmp_path):
    from distributed import get_task_stream

    from nasforge.executors import ExecutorError

    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    started = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for extra in (["--name", "plain"], ["--name", "gpu", "--resources", "GPU=1"]):  # a fake GPU: CI has none
            command = [dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard", *extra]
            started.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        executor = DaskExecutor(address, timeout=60)
        run = search(data=DATA, trainer=TRAINER, budget=nf.Budget(trials=6), executor=executor, run_dir=tmp_path)
        assert [t.state for t in run.trials] == [TrialState.FINISHED] * 6

        evaluator = TrainEvaluator(run.space, split(DATA, seed=0), TRAINER)
        needs_gpu = DaskExecutor(address, resources={"GPU": 1}, timeout=60)
        needs_gpu.start(evaluator)
        try:
            assert needs_gpu.capacity == 1  # one worker has the resource: one trial at a time
            names = {w: info["name"] for w, info in needs_gpu.client.scheduler_info(n_workers=-1)["workers"].items()}
            gpu_run = Run(run.space, make_strategy("random"), evaluator, SQLiteStore(":memory:"), executor=needs_gpu)
            with get_task_stream(needs_gpu.client) as stream:
                gpu_run.optimize(nf.Budget(trials=3))
        finally:
            needs_gpu.shutdown()
        assert [t.state for t in gpu_run.trials] == [TrialState.FINISHED] * 3
        assert {names[t["worker"]] for t in stream.data if t["key"].startswith("_evaluate")} == {"gpu"}

        needs_tpu = DaskExecutor(address, resources={"TPU": 1}, timeout=2)
        with pytest.raises(ExecutorError, match="no Dask worker with TPU=1 left after waiting 2 s"):
            search(data=DATA, trainer=TRAINER, budget=nf.Budget(trials=1), executor=needs_tpu)
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


class KillOneWorker(Callback):
    """When the third trial starts, SIGKILL the worker process that is training a trial (the test started it)."""

    def __init__(self, executor: DaskExecutor) -> None:
        self.executor = executor
        self.killed: list[int] = []

    def on_trial_start(self, run, trial) -> None:
        if trial.id == 3:
            threading.Thread(target=self._kill, daemon=True).start()

    def _kill(self) -> None:
        client = self.executor.client
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            busy = [worker for worker, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                self.killed.append(pid)
                return
            time.sleep(0.05)


def test_a_worker_killed_mid_trial_fails_that_trial_and_the_search_finishes(tmp_path):
    executor = DaskExecutor(workers=2, timeout=60)
    killer = KillOneWorker(executor)
    trainer = nf.Trainer(epochs=30)  # long enough trials to be killed in the middle of one
    run = search(
        data=DATA, trainer=trainer, budget=nf.Budget(trials=6), executor=executor, run_dir=tmp_path, callbacks=[killer]
    )
    assert killer.killed, "no worker was found training a trial"
    states = [t.state for t in run.trials]
    assert TrialState.RUNNING not in states and len(states) == 6
    failed = [t for t in run.trials if t.state is TrialState.FAILED]
    # the killed worker fails every trial it held: the one it trained, and one Dask had queued on it, if any
    assert 1 <= len(failed) <= 2 and all("KilledWorker" in t.error for t in failed)
    assert states.count(TrialState.FINISHED) == 6 - len(failed)


def test_an_unreachable_scheduler_is_one_line_and_the_store_stays_resumable(tmp_path):
    from nasforge.executors import ExecutorError

    executor = DaskExecutor(f"tcp://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(ExecutorError, match=r"^executor: cannot reach the Dask scheduler at tcp://127\.0\.0\.1:\d+"):
        search(data=DATA, trainer=TRAINER, budget=nf.Budget(trials=2), executor=executor, run_dir=tmp_path)
    resumed = search(data=DATA, trainer=TRAINER, budget=nf.Budget(trials=2), run_dir=tmp_path)
    assert [t.state for t in resumed.trials] == [TrialState.FINISHED] * 2


def test_type_dask_without_an_address_is_refused_rather_than_training_here():
    with pytest.raises(ConfigError, match="executor: type dask connects to a running Dask cluster: give its address"):
        make_executor({"type": "dask"})


def test_dask_address_on_the_command_line_replaces_the_configs_worker_processes():
    """``--dask-address`` over a config written for worker processes here: their count and retries are not the
    cluster's, and were refused as if the user had set them for it; ``--workers`` with an address still is."""
    from nasforge.cli._commands import _with_executor
    from nasforge.config import parse_config

    cfg = parse_config({"data": {"builtin": "digits"}, "executor": {"type": "processes", "workers": 4, "retries": 1}})
    executor = _with_executor(cfg, None, "tcp://127.0.0.1:8786").executor
    assert (executor.type, executor.address, executor.workers, executor.retries) == (
        "dask",
        "tcp://127.0.0.1:8786",
        None,
        0,
    )
    with pytest.raises(ConfigError, match="executor: workers and retries are for worker processes nasforge starts"):
        _with_executor(cfg, 2, "tcp://127.0.0.1:8786")
