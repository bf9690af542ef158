"""What recording learning curves costs: validation after every epoch against validation once, at the end.

    python benchmarks/curve_overhead.py                    # digits, 20 random chain architectures
    python benchmarks/curve_overhead.py --data sequence    # the synthetic sequence task

Every trial measures its validation metrics after every epoch (issue 18: the curve is stored and drives the
stopping rules; the last epoch's metrics are the trial's, so that pass is not extra). The baseline is the same
trial, as trials ran before: the same architecture, seed and steps (build, measure the costs, train), with one
validation at the end. Both run in this process, default trainer, after one untimed trial of each (the first
trial pays for warming up), and they take turns going first; printed: seconds per trial each way and the ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Hashable

import numpy as np

from nasforge.api import make_space
from nasforge.data import digits, split, synthetic
from nasforge.evaluators import Trainer, TrainEvaluator


def trial(evaluator: TrainEvaluator, arch: Hashable, seed: int, every_epoch: bool) -> tuple[float, float]:
    """Seconds and final validation accuracy of one trial: build, costs and training, validated after every
    epoch (``every_epoch``, the curve) or once at the end. The two ways differ in nothing else."""
    trainer = evaluator.trainer
    start = time.perf_counter()
    model = evaluator.build(arch, seed)
    evaluator.costs(model)  # as every trial measures them, before and after curves
    if every_epoch:
        curve: list[float] = []

        def record(epoch: int, metrics: dict[str, float]) -> bool:
            curve.append(metrics["valid_accuracy"])
            return False  # train on: no stopping rule

        trainer.fit(model, *evaluator._train, seed=seed, valid=evaluator._valid, on_epoch=record)
        accuracy = curve[-1]
    else:
        trainer.fit(model, *evaluator._train, seed=seed)
        accuracy = trainer.evaluate(model, *evaluator._valid)["accuracy"]
    return time.perf_counter() - start, accuracy


def compare(evaluator: TrainEvaluator, archs: list[Hashable]) -> tuple[float, float]:
    """Total seconds of ``archs`` with a curve and with one validation, after an untimed warm-up of each; per
    architecture the two take turns going first, so that neither always finds the other's caches warm."""
    trial(evaluator, archs[0], 0, True)
    trial(evaluator, archs[0], 0, False)
    totals = {True: 0.0, False: 0.0}
    for n, arch in enumerate(archs):
        accuracy = {}
        for every_epoch in (n % 2 == 0, n % 2 == 1):
            seconds, accuracy[every_epoch] = trial(evaluator, arch, n, every_epoch)
            totals[every_epoch] += seconds
        if abs(accuracy[True] - accuracy[False]) > 1e-9:
            raise SystemExit(f"architecture {n}: the two trainings differ ({accuracy[True]} vs {accuracy[False]})")
    return totals[True], totals[False]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", choices=["digits", "sequence"])
    parser.add_argument("--archs", type=int, default=20)
    args = parser.parse_args()
    if args.archs < 1:
        parser.error(f"--archs: must be >= 1, got {args.archs}")
    splits = split(digits() if args.data == "digits" else synthetic("sequence"), seed=0)
    space = make_space("chain", splits.input_shape)
    evaluator = TrainEvaluator(space, splits, Trainer())
    rng = np.random.default_rng(0)
    with_curve, once = compare(evaluator, [space.sample(rng) for _ in range(args.archs)])
    k = args.archs
    print(f"{args.data}: {k} architectures, {evaluator.trainer.epochs} epochs")
    print(f"validation every epoch (curve): {with_curve / k:.3f} s/trial")
    print(f"validation once at the end:     {once / k:.3f} s/trial")
    print(f"ratio: {with_curve / once:.3f}x")


if __name__ == "__main__":
    main()
