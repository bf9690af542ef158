"""What keeping a scheduler's checkpoints in files costs, against holding them in memory and against the trial.

    python benchmarks/checkpoint_overhead.py                  # digits, 20 random chain architectures
    python benchmarks/checkpoint_overhead.py --data glyphs28  # glyphs(n=5000, size=28): larger chains

A search with a run directory keeps every checkpoint a promotion may continue from in a file beside its store
(``nasforge.fidelity.CheckpointShelf``), so that a resume after a crash goes on from them; without one they are
held in memory. Each architecture is trained to the first rung (one epoch of the default recipe, kept), as under
ASHA, and its checkpoint is then held and taken back both ways, in this process, the two ways taking turns to go
first. Printed: the trial's seconds, each way's milliseconds to hold and to take, the file's size, and the
file's extra cost as a share of the trial when, as under ASHA with ``eta`` 3, every first-rung trial is held and
a third of them are taken back by a promotion.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time

import numpy as np

from nasforge.api import make_space
from nasforge.data import digits, glyphs, split
from nasforge.evaluators import Plan, Trainer, TrainEvaluator
from nasforge.fidelity import CheckpointShelf
from nasforge.trial import Trial, TrialState


def hold_and_take(shelf: CheckpointShelf, trial: Trial, checkpoint: object) -> tuple[float, float]:
    """Seconds to hold ``checkpoint`` and to take it back, as a promotion does."""
    start = time.perf_counter()
    shelf.hold(trial, checkpoint)
    held = time.perf_counter()
    if shelf.take(trial.id) is None:
        raise SystemExit(f"trial {trial.id}: the checkpoint did not come back")
    taken = time.perf_counter()
    shelf.release(trial.id)
    return held - start, taken - held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", choices=["digits", "glyphs28"])
    parser.add_argument("--archs", type=int, default=20)
    args = parser.parse_args()
    if args.archs < 1:
        parser.error(f"--archs: must be >= 1, got {args.archs}")
    splits = split(digits() if args.data == "digits" else glyphs(n=5000, size=28, seed=1), seed=0)
    space = make_space("chain", splits.input_shape)
    evaluator = TrainEvaluator(space, splits, Trainer())
    rng = np.random.default_rng(0)
    trials, sizes = [], []
    times: dict[str, list[tuple[float, float]]] = {"memory": [], "file": []}
    with tempfile.TemporaryDirectory() as folder:
        shelves = {"memory": CheckpointShelf(), "file": CheckpointShelf(folder)}
        for n in range(args.archs + 1):  # the first one warms up, untimed
            arch = space.sample(rng)
            start = time.perf_counter()
            checkpoint = evaluator.evaluate(arch, n, Plan(until=1, keep=True)).checkpoint
            seconds = time.perf_counter() - start
            trial = Trial(id=n, arch=space.to_string(arch), state=TrialState.FINISHED, seed=n)
            for way in ("memory", "file") if n % 2 == 0 else ("file", "memory"):
                hold, take = hold_and_take(shelves[way], trial, checkpoint)
                if n:
                    times[way].append((hold, take))
            if n:
                trials.append(seconds)
                sizes.append(len(pickle.dumps(checkpoint)) / 2**20)
    k, trial_s = args.archs, float(np.mean(trials))
    hold = {way: float(np.mean([t[0] for t in pairs])) for way, pairs in times.items()}
    take = {way: float(np.mean([t[1] for t in pairs])) for way, pairs in times.items()}
    print(f"{args.data}: {k} architectures, each trained 1 of {evaluator.trainer.epochs} epochs and kept")
    print(
        f"trial (to the first rung): {trial_s:.3f} s; checkpoint {np.median(sizes):.2f} MB median, "
        f"{max(sizes):.2f} MB largest"
    )
    for way in times:
        print(f"in {way:6}  hold {hold[way] * 1e3:6.2f} ms   take {take[way] * 1e3:6.2f} ms")
    extra = hold["file"] - hold["memory"] + (take["file"] - take["memory"]) / 3
    print(f"the file's extra cost per first-rung trial (every one held, a third taken): {extra / trial_s:.2%}")


if __name__ == "__main__":
    main()
