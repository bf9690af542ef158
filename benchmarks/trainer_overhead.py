"""Per-trial time of nasforge's TrainEvaluator against a minimal hand-written PyTorch loop, same process.

The target: nasforge's per-trial overhead at most 1.1x a plain loop at equal epochs (Adam 3e-3, 8 epochs,
batch 64, one torch thread) on digits with a small CNN (conv 32 -> conv 64, BN + ReLU, global average pool,
linear). Trials of the two kinds alternate so that drift of the machine hits both alike; medians are
compared. Run: ``python benchmarks/trainer_overhead.py [--trials 5] [--epochs 8]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Hashable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from nasforge.data import digits, split
from nasforge.evaluators import Trainer, TrainEvaluator
from nasforge.spaces import Decision, SearchSpace


def small_cnn(channels: int, num_classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )


class OneCNN(SearchSpace):
    """A space holding only the benchmark CNN, so that the evaluator's whole per-trial path is timed."""

    name = "one-cnn"

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return (Decision("net", ("cnn",)),)

    def from_decisions(self, values: Sequence[int]) -> Hashable:
        return "cnn"

    def to_decisions(self, arch: Hashable) -> tuple[int, ...]:
        return (0,)

    def to_string(self, arch: Hashable) -> str:
        return "cnn"

    def from_string(self, text: str) -> Hashable:
        return "cnn"

    def build(self, arch: Hashable, input_shape: Sequence[int], num_classes: int) -> nn.Module:
        return small_cnn(input_shape[0], num_classes)

    def config(self) -> dict[str, Any]:
        return {}


def plain_trial(Xtr, ytr, Xva, yva, seed: int, epochs: int) -> float:
    """What a user writes by hand: build, Adam, shuffled index-sliced batches, accuracy on validation."""
    torch.manual_seed(seed)
    model = small_cnn(Xtr.shape[1], 10)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    n = len(ytr)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, 64):
            idx = perm[i : i + 64]
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return float((model(Xva).argmax(1) == yva).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = split(digits(), seed=0)
    Xtr, ytr = (torch.from_numpy(a) for a in splits.train)
    Xva, yva = (torch.from_numpy(a) for a in splits.valid)
    evaluators = {
        schedule: TrainEvaluator(
            OneCNN(), splits, Trainer(epochs=args.epochs, schedule=schedule, threads=1, device="cpu")
        )
        for schedule in ("cosine", "constant")
    }
    times: dict[str, list[float]] = {"plain": [], "cosine": [], "constant": []}
    accuracy: dict[str, list[float]] = {k: [] for k in times}
    plain_trial(Xtr, ytr, Xva, yva, 0, 1)  # warm-up: first calls pay for kernel selection
    evaluators["cosine"].evaluate("cnn", seed=0)
    for trial in range(args.trials):
        for name in times:
            start = time.perf_counter()
            if name == "plain":
                acc = plain_trial(Xtr, ytr, Xva, yva, trial, args.epochs)
            else:
                acc = evaluators[name].evaluate("cnn", seed=trial).metrics["accuracy"]
            times[name].append(time.perf_counter() - start)
            accuracy[name].append(acc)
    plain = statistics.median(times["plain"])
    print(
        f"digits, small CNN, {args.epochs} epochs, batch 64, 1 thread, {args.trials} trials each "
        "(plain loop: Adam 3e-3 constant; nasforge: its default recipe, Adam 0.02 with the schedule shown)"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:>9}: {median:6.3f} s/trial (min {min(values):.3f})  ratio {median / plain:5.3f}  "
            f"valid accuracy {statistics.mean(accuracy[name]):.3f}"
        )


if __name__ == "__main__":
    main()
