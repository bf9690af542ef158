"""Executors under faults: a local cluster's only worker killed mid-trial, workers that load other data."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Hashable

import numpy as np
import pytest

import nasforge as nf
from nasforge.data import load, split, synthetic
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, TrainEvaluator
from nasforge.executors import DaskExecutor, ExecutorError
from nasforge.spaces import ChainSpace

DATA = synthetic("image", n=60, classes=3, shape=(1, 8, 8), seed=0)


class Sleeping(Evaluator):
    """Takes ``seconds`` per trial, long enough to be killed in the middle of one; says where and with what seed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        time.sleep(self.seconds)
        return Evaluation({"accuracy": 0.5}, {"seed": seed, "pid": os.getpid()})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


class Unsendable(Evaluator):
    """Returns an evaluation that cannot be pickled back to the driver (a lock in its checkpoint)."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        return Evaluation({"accuracy": 0.5}, checkpoint=threading.Lock())

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


def _kill_busy_workers(executor: DaskExecutor, times: int, killed: list[int]) -> threading.Thread:
    """SIGKILL, ``times`` times, the worker process (started by this test's cluster) that holds a trial."""

    def kill() -> None:
        deadline = time.monotonic() + 60
        while len(killed) < times and time.monotonic() < deadline:
            busy = [worker for worker, tasks in executor.client.processing().items() if tasks]
            try:
                pid = next(iter(executor.client.run(os.getpid, workers=busy[:1]).values()), None) if busy else None
            except OSError:  # the worker killed a moment ago, not yet removed by the scheduler
                pid = None
            if pid is not None and pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_a_killed_worker_that_held_the_only_evaluator_is_retried_then_failed_never_raised():
    """Dask retries a killed worker's trial, but with the only worker went the only copy of the evaluator, so
    Dask cancels the trial instead; its wait raised FuturesCancelledError out of the search."""
    executor = DaskExecutor(workers=1, retries=1, timeout=60)
    executor.start(Sleeping(1.0))
    try:
        killed: list[int] = []
        once = executor.submit("a", 11)
        _kill_busy_workers(executor, 1, killed).join()
        assert executor.wait_any([once]) == {once}
        assert once.exception() is None  # sent again, with a fresh copy of the evaluator, on the restarted worker
        assert once.result().costs["seed"] == 11 and once.result().costs["pid"] not in killed

        twice = executor.submit("b", 12)
        killer = _kill_busy_workers(executor, len(killed) + 2, killed)
        assert executor.wait_any([twice]) == {twice}
        killer.join()
        error = twice.exception()
        assert isinstance(error, ExecutorError) and "Dask cancelled it" in str(error)  # its one retry is spent

        after = executor.submit("c", 13)
        assert executor.wait_any([after]) == {after} and after.result().costs["seed"] == 13
    finally:
        executor.shutdown()


def test_workers_that_load_other_data_stop_the_search_in_one_line(tmp_path):
    """With ``data: load`` each worker loads the file as it takes the evaluator, inside Dask's scatter; a file
    changed since the driver loaded it came out of ``start`` as a bare ``Exception``, with a traceback."""
    np.savez(tmp_path / "d.npz", X=DATA.X, y=DATA.y)
    splits = split(load({"path": str(tmp_path / "d.npz")}), seed=0)
    other = synthetic("image", n=60, classes=3, shape=(1, 8, 8), seed=1)
    np.savez(tmp_path / "d.npz", X=other.X, y=other.y)
    evaluator = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, nf.Trainer(epochs=1))
    executor = DaskExecutor(workers=1, timeout=60, data="load")
    try:
        with pytest.raises(ExecutorError, match=r"^executor: the workers could not take the evaluator: .*other train"):
            executor.start(evaluator)
    finally:
        executor.shutdown()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_one_worker_per_core_counts_the_cores_this_process_may_use():
    """A SLURM job or ``taskset`` gives the search a share of the machine's cores; ``os.cpu_count()`` counted
    them all, so a 4-core job on a 64-core node started 64 worker processes, each with its own torch."""
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        pytest.skip("this process may use one core only: nothing to tell apart")
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert DaskExecutor().describe() == "on 1 worker process"
    finally:
        os.sched_setaffinity(0, allowed)


def test_an_evaluation_that_cannot_come_back_fails_its_trial():
    """The trial finishes on the worker but its result does not pickle: ``exception()`` said None and
    ``result()`` raised TypeError out of the runner, ending the search with the trial left running."""
    executor = DaskExecutor(workers=1, timeout=60)
    executor.start(Unsendable())
    try:
        trial = executor.submit("a", 1)
        assert executor.wait_any([trial]) == {trial}
        error = trial.exception()
        assert isinstance(error, TypeError) and "serialize" in str(error)
    finally:
        executor.shutdown()
