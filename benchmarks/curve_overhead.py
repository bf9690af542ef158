"""What recording learning curves costs: validation after every epoch against validation once, at the end.

    python benchmarks/curve_overhead.py                    # digits, 20 random chain architectures
    python benchmarks/curve_overhead.py --data sequence    # the synthetic sequence task

Every trial measures its validation metrics after every epoch (issue 18: the curve is stored and drives the
stopping rules; the last epoch's metrics are the trial's, so that pass is not extra). The baseline trains the
same architecture with the same seed and validates once at the end, as trials did before. Both run in this
process, alternating per architecture, default trainer; printed: seconds per trial each way and the ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nasforge.api import make_space
from nasforge.data import digits, split, synthetic
from nasforge.evaluators import Trainer, TrainEvaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", choices=["digits", "sequence"])
    parser.add_argument("--archs", type=int, default=20)
    args = parser.parse_args()
    splits = split(digits() if args.data == "digits" else synthetic("sequence"), seed=0)
    space = make_space("chain", splits.input_shape)
    trainer = Trainer()
    evaluator = TrainEvaluator(space, splits, trainer)
    rng = np.random.default_rng(0)
    with_curve = once = 0.0
    for n in range(args.archs):
        arch = space.sample(rng)
        t0 = time.perf_counter()
        curve = evaluator.evaluate(arch, seed=n)
        t1 = time.perf_counter()
        model = evaluator.build(arch, seed=n)
        trainer.fit(model, *evaluator._train, seed=n)
        final = trainer.evaluate(model, *evaluator._valid)
        t2 = time.perf_counter()
        assert abs(final["accuracy"] - curve.metrics["accuracy"]) < 1e-9  # the same training, the same result
        with_curve, once = with_curve + t1 - t0, once + t2 - t1
    k = args.archs
    print(f"{args.data}: {k} architectures, {trainer.epochs} epochs")
    print(f"validation every epoch (curve): {with_curve / k:.3f} s/trial")
    print(f"validation once at the end:     {once / k:.3f} s/trial")
    print(f"ratio: {with_curve / once:.3f}x")


if __name__ == "__main__":
    main()
