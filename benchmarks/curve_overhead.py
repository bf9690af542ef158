"""What recording learning curves costs: validation after every epoch against validation once, at the end; and
what judging them on averaged weights adds (``--average``).

    python benchmarks/curve_overhead.py                    # digits, 20 random chain architectures
    python benchmarks/curve_overhead.py --data sequence    # the synthetic sequence task
    python benchmarks/curve_overhead.py --data sequence --average

Every trial measures its validation metrics after every epoch (issue 18: the curve is stored and drives the
stopping rules; the last epoch's metrics are the trial's, so that pass is not extra). The baseline is the same
trial, as trials ran before: the same architecture, seed and steps (build, measure the costs, train), with one
validation at the end. Both run in this process, default trainer, after one untimed trial of each (the first
trial pays for warming up), and they take turns going first; printed: seconds per trial each way and the ratio.

With ``--average`` the two sides both validate after every epoch, and one scores the epochs before the last on
an exponential moving average of the weights, as a trial under a stopping rule or a scheduler does (the
average is updated after every step; the last epoch is scored on the weights themselves, so both sides end
with the same accuracy).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Hashable

import numpy as np

from nasforge.api import make_space
from nasforge.data import digits, split, synthetic
from nasforge.evaluators import Trainer, TrainEvaluator

MODES = {
    "once": "validation once at the end:",
    "curve": "validation every epoch (curve):",
    "averaged": "curve on averaged weights:",
}
"""How a trial validates: once at the end; after every epoch (its curve); after every epoch, the epochs before
the last scored on averaged weights (under a stopping rule or a scheduler)."""


def trial(evaluator: TrainEvaluator, arch: Hashable, seed: int, mode: str) -> tuple[float, float]:
    """Seconds and final validation accuracy of one trial: build, costs and training, validated as ``mode``
    says (:data:`MODES`). The ways differ in nothing else."""
    trainer = evaluator.trainer
    start = time.perf_counter()
    model = evaluator.build(arch, seed)
    evaluator.costs(model)  # as every trial measures them, before and after curves
    if mode == "once":
        trainer.fit(model, *evaluator._train, seed=seed)
        return time.perf_counter() - start, trainer.evaluate(model, *evaluator._valid)["accuracy"]
    curve: list[float] = []

    def record(epoch: int, metrics: dict[str, float]) -> bool:
        curve.append(metrics["valid_accuracy"])
        return False  # train on: no stopping rule

    average = mode == "averaged"
    trainer.fit(model, *evaluator._train, seed=seed, valid=evaluator._valid, on_epoch=record, average=average)
    return time.perf_counter() - start, curve[-1]


def compare(
    evaluator: TrainEvaluator, archs: list[Hashable], modes: tuple[str, str] = ("curve", "once")
) -> tuple[float, float]:
    """Total seconds of ``archs`` validated each of the two ``modes``, after an untimed warm-up of each; per
    architecture the two take turns going first, so that neither always finds the other's caches warm."""
    for mode in modes:
        trial(evaluator, archs[0], 0, mode)
    totals = dict.fromkeys(modes, 0.0)
    for n, arch in enumerate(archs):
        accuracy = {}
        for mode in modes if n % 2 == 0 else modes[::-1]:
            seconds, accuracy[mode] = trial(evaluator, arch, n, mode)
            totals[mode] += seconds
        if abs(accuracy[modes[0]] - accuracy[modes[1]]) > 1e-9:
            raise SystemExit(f"architecture {n}: the two trainings differ ({accuracy})")
    return totals[modes[0]], totals[modes[1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", choices=["digits", "sequence"])
    parser.add_argument("--archs", type=int, default=20)
    parser.add_argument("--average", action="store_true", help="curves on averaged weights against plain curves")
    args = parser.parse_args()
    if args.archs < 1:
        parser.error(f"--archs: must be >= 1, got {args.archs}")
    splits = split(digits() if args.data == "digits" else synthetic("sequence"), seed=0)
    space = make_space("chain", splits.input_shape)
    evaluator = TrainEvaluator(space, splits, Trainer())
    rng = np.random.default_rng(0)
    modes = ("averaged", "curve") if args.average else ("curve", "once")
    first, second = compare(evaluator, [space.sample(rng) for _ in range(args.archs)], modes)
    k = args.archs
    print(f"{args.data}: {k} architectures, {evaluator.trainer.epochs} epochs")
    for mode, total in zip(modes, (first, second), strict=True):
        print(f"{MODES[mode]:32} {total / k:.3f} s/trial")
    print(f"ratio: {first / second:.3f}x")


if __name__ == "__main__":
    main()
