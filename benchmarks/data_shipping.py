"""How long the workers take to get the data: the driver sends it (``data: send``) or they load it (``data: load``).

    python benchmarks/data_shipping.py                   # 50, 200 and 800 MB of training data, 2 workers

A synthetic image dataset of the given size (float32, 3x32x32, saved as ``.npz`` in a temporary directory and
loaded through ``nasforge.data.load`` as a search would) is split as in a search (60% train, 20% valid, 20%
test). For each mode a fresh local cluster of two worker processes is started, then timed: ``start`` (the
evaluator sent to every worker) until every worker has deserialised it and can train (one task per worker
reads its tensors); the workers have imported torch and nasforge before the clock starts. Printed with the
resident memory of the driver and of the workers afterwards. On one machine ``load`` reads the same disk with
the same cores, so it shows the cost of loading and checking, not the network it saves on a cluster.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from nasforge.data import load, split
from nasforge.evaluators import Trainer, TrainEvaluator
from nasforge.executors import DaskExecutor
from nasforge.spaces import ChainSpace


def samples_held(evaluator: TrainEvaluator) -> int:
    return len(evaluator._train[1]) + len(evaluator._valid[1])


def ready_seconds(evaluator: TrainEvaluator, warm_up: TrainEvaluator, data: str) -> tuple[float, float, float]:
    """Seconds until both workers hold the data; driver and workers' RSS (GiB) at that point."""
    executor = DaskExecutor(workers=2, data=data, timeout=120)
    # before the clock: the cluster starts and a tiny evaluator is sent, which costs about 2 s once (the workers
    # import torch, nasforge and Dask's tensor serialisers); the loader's own imports are done too
    executor.start(warm_up)
    executor.client.run(importlib.import_module, "sklearn.model_selection")
    try:
        t0 = time.perf_counter()
        executor.start(evaluator)
        addresses = list(executor.client.scheduler_info()["workers"])
        held = [executor.client.submit(samples_held, executor._remote, workers=[a], pure=False) for a in addresses]
        assert len({f.result() for f in held}) == 1
        seconds = time.perf_counter() - t0
        me = psutil.Process()
        workers = sum(c.memory_info().rss for c in me.children(recursive=True))
        return seconds, me.memory_info().rss / 2**30, workers / 2**30
    finally:
        executor.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", default="50,200,800", help="sizes of the whole dataset in MB")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for mb in (int(m) for m in args.mb.split(",")):
        n = mb * 2**20 // (3 * 32 * 32 * 4)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "data.npz"
            np.savez(path, X=rng.standard_normal((n, 3, 32, 32), dtype=np.float32), y=rng.integers(0, 10, n))
            splits = split(load({"path": str(path)}), seed=0)
            space = ChainSpace(input_shape=splits.input_shape)
            evaluator = TrainEvaluator(space, splits, Trainer())
            tiny = TrainEvaluator(space, split(load({"path": str(path)}), seed=0, valid=0.9, test=0.05), Trainer())
            for data in ("send", "load"):
                seconds, driver, workers = ready_seconds(evaluator, tiny, data)
                print(
                    f"{mb:5d} MB ({n} samples), data: {data:<4}  workers ready in {seconds:6.2f} s   "
                    f"RSS driver {driver:5.2f} GiB, workers {workers:5.2f} GiB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
