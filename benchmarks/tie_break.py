"""How to rank trials tied at the top validation accuracy: by fewer FLOPs or by lower validation loss (issue 16).

    nasforge search bc10.yaml --run-dir runs/bc10      # any finished searches, e.g. seeds 10-19 of breast_cancer
    python benchmarks/tie_break.py runs/bc10 runs/bc11 ...

For each run directory: every finished trial at the top validation accuracy is retrained on train+validation
and tested once, exactly as the winner would be (``Evaluator.final_test`` with the winner's seed rule), and the
script prints the test accuracy each rule would have returned, then the means over all runs. It reads the test
split, so it belongs to evaluation, never to a search; use seeds other than the ones you report elsewhere.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from nasforge.api import components_from_config
from nasforge.config import parse_config
from nasforge.evaluators import TrainEvaluator
from nasforge.report._run import RunView
from nasforge.run import derive_seed
from nasforge.trial import Trial, TrialState

RULES = {
    "fewest FLOPs": lambda t: (t.costs["flops"], t.id),
    "lowest loss": lambda t: (t.metrics["loss"], t.id),
}


def tied_leaders_tested(run_dir: Path) -> list[tuple[Trial, float]]:
    """The trials tied at the top validation accuracy of one run, each with its test accuracy after retraining.

    Re-ranking repeats (``final.rerank``) are left out: each trains a leader's architecture again with another
    seed, so it is no tied search result of its own, and counting it would test one architecture twice.
    """
    run = RunView.load(run_dir)
    finished = [t for t in run.trials if t.state is TrialState.FINISHED and t.repeat_of is None]
    parts = components_from_config(parse_config(run.meta["config"]))
    splits = parts["data"]
    evaluator = TrainEvaluator(parts["space"], splits, parts["trainer"])
    top = max(t.metrics["accuracy"] for t in finished)
    tested = []
    for trial in (t for t in finished if t.metrics["accuracy"] == top):
        report = evaluator.final_test(parts["space"].from_string(trial.arch), derive_seed(parts["seed"], 2, trial.id))
        tested.append((trial, report.metrics["accuracy"]))
    return tested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of finished searches")
    args = parser.parse_args()
    picks: dict[str, list[float]] = {rule: [] for rule in RULES}
    print(f"{'run':<24} {'tied':>4} " + " ".join(f"{rule:>13}" for rule in RULES) + f" {'mean of tied':>13}")
    for run_dir in args.runs:
        tested = tied_leaders_tested(run_dir)
        for rule, key in RULES.items():
            picks[rule].append(min(tested, key=lambda pair: key(pair[0]))[1])
        row = " ".join(f"{picks[rule][-1]:>13.4f}" for rule in RULES)
        print(f"{run_dir.name:<24} {len(tested):>4} {row} {statistics.mean(a for _, a in tested):>13.4f}", flush=True)
    print(f"{'mean':<24} {'':>4} " + " ".join(f"{statistics.mean(picks[rule]):>13.4f}" for rule in RULES))


if __name__ == "__main__":
    main()
