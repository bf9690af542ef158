"""How well a short training ranks architectures against their full one (issue 18): the first E epochs of the
full learning-rate schedule scored on the last step's weights (what a rung of ``fidelity: {scheduler: asha}``
judged before 2026-12-02) and on an average of the weights over about the last epoch (what a rung or a stopping
rule judges now), against a complete training of E epochs (the cosine spanning those E epochs).

    python benchmarks/vs_optuna.py --sides nasforge --datasets sequence --seeds 2 --keep runs_plain
    python benchmarks/rung_ranking.py runs_plain/sequence-seed0 runs_plain/sequence-seed1 --epochs 1 2

For every finished trial of each run that trained the full schedule without fidelity, the architecture is
trained again for E epochs with the trial's own seed (the same initial weights and batch order), as a rung (the
averaged score) and as a complete E-epoch training, and its validation accuracy compared with the trial's: the
script prints, per run and E, Spearman's rank correlation of the full training's final validation accuracy with
its accuracy after epoch E (the stored curve: the last step's weights), with the rung's averaged score and with
the complete E-epoch training's. Only validation data are read.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from scipy.stats import spearmanr

from nasforge.api import components_from_config
from nasforge.config import parse_config
from nasforge.evaluators import Plan, TrainEvaluator
from nasforge.report._run import RunView
from nasforge.trial import TrialState


def rank_correlations(run_dir: Path, epochs: int) -> tuple[int, float, float, float]:
    """``(architectures, Spearman at epoch E of the full schedule, the same scored on the averaged weights,
    Spearman of the complete E-epoch training)``."""
    run = RunView.load(run_dir)
    parts = components_from_config(parse_config(run.meta["config"]))
    full = parts["trainer"].epochs
    rung = TrainEvaluator(parts["space"], parts["data"], parts["trainer"])
    short = TrainEvaluator(parts["space"], parts["data"], replace(parts["trainer"], epochs=epochs))
    finished = (t for t in run.trials if t.state is TrialState.FINISHED and t.repeat_of is None)
    trials = [t for t in finished if len(t.curve) == full]
    final = [t.metrics["accuracy"] for t in trials]
    at_epoch = [t.curve[epochs - 1]["accuracy"] for t in trials]
    averaged = [rung.evaluate(t.arch, t.seed, Plan(until=epochs)).metrics["accuracy"] for t in trials]
    complete = [short.evaluate(t.arch, t.seed).metrics["accuracy"] for t in trials]
    rho = (spearmanr(scores, final).statistic for scores in (at_epoch, averaged, complete))
    return len(trials), *rho


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of finished searches without fidelity")
    parser.add_argument("--epochs", nargs="+", type=int, default=[2], help="short trainings' lengths [2]")
    args = parser.parse_args()
    print(f"{'run':<28} {'E':>3} {'archs':>5} {'epoch E of the full':>20} {'averaged':>9} {'complete E epochs':>18}")
    for run_dir in args.runs:
        for epochs in args.epochs:
            n, at_epoch, averaged, complete = rank_correlations(run_dir, epochs)
            print(f"{run_dir.name:<28} {epochs:>3} {n:>5} {at_epoch:>20.2f} {averaged:>9.2f} {complete:>18.2f}")


if __name__ == "__main__":
    main()
