"""Dask's ``LocalCluster`` against a plain ``ProcessPoolExecutor`` as the engine of ``executor: processes``.

    python benchmarks/executor_choice.py              # 2 workers, 3 repeats of each start-up

Issue 17 asks for one code path where a ``LocalCluster`` serves as well as a plain process pool would. Both
start ``--workers`` processes of one thread on this machine, in this process, one after the other:

- start-up: from nothing to the first finished task on every worker, a task that imports what a trial needs
  (torch and nasforge's trainer), with torch already loaded in the driver as in every search (median of
  ``--repeats``). The pool forks (Linux default), so its workers inherit the driver's imports; Dask's nanny
  spawns fresh interpreters;
- memory: resident and unique memory (psutil RSS, USS) of every process each one starts, plus the
  driver's own growth (Dask runs its scheduler in the driver);
- round trip: one trivial task submitted and awaited at a time, ``--tasks`` times (what the driver pays per
  trial on top of the training);
- faults: two 3-second tasks are running when one worker process is SIGKILLed: which of them survive,
  what error the other gets, and whether the executor takes new work afterwards (and how soon).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import psutil
import torch  # noqa: F401 (loaded in the driver, as in every search)


def ready() -> int:
    import nasforge.evaluators  # noqa: F401 (torch and the trainer, what every trial needs)

    return os.getpid()


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def echo(x: int) -> int:
    return x


class Pool:
    """``concurrent.futures.ProcessPoolExecutor``, the plain alternative."""

    name = "ProcessPoolExecutor"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers)

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def worker_pids(self) -> list[int]:
        return list(self.pool._processes)  # the pool has no public accessor for its pids

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Cluster:
    """Dask's ``LocalCluster`` as ``DaskExecutor`` starts it (processes, one thread each, 127.0.0.1)."""

    name = "Dask LocalCluster"

    def __init__(self, workers: int) -> None:
        import logging

        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"allowed_failures": 0},
            silence_logs=logging.ERROR,
        )
        self.client = Client(self.cluster)
        self.workers = workers

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def worker_pids(self) -> list[int]:
        return list(self.client.run(os.getpid).values())

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


def started(kind: type, workers: int) -> tuple[Any, float]:
    """An executor whose every worker has finished one task, and how long that took."""
    t0 = time.perf_counter()
    executor = kind(workers)
    pids: set[int] = set()
    while len(pids) < workers:  # until every worker has run one
        pids.update(f.result() for f in [executor.submit(ready) for _ in range(workers)])
    return executor, time.perf_counter() - t0


def memory(driver_before: int) -> tuple[float, float, float]:
    """MiB: RSS and USS summed over the driver's child processes, and the driver's RSS growth."""
    me = psutil.Process()
    rss = uss = 0
    for child in me.children(recursive=True):
        try:
            info = child.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss, uss = rss + info.rss, uss + info.uss
    return rss / 2**20, uss / 2**20, (me.memory_info().rss - driver_before) / 2**20


def round_trip(executor: Any, tasks: int) -> float:
    t0 = time.perf_counter()
    for n in range(tasks):
        executor.submit(echo, n).result()
    return (time.perf_counter() - t0) / tasks * 1e3


def fault(executor: Any) -> str:
    """Kill one worker while two 3 s tasks run; report what became of them and of the executor."""
    running = [executor.submit(nap, 3.0) for _ in range(2)]
    time.sleep(1.0)
    victim = executor.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    outcomes = []
    for future in running:
        try:
            pid = future.result(timeout=60)
            outcomes.append("finished" + (" (on the killed worker?)" if pid == victim else ""))
        except Exception as exc:  # what each engine raises is the point of the measurement
            outcomes.append(type(exc).__name__)
    t0 = time.perf_counter()
    try:
        executor.submit(echo, 1).result(timeout=60)
        after = f"new task ran {time.perf_counter() - t0:.2f} s later"
    except Exception as exc:  # a broken pool refuses all further work
        after = f"new task refused: {type(exc).__name__}"
    return f"running tasks: {', '.join(outcomes)}; {after}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=300)
    args = parser.parse_args()
    for kind in (Pool, Cluster):
        startups = []
        for _ in range(args.repeats):
            before = psutil.Process().memory_info().rss
            executor, seconds = started(kind, args.workers)
            startups.append(seconds)
            rss, uss, driver = memory(before)
            executor.close()
        executor, _ = started(kind, args.workers)
        trip = round_trip(executor, args.tasks)
        outcome = fault(executor)
        executor.close()
        each = ", ".join(f"{s:.2f}" for s in startups)
        print(
            f"{kind.name}: start-up {statistics.median(startups):.2f} s (of {each}); "
            f"children RSS {rss:.0f} MiB, USS {uss:.0f} MiB, driver +{driver:.0f} MiB; "
            f"round trip {trip:.2f} ms/task\n  fault: {outcome}",
            flush=True,
        )


if __name__ == "__main__":
    main()
