"""Evaluations on Dask workers: worker processes on this machine, or an existing Dask cluster by address.

Dask distributed does the scheduling, the worker restarts (each worker process runs under a nanny that
restarts it when it dies) and the deployment (``dask scheduler`` / ``dask worker``, dask-jobqueue for SLURM
or PBS, Kubernetes); nasforge only ships work to it. The evaluator goes to every worker once
(:meth:`Evaluator.for_workers`: train and validation data, never the test split); a trial sends an
architecture and a seed and gets back metrics and costs.

A worker that dies mid-trial fails that trial with Dask's ``KilledWorker`` (after ``retries`` more attempts
on other workers) and the search goes on with the workers that remain. For a cluster nasforge did not start,
the scheduler's own ``distributed.scheduler.allowed-failures`` decides the retries. When the dead workers held
every copy of the evaluator, Dask cancels their trials instead (it cannot make the evaluator again): those are
sent again with a fresh copy while ``retries`` allow, else failed (:class:`_Trial`).

Security: a Dask scheduler runs whatever pickled work it is sent. The local cluster binds 127.0.0.1 only;
never expose a scheduler without TLS (``security``: Dask's :class:`distributed.Security` or its keyword
arguments, e.g. ``{tls_ca_file, tls_client_cert, tls_client_key, require_encryption}``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import CancelledError
from contextlib import suppress
from numbers import Real
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import ConfigError, NasforgeError, finite_positive, integer_at_least
from nasforge.executors._base import Executor, evaluate

if TYPE_CHECKING:
    from nasforge.evaluators import Evaluation, Evaluator, Plan

__all__ = ["DaskExecutor", "ExecutorError"]

_RECOUNT_SECONDS = 1.0


CLUSTER_OWNS = (
    "workers and retries are for worker processes nasforge starts (type: processes); a cluster at an address has "
    "the workers it was started with, and its distributed.scheduler.allowed-failures decides retries"
)
"""Why ``workers`` and ``retries`` are refused with an address (here and in the config, which checks first)."""


class ExecutorError(NasforgeError):
    """The workers cannot be reached or are all gone; the store stays consistent and the run can be resumed."""


class _Raised:
    """What an evaluation raised, sent back by the worker as its result.

    Raised out of the task, it made the worker log a multi-line ``Compute Failed`` error with the traceback on
    the user's screen, for a trial that the search only records as failed before it goes on. It is encoded as
    Dask encodes a task's error (:func:`distributed.core.error_message`: the traceback travels with it, a message
    longer than ``distributed.admin.max-error-length`` is cut, an exception that does not pickle comes back as
    ``Exception(repr(error))``), so the trial records what it recorded when Dask carried the error. Ours
    (:class:`NasforgeError`: a failed, interrupted or rejected trial, which carry text) are sent whole: Dask cuts
    a long message by making the error again from its type and two strings, which turned a ``TrialFailed`` into
    a bare ``Exception`` without its costs and curve, and gave an ``Infeasible`` a string for its costs.
    """

    def __init__(self, error: Exception) -> None:
        from distributed.core import error_message

        whole = _pickled(error) if isinstance(error, NasforgeError) else None
        self.pickled: bytes = whole or error_message(error)["exception"].data  # reads the traceback handled now

    def error(self) -> BaseException:
        from distributed.protocol import pickle

        return pickle.loads(self.pickled)


def _pickled(error: Exception) -> bytes | None:
    """``error`` pickled, or None where it does not come back from its pickle (a subclass of the user's)."""
    from distributed.protocol import pickle

    try:
        pickled = pickle.dumps(error)
        pickle.loads(pickled)
    except Exception:
        return None
    return pickled


def _evaluate(evaluator: Evaluator, arch: Hashable, seed: int, plan: Plan | None) -> Evaluation | _Raised:
    """Runs on a worker; ``evaluator`` is the copy scattered at start, resolved by Dask from its future."""
    try:
        return evaluate(evaluator, arch, seed, plan)
    except Exception as exc:  # a failed trial, not a failed task: see _Raised
        return _Raised(exc)


def _lost_with_the_scheduler(task: Any) -> bool:
    """Whether Dask cancelled ``task`` because the client lost the scheduler: it cancels every future then, and
    they are not the evaluator's loss with its workers (:class:`_Trial`), even once the client has reconnected."""
    try:
        task.result()  # a cancelled future raises its cancellation at once, with Dask's reason
    except CancelledError as exc:
        return getattr(exc, "reason", None) == "scheduler-connection-lost"
    return False


def _security(security: Any) -> Any:
    """Dask's ``Security`` from its keyword arguments (a config's ``security:`` block); a typo is one line."""
    if not isinstance(security, Mapping):
        return security
    from distributed import Security

    try:
        return Security(**security)
    except TypeError as exc:
        raise ConfigError(
            f"executor.security: {exc} (Dask's Security takes e.g. tls_ca_file, tls_client_cert, "
            "tls_client_key, require_encryption)"
        ) from None


class _Trial:
    """A trial on the cluster as the runner sees it: the Dask future of its latest attempt, and what to send again.

    Its ``exception()`` holds every way the trial can fail, so that ``result()`` after ``None`` never raises
    out of the runner. Dask cancels a task whose input is lost, as the evaluator is when every worker holding a
    copy died (a local cluster of one worker, killed mid-trial, with ``retries``): a cancelled attempt is the
    trial's worker dying, so it counts as one of its retries (:meth:`DaskExecutor.wait_any`) and, with none
    left, fails the trial. The evaluator's own error comes back as the task's result (:class:`_Raised`); an
    evaluation that finished but cannot be pickled back fails the trial too.
    """

    def __init__(self, task: Any, args: tuple[Hashable, int, Plan | None], retries: int) -> None:
        self.task, self.args, self.retries = task, args, retries
        self._outcome: Evaluation | BaseException | None = None

    def _fetch(self) -> Evaluation | BaseException:
        """The evaluation, or the error it raised on the worker; fetched from the worker once."""
        if self._outcome is None:
            outcome = self.task.result()
            self._outcome = outcome.error() if isinstance(outcome, _Raised) else outcome
        return self._outcome

    def result(self) -> Evaluation:
        outcome = self._fetch()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def exception(self) -> BaseException | None:
        if self.task.cancelled():
            return ExecutorError(
                "executor: the workers holding the evaluator died with this trial, and Dask cancelled it"
            )
        if self.task.status == "error":
            return self.task.exception()  # the task itself failed (KilledWorker), not the evaluation in it
        try:
            outcome = self._fetch()
        except Exception as exc:  # finished on the worker, but the evaluation could not come back to the driver
            return exc
        return outcome if isinstance(outcome, BaseException) else None


class DaskExecutor(Executor):
    """Run evaluations on Dask workers.

    ``address=None`` starts a local cluster of ``workers`` processes (default: one per core), one thread each,
    bound to 127.0.0.1; an address (``tcp://host:8786`` or ``tls://...``) connects to a running scheduler, whose
    cluster has its own workers and retries (``workers`` and ``retries`` are refused there, as ``security`` is
    without one: each would be ignored).
    ``resources`` (e.g. ``{"GPU": 1}``) is what each trial needs of a worker, matched against
    ``dask worker --resources GPU=1``. ``data="load"`` sends the workers no data, only where the driver loaded
    it from: each worker loads it itself (a path every machine can read), for data too big to send.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        resources: Mapping[str, float] | None = None,
        retries: int = 0,
        security: Any = None,
        timeout: float = 30.0,
        data: str = "send",
    ) -> None:
        if workers is not None:
            workers = integer_at_least("executor.workers", workers)
        retries = integer_at_least("executor.retries", retries, 0)
        for name, amount in (resources or {}).items():  # GPU=0 is a need to Dask: workers without one never run it
            if isinstance(amount, bool) or not isinstance(amount, Real) or not amount > 0:
                raise ConfigError(f"executor.resources.{name}: must be a number > 0, got {amount!r}")
        if data not in ("send", "load"):
            raise ConfigError(f"executor.data: must be send or load, got {data!r}")
        finite_positive("executor.timeout", timeout)
        if address is not None and (workers is not None or retries):  # the cluster's own, not ours to set
            raise ConfigError(f"executor: {CLUSTER_OWNS}")
        if security is not None and address is None:  # the local cluster talks plain TCP on 127.0.0.1 only
            raise ConfigError(
                "executor.security: secures the connection to a Dask cluster at an address; the worker processes "
                "nasforge starts listen on 127.0.0.1 only"
            )
        if resources and address is None:  # a local cluster's workers would each claim them, and share one GPU
            raise ConfigError(
                "executor.resources: matches trials to the workers of a Dask cluster (address: ...); the worker "
                "processes on this machine share it, so set workers to the trials it runs at once"
            )
        self.address = address
        self.data = data
        self.security = _security(security)
        self.workers = workers
        self.resources = dict(resources or {})
        self.retries = retries
        self.timeout = timeout
        self.client: Any = None  # the Dask client once started (for inspection: workers, pids)
        self._cluster: Any = None
        self._remote: Any = None
        self._shipped: Evaluator | None = None
        self._slots, self._counted_at = 0, -math.inf

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self, evaluator: Evaluator) -> None:
        if self.client is None:
            self._connect()
        self._shipped = evaluator.for_workers(load_data=self.data == "load")
        self._ship()

    def _ship(self) -> None:
        """Send the evaluator to every worker. A worker that cannot take it (with ``data: load``, one that finds
        other data at the path) stops the search in one line: Dask re-raises its error as a bare ``Exception``."""
        try:
            self._remote = self.client.scatter(self._shipped, broadcast=True, hash=False)
        except Exception as exc:
            raise ExecutorError(f"executor: the workers could not take the evaluator: {exc}") from exc

    def _connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.address is None:
                # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ for its workers; setting it at all stops glibc from
                # raising its mmap threshold, so every batch-sized tensor is a fresh mmap: digits trials trained
                # 1.9x slower (benchmarks/parallel_throughput.py, docs/benchmarks.md). Unset it here.
                with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                    self._cluster = LocalCluster(
                        n_workers=self._local_workers(),
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        resources=self.resources or None,
                        # no dashboard, and the scheduler's HTTP routes on a free loopback port: on Dask's
                        # default 8787 a second search running at once printed "Port 8787 is already in use"
                        scheduler_kwargs={
                            "allowed_failures": self.retries,
                            "dashboard": False,
                            "dashboard_address": "127.0.0.1:0",
                        },
                        silence_logs=logging.ERROR,
                        preload=["nasforge.executors._worker_setup"],  # Ctrl-C is the driver's to handle
                    )
                self.client = Client(self._cluster, timeout=self.timeout)
            else:
                self.client = Client(self.address, security=self.security, timeout=self.timeout)
        except (OSError, TimeoutError) as exc:
            self.shutdown()
            where = self.address or "a local cluster"
            raise ExecutorError(f"executor: cannot reach the Dask scheduler at {where} ({exc})") from None

    @property
    def capacity(self) -> int:  # type: ignore[override]
        """Trials that can run at once now: the search keeps that many in flight.

        Worker threads, or with ``resources`` the room the workers have for them (two trials on a worker
        with ``GPU=2``, none on one without). Counted at most once a second: asking the scheduler was 4 ms of
        the driver's 12 ms per trial (``benchmarks/driver_scale.py``). With no room it waits ``timeout``
        seconds for some (a nanny restarting a killed worker), then raises :class:`ExecutorError`.
        """
        if self.client is None:
            return self.workers or 1
        now = time.monotonic()
        if now - self._counted_at < _RECOUNT_SECONDS:
            return self._slots
        slots, deadline = self._count_slots(), now + self.timeout
        while slots == 0 and time.monotonic() < deadline:
            time.sleep(0.25)
            slots = self._count_slots()
        if slots == 0:
            needs = f" with {', '.join(f'{k}={v:g}' for k, v in self.resources.items())}" if self.resources else ""
            raise ExecutorError(
                f"executor: no Dask worker{needs} left after waiting {self.timeout:g} s; start workers, then "
                "'nasforge resume' the run"
            )
        self._slots, self._counted_at = slots, time.monotonic()
        return slots

    def _count_slots(self) -> int:
        try:
            if not self.resources:
                return sum(self.client.nthreads().values())
            workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        except OSError as exc:  # Dask's CommClosedError: the scheduler is gone
            raise self._lost() from exc
        needs = self.resources.items()
        return sum(min(int(w.get("resources", {}).get(k, 0) // v) for k, v in needs) for w in workers)

    def _lost(self) -> ExecutorError:
        """The scheduler is gone: the search stops as interrupted (no trial is failed for it) and resumes later."""
        return ExecutorError(
            f"executor: lost the Dask scheduler at {self.address or 'the local cluster'}; 'nasforge resume' the run "
            "once it is back"
        )

    def describe(self) -> str:
        if self.address is not None:
            return f"on the Dask cluster at {self.address}"
        workers = self._local_workers()
        return f"on {workers} worker process{'es' if workers > 1 else ''}"

    def _local_workers(self) -> int:
        """``workers``, by default one per core this process may use: a SLURM job's or ``taskset``'s share and a
        container's CPU quota, not every core of the machine (``os.cpu_count()``): each worker loads its own torch."""
        from dask.system import cpu_count

        return self.workers or cpu_count()

    def submit(self, arch: Hashable, seed: int, plan: Plan | None = None) -> _Trial:
        return _Trial(self._send(arch, seed, plan), (arch, seed, plan), self.retries)

    def _send(self, arch: Hashable, seed: int, plan: Plan | None) -> Any:
        if self._remote is None or self._remote.status != "finished":  # every copy was lost: ship it again
            self._ship()
        return self.client.submit(
            _evaluate, self._remote, arch, seed, plan, pure=False, resources=self.resources or None, retries=0
        )

    def wait_any(self, futures: Iterable[_Trial]) -> set[_Trial]:
        """The trials done (finished, failed, or cancelled with no retry left); cancelled ones with retries left
        are sent again, with a fresh copy of the evaluator, and waited on. A lost scheduler raises
        :class:`ExecutorError`, so that the runner marks the trials in flight interrupted for a resume."""
        from distributed import wait

        trials = list(futures)
        while True:
            with suppress(CancelledError):  # Dask's wait raises for a cancelled future: sorted out below
                wait([t.task for t in trials], return_when="FIRST_COMPLETED")
            cancelled = [t for t in trials if t.task.cancelled()]
            if any(_lost_with_the_scheduler(t.task) for t in cancelled):  # not a trial's failure: resume redoes it
                raise self._lost()
            if cancelled:
                self._remote = None  # lost with its workers, even if the client has not heard yet: ship it again
            for trial in cancelled:
                if trial.retries:
                    trial.retries -= 1
                    trial.task = self._send(*trial.args)
            done = {t for t in trials if t.task.done()}
            if done:
                return done

    def shutdown(self) -> None:
        """Close the client, and the local cluster when this executor started it.

        Closing the client releases every trial of it (Ctrl-C, a search that failed, with trials in flight): the
        scheduler drops them, so one not started never starts. Dask cannot stop a running trial's thread: on a
        cluster at an address it trains to its end, its result dropped; the local cluster's worker processes
        stop with the cluster.
        """
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = self._remote = None
