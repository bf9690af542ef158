"""How many Dask workers one nasforge driver keeps busy: the driver's cost per trial, with trials that only sleep.

    python benchmarks/driver_scale.py                       # 16, 32 and 64 workers, 1 s trials, then saturation
    python benchmarks/driver_scale.py --strategies random   # one strategy only

The driver is the one serial part of a parallel search: per trial it asks the strategy, writes the trial to the
SQLite store twice (created, finished), waits on Dask futures and tells the strategy. This script measures it
with an evaluator that sleeps a fixed time and returns a random accuracy, on a Dask ``LocalCluster`` of
single-threaded *thread* workers in this process (sleeping needs no cores), through the same ``Run`` and
``DaskExecutor`` a real search uses, with the store on disk.

1. Utilisation: N workers, trials of T seconds, for about ``--rounds`` trials per worker: finished trials x T /
   (N x wall-clock) is the share of worker time spent in trials.
2. Saturation: trials of ``--short`` seconds on 64 workers, far more than one driver can feed: trials per second
   is then the driver's ceiling, and 1 / ceiling its cost per trial. One driver keeps about ceiling x T workers
   busy on T-second trials (Little's law), printed for T = 1, 10 and 60 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from nasforge.api import make_strategy
from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.executors import DaskExecutor
from nasforge.run import Run
from nasforge.spaces import ChainSpace
from nasforge.store import SQLiteStore
from nasforge.trial import TrialState


class SleepEvaluator(Evaluator):
    """A trial that takes ``seconds`` and scores a reproducible random accuracy."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        time.sleep(self.seconds)
        accuracy = float(np.random.default_rng(seed).uniform(0.5, 1.0))
        return Evaluation({"accuracy": accuracy, "loss": 1 - accuracy}, {"flops": 1e6})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        raise NotImplementedError("the driver benchmark never tests")


def search(address: str, strategy: str, seconds: float, trials: int) -> tuple[int, float]:
    """Finished trials and wall-clock seconds of one search of ``trials`` sleeping trials."""
    space = ChainSpace(input_shape=(1, 28, 28))  # 1.7M architectures: no strategy runs out
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "store.sqlite")
        executor = DaskExecutor(address)
        run = Run(space, make_strategy(strategy), SleepEvaluator(seconds), store, executor=executor)
        t0 = time.perf_counter()
        run.optimize(Budget(trials=trials))
        wall = time.perf_counter() - t0
        executor.shutdown()
        finished = len(store.trials(states=(TrialState.FINISHED,)))
        store.close()
    return finished, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", default="evolution,random", help="comma-separated [evolution,random]")
    parser.add_argument("--workers", default="16,32,64", help="worker counts for the utilisation runs")
    parser.add_argument("--trial-seconds", type=float, default=1.0, help="utilisation runs: seconds a trial [1]")
    parser.add_argument("--rounds", type=int, default=8, help="utilisation runs: trials per worker [8]")
    parser.add_argument("--short", type=float, default=0.01, help="saturation run: seconds a trial [0.01]")
    parser.add_argument("--saturation-trials", type=int, default=1000, help="saturation run: trials [1000]")
    args = parser.parse_args()

    from distributed import LocalCluster

    counts = [int(n) for n in args.workers.split(",")]
    top = max([*counts, 64])
    with LocalCluster(
        n_workers=top,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",  # the driver talks TCP to the scheduler, as with a real cluster
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=0,  # sleeping trials: no memory to watch
    ) as cluster:
        for strategy in args.strategies.split(","):
            print(f"== {strategy}", flush=True)
            for n in counts:
                cluster.scale(n)
                time.sleep(1.0)
                finished, wall = search(cluster.scheduler_address, strategy, args.trial_seconds, n * args.rounds)
                busy = finished * args.trial_seconds / (n * wall)
                print(f"  {n:3d} workers, {args.trial_seconds:g} s trials: {finished} in {wall:.1f} s, busy {busy:.1%}")
            cluster.scale(top)
            time.sleep(1.0)
            finished, wall = search(cluster.scheduler_address, strategy, args.short, args.saturation_trials)
            ceiling = finished / wall
            print(
                f"  saturation ({top} workers, {args.short:g} s trials): {ceiling:.0f} trials/s, "
                f"{1000 / ceiling:.1f} ms of driver per trial"
            )
            kept = ", ".join(f"{t} s trials ~{ceiling * t:.0f}" for t in (1, 10, 60))
            print(f"  workers one driver keeps busy: {kept}")


if __name__ == "__main__":
    main()
