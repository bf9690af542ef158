"""Search overhead per ask+tell (strategy time only, evaluation excluded) at 300 trials, vs random search.

    python benchmarks/strategy_overhead.py --trials 300 --seeds 3

Every strategy, and Optuna's TPE sampler on the same six categorical choices, runs ``trials`` trials on the
NAS-Bench-201 cell space with scores from the 12-epoch CIFAR-10 table (a synthetic score when the table is
absent). Only the time inside ``ask_new`` (ask plus free repeats) and ``tell`` is counted. The table reports
the mean over all trials and over the last 100 (where a model-based strategy is slowest), and the ratio to
random search measured in the same process.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Hashable

import numpy as np
from threadpoolctl import threadpool_limits

from nasforge.spaces import CellSpace
from nasforge.strategies import STRATEGIES, Strategy, ask_new
from nasforge.tabular import default_nb201_dir, load_nb201
from nb201_strategies import OptunaTPE


def scorer() -> Callable[[Hashable], float]:
    path = default_nb201_dir() / "nb201_12ep.csv.gz"
    if path.is_file():
        table = load_nb201(str(path))
        valid = table.valid("cifar10")
        return lambda arch: float(valid[table.row(arch)])
    print(f"(no table at {path}: using a synthetic score)")
    return lambda arch: float(sum(len(op) for op in arch.ops))


def overhead(strategy: Strategy, trials: int, seed: int, score: Callable[[Hashable], float]) -> np.ndarray:
    """Seconds spent in the strategy for each trial."""
    strategy.bind(CellSpace(), seed)
    seen: dict[Hashable, float | None] = {}
    out = np.empty(trials)
    for t in range(trials):
        start = time.perf_counter()
        arch = ask_new(strategy, seen)
        middle = time.perf_counter()
        value = score(arch)
        resume = time.perf_counter()
        strategy.tell(arch, value)
        out[t] = (middle - start) + (time.perf_counter() - resume)
        seen[arch] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--strategies", default=",".join(STRATEGIES.names()))
    args = parser.parse_args()
    score = scorer()
    strategies: dict[str, Callable[[], Strategy]] = {n: STRATEGIES.get(n) for n in args.strategies.split(",")}
    strategies["optuna_tpe"] = OptunaTPE
    rows = {}
    with threadpool_limits(limits=1):  # as in the benchmark workers: one BLAS thread per process
        for label, factory in strategies.items():
            times = np.stack([overhead(factory(), args.trials, seed, score) for seed in range(args.seeds)])
            rows[label] = (times.mean() * 1e3, times[:, -100:].mean() * 1e3, times[:, -100:].max() * 1e3)
    base = rows.get("random", (float("nan"),) * 3)
    print(f"overhead per ask+tell, {args.trials} trials, mean of {args.seeds} seeds (ms)")
    print("| strategy | mean, all trials | mean, last 100 | max, last 100 | last 100 vs random |")
    print("|---|---:|---:|---:|---:|")
    for label, (mean_all, mean_last, worst) in rows.items():
        print(f"| {label} | {mean_all:.3f} | {mean_last:.3f} | {worst:.1f} | {mean_last / base[1]:.0f}x |")


if __name__ == "__main__":
    main()
