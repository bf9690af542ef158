"""Is measured latency stable enough to rank architectures? Spread of repeated timings, and two passes compared.

    python benchmarks/latency_stability.py                   # 50 chain architectures on digits, batch 1
    python benchmarks/latency_stability.py --space cell --batch 8

Each architecture is sampled from the space, built for the data's input shape and timed exactly as a search
times it (``TrainEvaluator.costs``: ``measure_latency`` with 3 warm-up and 15 timed passes, the trainer's
thread count). Pass 1 times all architectures, then pass 2 times them all again, so that the two readings of
one model are apart (every other model ran between them), not back to back. Printed: the median and the worst
relative spread (interquartile range / median) of one model's timings, the Spearman rank correlation of the two
passes' medians, and the ratio of each model's pass-2 median to its pass-1 median (the baseline in the same
process).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from scipy.stats import spearmanr

import nasforge as nf
from nasforge.api import make_space
from nasforge.data import split
from nasforge.evaluators import TrainEvaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits", help="a built-in dataset (its input shape is what is timed)")
    parser.add_argument("--space", default="chain")
    parser.add_argument("--archs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    splits = split(nf.data.load({"builtin": args.data}), seed=args.seed)
    space = make_space(args.space, splits.input_shape)
    evaluator = TrainEvaluator(space, splits, latency=True, latency_batch=args.batch)
    rng = np.random.default_rng(args.seed)
    models = [space.build(space.sample(rng), splits.input_shape, splits.num_classes) for _ in range(args.archs)]
    start = time.perf_counter()
    passes = [[evaluator.costs(m) for m in models] for _ in range(2)]
    seconds = time.perf_counter() - start
    first = np.array([c["latency_ms"] for c in passes[0]])
    second = np.array([c["latency_ms"] for c in passes[1]])
    spread = np.array([c["latency_spread_ms"] / c["latency_ms"] for p in passes for c in p])
    rho = spearmanr(first, second).statistic
    ratio = second / first
    threads = passes[0][0]["latency_threads"]
    print(
        f"{args.archs} {args.space} architectures on {args.data} {splits.input_shape}, batch {args.batch}, "
        f"{threads} thread(s), {platform.processor() or platform.machine()}, {seconds:.1f} s for both passes"
    )
    print(f"latency range: {first.min():.3f} .. {first.max():.3f} ms (pass 1)")
    print(
        f"relative spread (IQR / median) of one model's 15 timings: median {np.median(spread):.3f}, "
        f"90th percentile {np.quantile(spread, 0.9):.3f}, worst {spread.max():.3f}"
    )
    print(f"pass 2 / pass 1 median ratio: median {np.median(ratio):.3f}, range {ratio.min():.3f} .. {ratio.max():.3f}")
    print(f"Spearman rank correlation of the two passes: {rho:.3f}")


if __name__ == "__main__":
    main()
