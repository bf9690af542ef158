"""The measurements behind the chain space's image defaults (issue 16), on drawn 28x28 digits.

    python benchmarks/image_defaults.py chains --rules old --n 18     # random chains of the pre-issue-16 defaults
    python benchmarks/image_defaults.py chains --rules new --n 30     # under min_receptive_field / max_activations
    python benchmarks/image_defaults.py chains --rules new --size 64  # the same at another image size
    python benchmarks/image_defaults.py layout                        # channels-last against the default layout

Data: ``nasforge.data.glyphs(n=5000, size=SIZE, seed=1, jitter=JITTER)``, one 60/20/20 split (seed 0).

``chains`` draws N chains from ``ChainSpace`` (``--rules old``: ``min_receptive_field=0, max_activations=None``,
the defaults before issue 16; ``new``: today's defaults), trains each with the default trainer (8 epochs) and
prints its validation accuracy, FLOPs, seconds and receptive field, then the accuracies grouped by how much of
the image the last layer sees.

``layout`` trains the same chains for two epochs with a plain PyTorch loop (Adam, batch 64, one thread) in the
default layout and in channels-last (the trainer's layout for images), alternating, and prints the ratio of the
median times: the speed-up that alone changed nothing but the memory layout.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from nasforge.data import glyphs, split
from nasforge.evaluators import Trainer, TrainEvaluator
from nasforge.spaces import ChainSpace

LAYOUT_CHAINS = (
    "conv(16,k5,s1,relu,pool)",
    "conv(64,k5,s1,relu,pool)",
    "conv(16,k3,s1,relu,pool)>conv(32,k3,s1,relu,pool)>conv(64,k3,s1,relu,pool)",
    "conv(16,k5,s1,relu,pool)>conv(64,k3,s1,relu,pool)>conv(32,k5,s1,relu)>conv(16,k5,s1,relu,pool)",
)


def chains(args: argparse.Namespace) -> None:
    splits = split(glyphs(n=5000, size=args.size, seed=1, jitter=args.jitter), seed=0)
    old = {"min_receptive_field": 0.0, "max_activations": None}
    space = ChainSpace(input_shape=splits.input_shape, **(old if args.rules == "old" else {}))
    evaluator = TrainEvaluator(space, splits, Trainer())
    rng = np.random.default_rng(args.seed)
    side = min(splits.input_shape[1:])
    rows: list[dict[str, Any]] = []
    print(f"{'valid acc':>9} {'MFLOPs':>7} {'seconds':>7} {'field':>5}  chain", flush=True)
    for _ in range(args.n):
        arch = space.sample(rng)
        t0 = time.perf_counter()
        evaluation = evaluator.evaluate(arch, seed=int(rng.integers(2**31)))
        row = {
            "acc": evaluation.metrics["accuracy"],
            "mflops": evaluation.costs["flops"] / 1e6,
            "seconds": time.perf_counter() - t0,
            "field": space.receptive_field(arch),
        }
        rows.append(row)
        print(f"{row['acc']:>9.3f} {row['mflops']:>7.2f} {row['seconds']:>7.1f} {row['field']:>5}  {arch}", flush=True)
    print(f"\n{args.rules} rules, {side}x{side}: last layer sees | chains | validation accuracy | seconds per trial")
    groups = (("under 1/2", 0.0, 0.5), ("1/2 to 2/3", 0.5, 2 / 3), ("2/3 or more", 2 / 3, np.inf))
    for name, lo, hi in groups:
        mine = [r for r in rows if lo <= r["field"] / side < hi]
        if mine:
            accs, secs = [r["acc"] for r in mine], [r["seconds"] for r in mine]
            print(
                f"  {name:11} | {len(mine):3} | {min(accs):.3f}-{max(accs):.3f} (median {statistics.median(accs):.3f})"
                f" | mean {statistics.mean(secs):.1f}, max {max(secs):.1f}"
            )
    accs, secs = [r["acc"] for r in rows], [r["seconds"] for r in rows]
    print(
        f"  {'all':11} | {len(rows):3} | {min(accs):.3f}-{max(accs):.3f} (median {statistics.median(accs):.3f})"
        f" | mean {statistics.mean(secs):.1f}, max {max(secs):.1f}"
    )


def layout(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    splits = split(glyphs(n=5000, size=args.size, seed=1, jitter=args.jitter), seed=0)
    X, y = torch.from_numpy(splits.train[0]), torch.from_numpy(splits.train[1])
    space = ChainSpace(input_shape=splits.input_shape, min_receptive_field=0.0, max_activations=None)

    def train(text: str, memory_format: torch.memory_format) -> float:
        torch.manual_seed(0)
        model = space.build(text, splits.input_shape, splits.num_classes).to(memory_format=memory_format)
        data = X.contiguous(memory_format=memory_format)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        generator = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for _ in range(2):
            order = torch.randperm(len(y), generator=generator)
            for i in range(0, len(y) - 1, 64):
                idx = order[i : i + 64]
                optimizer.zero_grad()
                F.cross_entropy(model(data[idx]), y[idx]).backward()
                optimizer.step()
        return time.perf_counter() - start

    print(f"{'default s':>9} {'channels-last s':>15} {'ratio':>6}  chain (2 epochs, median of {args.repeats})")
    for text in LAYOUT_CHAINS:
        times: dict[torch.memory_format, list[float]] = {torch.contiguous_format: [], torch.channels_last: []}
        for _ in range(args.repeats):
            for memory_format in times:
                times[memory_format].append(train(text, memory_format))
        plain, last = (statistics.median(t) for t in times.values())
        print(f"{plain:>9.2f} {last:>15.2f} {last / plain:>5.2f}x  {text}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("chains", "layout"))
    parser.add_argument("--rules", choices=("old", "new"), default="new", help="which chain space [new]")
    parser.add_argument("--n", type=int, default=30, help="random chains to train [30]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the chain draws [0]")
    parser.add_argument("--size", type=int, default=28, help="image side in pixels [28]")
    parser.add_argument("--jitter", type=float, default=0.05, help="glyphs' jitter [0.05, as in the study]")
    parser.add_argument("--repeats", type=int, default=3, help="layout: timings per chain and layout [3]")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.what == "chains":
        chains(args)
    else:
        layout(args)


if __name__ == "__main__":
    main()
