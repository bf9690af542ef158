"""What keeping time for re-ranking costs the driver: a long search with and without ``final.rerank``.

    python benchmarks/rerank_overhead.py                 # 1,000 trials
    python benchmarks/rerank_overhead.py --trials 3000

Before every trial the runner asks how much of the budget re-ranking's repeats will need (``Rerank.reserve``).
Evaluations here cost nothing (each returns a stored-looking result with a 20-epoch curve), so what is timed is
the driver alone: the strategy, the store and that question. Both searches run in this process, on an in-memory
store; printed: seconds for each and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Hashable

from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.rerank import Rerank
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RandomSearch


class InstantCurves(Evaluator):
    """A result at once: accuracy from the seed, a 20-epoch curve, a millisecond of training time."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        curve = tuple({"epoch": e, "accuracy": 0.5, "loss": 1.0} for e in range(1, 21))
        costs = {"epochs": 20.0, "epochs_trained": 20.0, "train_seconds": 0.001}
        return Evaluation({"accuracy": 0.5 + seed % 1000 / 1e5, "loss": 1.0}, costs, curve=curve)

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


def search_seconds(trials: int, rerank: Rerank | None) -> float:
    run = Run(CellSpace(), RandomSearch(), InstantCurves(), SQLiteStore(":memory:"), rerank=rerank)
    start = time.perf_counter()
    run.optimize(Budget(trials=trials))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args()
    plain = search_seconds(args.trials, None)
    reranked = search_seconds(args.trials, Rerank(top=5, repeats=1, auto=False))
    print(
        f"{args.trials} trials: without re-ranking {plain:.1f} s, with rerank 5 {reranked:.1f} s, "
        f"ratio {reranked / plain:.2f}x"
    )


if __name__ == "__main__":
    main()
