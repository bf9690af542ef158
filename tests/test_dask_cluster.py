"""The Dask executor on a cluster at an address: what a failed trial prints, which arguments it refuses, what
closing it leaves on the cluster, and a lost scheduler. The cluster runs its worker in this process
(``processes=False``), over TCP on 127.0.0.1, so that it starts in a fraction of a second and the test can see the
scheduler's and the worker's tasks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator

import dask
import pytest
from distributed import LocalCluster

import nasforge as nf
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.exceptions import ConfigError
from nasforge.executors import DaskExecutor, ExecutorError
from nasforge.run import Run
from nasforge.spaces import ChainSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RandomSearch
from nasforge.trial import TrialState

STARTED: list[int] = []  # the seeds whose evaluation began (the worker runs in this process)
RELEASE = threading.Event()


class Raising(Evaluator):
    """Every evaluation raises, as a user's evaluator may."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        raise ValueError(f"no luck with seed {seed}")

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


class Blocking(Evaluator):
    """Runs until the test sets ``RELEASE``: a trial still training when the driver stops."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        STARTED.append(seed)
        RELEASE.wait(60)
        return Evaluation({"accuracy": 0.5}, {})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


def _until(condition: Callable[[], bool]) -> None:
    """Wait until the cluster's threads make ``condition`` true; fail, rather than hang, if they never do."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the cluster never got there"
        time.sleep(0.01)


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    """A Dask cluster nasforge did not start: one worker thread. Closing it asks its scheduler first, for up to the
    connect timeout: 30 s by default, when a test has closed the scheduler already."""
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as started,
    ):
        yield started


def test_a_trial_that_raises_on_a_worker_is_recorded_failed_without_dask_logging_compute_failed(cluster, capfd, caplog):
    """A worker logged every failed trial as a multi-line ``Compute Failed`` error with its traceback, on the
    user's screen, though the search recorded the trial failed and went on: it read as a crash."""
    executor = DaskExecutor(cluster.scheduler_address, timeout=30)
    run = Run(ChainSpace(input_shape=(1, 8, 8)), RandomSearch(), Raising(), SQLiteStore(":memory:"), executor=executor)
    try:
        run.optimize(nf.Budget(trials=2))
    finally:
        executor.shutdown()
    printed = capfd.readouterr()
    assert "Compute Failed" not in printed.err + printed.out + caplog.text
    assert [t.state for t in run.trials] == [TrialState.FAILED] * 2
    for trial in run.trials:  # the evaluator's own error and traceback, as Dask carried them before
        head, *traceback = trial.error.splitlines()
        assert head == f"ValueError: no luck with seed {trial.seed}"
        assert traceback[0] == "Traceback (most recent call last):" and traceback[-1] == head
        assert 'raise ValueError(f"no luck with seed {seed}")' in trial.error


@pytest.mark.parametrize(
    "ignored",
    [{"retries": 1}, {"workers": 4}],
)
def test_an_address_refuses_what_only_the_workers_nasforge_starts_would_use(ignored):
    """``DaskExecutor(address, retries=1)`` kept the retries out of the cluster's hands without a word (its
    ``allowed-failures`` decides), as it did ``workers``; the config refused both already, in this line."""
    with pytest.raises(ConfigError) as info:
        DaskExecutor("tcp://127.0.0.1:8786", **ignored)
    assert str(info.value) == (
        "executor: workers and retries are for worker processes nasforge starts (type: processes); a cluster at an "
        "address has the workers it was started with, and its distributed.scheduler.allowed-failures decides retries"
    )


def test_security_without_an_address_is_refused():
    """The workers on this machine talk over loopback TCP without TLS; ``security`` was dropped without a word
    (a config ``{type: dask, security: ...}`` with no address passed the config's check)."""
    with pytest.raises(ConfigError, match=r"^executor\.security: secures the connection to a Dask cluster at an "):
        DaskExecutor(security={"require_encryption": True})


@pytest.mark.parametrize("amount", [0, -1, float("nan"), "1"])
def test_a_resource_need_that_is_not_positive_is_refused(amount):
    """``resources: {GPU: 0}`` was counted as no need (the search kept a trial per worker thread in flight) but sent
    to Dask as one, which runs it only on workers that advertise a GPU: on a cluster without, the trial waited
    forever in Dask's ``no-worker`` state, and the search with it."""
    with pytest.raises(ConfigError, match=rf"^executor\.resources\.GPU: must be a number > 0, got {amount!r}$"):
        DaskExecutor("tcp://127.0.0.1:8786", resources={"GPU": amount})


def test_closing_the_executor_releases_its_trials_on_the_cluster(cluster):
    """Ctrl-C ends a search with trials in flight, and ``shutdown`` closes the client: the scheduler drops every
    task of it, and the worker too, so a trial not started never starts. The one training goes on in its thread
    (Dask cannot stop a thread), for nobody: the worker holds it ``cancelled`` and keeps its thread until it ends.
    This held already (no explicit cancel is needed before the close); the test keeps it so."""
    STARTED.clear()
    RELEASE.clear()
    executor = DaskExecutor(cluster.scheduler_address, timeout=30)
    executor.start(Blocking())
    trials = [executor.submit("a", seed) for seed in (1, 2, 3)]  # one worker thread: 2 and 3 wait
    worker = next(iter(cluster.workers.values()))
    try:
        _until(lambda: bool(STARTED))
        executor.shutdown()
        assert all(t.task.cancelled() for t in trials)
        assert not cluster.scheduler.tasks  # no trial, and no copy of the evaluator, left on the scheduler
        running, waiting = trials[0].task.key, {t.task.key for t in trials[1:]}
        # the scheduler's word reaches the worker a few milliseconds later
        _until(lambda: worker.state.tasks[running].state == "cancelled" and not waiting & set(worker.state.tasks))
    finally:
        RELEASE.set()
    _until(lambda: not worker.state.executing_count)  # the running trial ends; its thread takes nothing after it
    assert STARTED == [1] and not worker.state.tasks


def _lose_the_scheduler(cluster: LocalCluster, executor: DaskExecutor) -> None:
    """Close the cluster's scheduler, and wait until the executor's client has noticed."""
    cluster.sync(cluster.scheduler.close)
    _until(lambda: executor.client.status != "running")


def test_a_scheduler_lost_mid_trial_interrupts_the_search_and_fails_no_trial(cluster):
    """The client cancels every future when it loses the scheduler; the running trial was taken for one whose
    evaluator died with its workers, recorded failed (``Dask cancelled it``), so a resume never trained it
    again, and the search went on until the next submit found no scheduler."""
    STARTED.clear()
    RELEASE.clear()
    executor = DaskExecutor(cluster.scheduler_address, timeout=2)
    run = Run(ChainSpace(input_shape=(1, 8, 8)), RandomSearch(), Blocking(), SQLiteStore(":memory:"), executor=executor)

    def lose_it() -> None:
        _until(lambda: bool(STARTED))
        _lose_the_scheduler(cluster, executor)

    threading.Thread(target=lose_it, daemon=True).start()
    try:
        with pytest.raises(ExecutorError, match=r"^executor: lost the Dask scheduler at tcp://127\.0\.0\.1:\d+; "):
            run.optimize(nf.Budget(trials=2))
    finally:
        RELEASE.set()
        executor.shutdown()
    assert [t.state for t in run.trials] == [TrialState.INTERRUPTED]


def test_a_scheduler_lost_between_trials_is_one_line(cluster):
    """Counting the workers' room asked the lost scheduler, and its CommClosedError ended the search with a
    traceback, leaving the trials in flight marked running."""
    executor = DaskExecutor(cluster.scheduler_address, timeout=2)
    executor.start(Raising())
    try:
        _lose_the_scheduler(cluster, executor)
        with pytest.raises(ExecutorError, match=r"^executor: lost the Dask scheduler at tcp://127\.0\.0\.1:\d+; "):
            executor.capacity  # noqa: B018
    finally:
        executor.shutdown()
