"""Does re-ranking choose a better architecture among a search's leaders (issue 22)? Measured on finished
searches, apart from what the repeats cost the search.

    python benchmarks/vs_optuna.py --sides nasforge --datasets digits --seeds 3 --keep runs_plain
    python benchmarks/leader_selection.py runs_plain/digits-seed0 runs_plain/digits-seed1 runs_plain/digits-seed2

For each run, its ``--leaders`` best search trials are trained ``--repeats`` more times on the training split
with the seeds re-ranking would give them (validation scores), and retrained ``--final-seeds`` times on
train+validation with the winner's seeds and tested, as the winner would be. The script then prints, for each
way of choosing among the leaders, the mean test accuracy of the leader it chooses: the plain search's (the best
own score), re-ranking's (the mean of the own score and the repeats', over the top ``k``), the mean of the
repeats alone (the own score left out because it is the one the leader was selected by), and, for scale, the
mean over the leaders and the best of them (an oracle no search has). The test scores decide nothing here: each
rule sees validation scores only.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nasforge.api import components_from_config
from nasforge.config import parse_config
from nasforge.evaluators import TrainEvaluator
from nasforge.report._run import RunView
from nasforge.rerank import comparable, repeat_seed
from nasforge.run import derive_seed
from nasforge.trial import TrialState, rank_key


@dataclass(frozen=True)
class Leader:
    """One of a run's leaders: its own search score, its repeats' validation scores, its final test scores."""

    trial: int
    own: float
    repeats: list[float]
    tests: list[float]

    @property
    def test(self) -> float:
        return statistics.mean(self.tests)


def measure(run_dir: Path, leaders: int, repeats: int, final_seeds: int) -> list[Leader]:
    """The run's ``leaders`` best search trials, best first, each trained again as described above."""
    run = RunView.load(run_dir)
    config = parse_config(run.meta["config"])
    parts = components_from_config(config)
    evaluator = TrainEvaluator(parts["space"], parts["data"], parts["trainer"])
    searched = [t for t in run.trials if t.state is TrialState.FINISHED and t.repeat_of is None]
    out = []
    for t in sorted(searched, key=rank_key)[:leaders]:
        arch = parts["space"].from_string(t.arch)
        again = [evaluator.evaluate(arch, repeat_seed(t.seed, k)) for k in range(1, repeats + 1)]
        scores = [run.objective.score(e.metrics, e.costs) for e in again]
        seeds = [derive_seed(config.seed, 2, t.id, *((k,) if k else ())) for k in range(final_seeds)]
        tests = [evaluator.final_test(arch, seed).metrics["accuracy"] for seed in seeds]
        out.append(Leader(t.id, float(t.score), [float(s) for s in scores], tests))
        print(f"  {run_dir.name} trial {t.id}: own {t.score:.4f} repeats {scores} test {tests}", flush=True)
    return out


Rule = Callable[[Sequence[Leader]], float]


def choose(top: int, repeats: int, own: bool) -> Rule:
    """The test of the leader with the best mean over its first ``repeats`` repeats (and its own score if ``own``)
    among the ``top`` best; ties go to the better own rank, as in nasforge."""

    def rule(leaders: Sequence[Leader]) -> float:
        def mean(leader: Leader) -> float:
            return comparable(statistics.mean(([leader.own] if own else []) + leader.repeats[:repeats]))

        return max(leaders[:top], key=mean).test  # max keeps the first of equals: the better own rank

    return rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories of finished searches")
    parser.add_argument("--leaders", type=int, default=5, help="leaders per run [5]")
    parser.add_argument("--repeats", type=int, default=2, help="repeats per leader [2]")
    parser.add_argument("--final-seeds", type=int, default=3, help="final retrainings per leader [3]")
    args = parser.parse_args()
    runs = [measure(run_dir, args.leaders, args.repeats, args.final_seeds) for run_dir in args.runs]
    rules: dict[str, Rule] = {"plain: the best own score": lambda leaders: leaders[0].test}
    for top in sorted({2, 3, 5, args.leaders} & set(range(2, args.leaders + 1))):
        for k in range(1, args.repeats + 1):
            rules[f"top {top}, {k} repeat(s), mean with own"] = choose(top, k, own=True)
            rules[f"top {top}, {k} repeat(s), repeats only"] = choose(top, k, own=False)
    rules["a leader at random (their mean)"] = lambda leaders: statistics.mean(leader.test for leader in leaders)
    rules["oracle: the leader that tests best"] = lambda leaders: max(leader.test for leader in leaders)
    print(f"\n{'rule (nasforge default: top 5, 2 repeats, with own)':<52} {'mean test':>9}  per run")
    for name, rule in rules.items():
        tests = [rule(leaders) for leaders in runs]
        print(f"{name:<52} {statistics.mean(tests):>9.4f}  {' '.join(f'{t:.4f}' for t in tests)}")


if __name__ == "__main__":
    main()
