"""What driving the tabular benchmark through ``Run`` costs, against a bare ask/evaluate/tell loop.

    python benchmarks/harness_speed.py                       # every strategy, 10 seeds, 300 queries
    python benchmarks/harness_speed.py --strategies random,evolution --seeds 20

``nasforge bench`` runs every search through :class:`nasforge.run.Run` (an in-memory SQLite store, callbacks,
the executor seam), the loop users run. Until issue 17 it had its own loop: bind, ``ask_new``, evaluate,
``tell``, keep the best. That loop is reproduced here as the baseline, and both run the same strategies,
seeds and table in this process, one after the other per seed, on one BLAS thread. Printed per strategy:
seconds for all seeds each way, the ratio, and the extra milliseconds per query.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Hashable

from threadpoolctl import threadpool_limits

from nasforge.evaluators import TabularEvaluator
from nasforge.exceptions import NasforgeError
from nasforge.strategies import STRATEGIES, SpaceExhausted, Strategy, ask_new
from nasforge.tabular import default_nb201_dir, load_nb201, run_search


def bare_loop(strategy: Strategy, table_path: str, seed: int, queries: int) -> float:
    """The pre-``Run`` harness loop: the best validation architecture's test accuracy after ``queries``."""
    evaluator = TabularEvaluator(load_nb201(table_path), "cifar10")
    strategy.bind(evaluator.table.space, seed)
    seen: dict[Hashable, float | None] = {}
    best: tuple[float, int] | None = None
    best_arch: Hashable = None
    for _ in range(queries):
        try:
            arch = ask_new(strategy, seen)
        except SpaceExhausted:
            break
        try:
            score: float | None = evaluator.evaluate(arch, seed).metrics["accuracy"]
        except NasforgeError:
            score = None
        seen[arch] = score
        strategy.tell(arch, score)
        if score is not None and (best is None or (score, -evaluator.table.row(arch)) > best):
            best, best_arch = (score, -evaluator.table.row(arch)), arch
    return float(evaluator.final_test(best_arch, seed).metrics["accuracy_pct"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", default=",".join(STRATEGIES.names()))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    table_path = str(default_nb201_dir() / "nb201_12ep.csv.gz")
    load_nb201(table_path)  # read once, outside both timings
    print(f"{'strategy':<14}{'bare loop s':>12}{'Run s':>10}{'ratio':>8}{'extra ms/query':>16}")
    totals = [0.0, 0.0]
    with threadpool_limits(limits=1):
        for name in args.strategies.split(","):
            bare = through_run = 0.0
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                bare_loop(STRATEGIES.get(name)(), table_path, seed, args.queries)
                t1 = time.perf_counter()
                run_search(STRATEGIES.get(name)(), table_path, "cifar10", seed, args.queries, (args.queries,))
                bare, through_run = bare + t1 - t0, through_run + time.perf_counter() - t1
            totals[0], totals[1] = totals[0] + bare, totals[1] + through_run
            extra = (through_run - bare) / (args.seeds * args.queries) * 1e3
            print(f"{name:<14}{bare:12.2f}{through_run:10.2f}{through_run / bare:7.2f}x{extra:16.3f}", flush=True)
    print(f"{'all':<14}{totals[0]:12.2f}{totals[1]:10.2f}{totals[1] / totals[0]:7.2f}x")


if __name__ == "__main__":
    main()
