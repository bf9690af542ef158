"""Finished trials per minute on digits with the default chain search, in this process and on worker processes.

    python benchmarks/parallel_throughput.py                  # 120 s of search per setting
    python benchmarks/parallel_throughput.py --seconds 30     # a quick look
    python benchmarks/parallel_throughput.py --strategy random   # the same architectures in every setting

Settings, run one after another in this process: ``local`` (the in-process executor, the baseline),
``processes`` with 1 worker and with 2 (``executor: {type: processes, workers: N}``, a Dask ``LocalCluster`` of
N single-threaded worker processes on 127.0.0.1). Each runs the same search (seed 0, default space, strategy
and trainer) through :class:`nasforge.run.Run` with an in-memory store for ``--seconds`` of search; the
executor is started before the clock (its start-up is printed apart). Trials per minute = finished trials /
search seconds x 60; the ratios are against ``processes`` with 1 worker and against ``local``. After each
search the workers are shut down and the driver retrains the winner on train+validation, tests it once and
exports it (``best.pt``, verified ``best.onnx``, ``best.json``), as ``nasforge search`` does; that phase runs in
the driver whatever the executor, and its seconds are printed apart.

With the default strategy (evolution) the architectures differ between settings: what a strategy asks depends
on the results told so far, and with two workers they arrive in another order. ``--strategy random`` asks the
same architectures in the same order whatever the executor, so its ratios compare like with like.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nasforge.api import make_executor, make_space, make_strategy
from nasforge.budget import Budget
from nasforge.data import digits, split
from nasforge.evaluators import Trainer, TrainEvaluator
from nasforge.run import Run
from nasforge.store import SQLiteStore
from nasforge.trial import TrialState
from nasforge.winner import report_winner

SETTINGS = {
    "local": {"type": "local"},
    "processes x1": {"type": "processes", "workers": 1},
    "processes x2": {"type": "processes", "workers": 2},
}


def measure(name: str, spec: dict, seconds: float, strategy: str) -> dict[str, float]:
    splits = split(digits(), seed=0)
    space = make_space("chain", splits.input_shape)
    evaluator = TrainEvaluator(space, splits, Trainer())
    executor = make_executor(spec)
    t0 = time.perf_counter()
    executor.start(evaluator)
    startup = time.perf_counter() - t0
    run = Run(space, make_strategy(strategy), evaluator, SQLiteStore(":memory:"), seed=0, executor=executor)
    t0 = time.perf_counter()
    try:
        run.optimize(Budget(seconds=seconds))
    finally:
        wall = time.perf_counter() - t0
        executor.shutdown()
    finished = len(run.store.trials(states=(TrialState.FINISHED,)))
    failed = len(run.store.trials(states=(TrialState.FAILED,)))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        report_winner(run, Path(out), splits.input_shape, splits.num_classes)
    final = time.perf_counter() - t0
    result = {
        "startup": startup,
        "wall": wall,
        "finished": finished,
        "failed": failed,
        "per_min": finished / wall * 60,
        "final": final,
    }
    print(
        f"{name:<14} start-up {startup:5.1f} s  search {wall:6.1f} s  finished {finished:4d}  failed {failed}  "
        f"{result['per_min']:6.1f} trials/min  retrain+test+export {final:5.1f} s",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120.0, help="search seconds per setting [120]")
    parser.add_argument("--strategy", default="evolution", help="search strategy [evolution, the default]")
    args = parser.parse_args()
    results = {name: measure(name, spec, args.seconds, args.strategy) for name, spec in SETTINGS.items()}
    one, two, local = results["processes x1"], results["processes x2"], results["local"]
    print(f"\nprocesses x2 / processes x1: {two['per_min'] / one['per_min']:.2f}x")
    print(f"processes x2 / local:        {two['per_min'] / local['per_min']:.2f}x")
    print(f"processes x1 / local:        {one['per_min'] / local['per_min']:.2f}x")


if __name__ == "__main__":
    main()
