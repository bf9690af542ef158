"""Every nasforge strategy and Optuna's TPE sampler on a NAS-Bench-201 table, on one protocol, side by side.

    python benchmarks/nb201_strategies.py --dataset cifar10 --seeds 100 --queries 300 --out c10.json

Each run binds a strategy to the NB201 cell space with seeds 0..N-1 and spends its query budget through the
same harness as ``nasforge bench nb201``: the search reads validation accuracy only, a repeated proposal
costs no query, and the reported number is the test accuracy of the best-validation architecture at each
budget. TPE searches the same six categorical edge choices through Optuna's ask/tell interface, wrapped as a
strategy so that it is run by the very same loop. Optuna is a benchmark-only dependency (extra ``bench``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.strategies import STRATEGIES, Strategy
from nasforge.tabular import default_nb201_dir, resolve_strategies, run_benchmark
from nasforge.tabular._report import markdown_table, plot_regret, render_table


class OptunaTPE(Strategy):
    """Optuna's TPE sampler (default settings, seeded) over the space's categorical decisions."""

    name = "optuna_tpe"
    objectives = 1  # how many values each tell carries (each maximised)

    def __init__(self, multivariate: bool = False) -> None:
        self.multivariate = multivariate

    def sampler(self, seed: int) -> Any:
        import optuna

        return optuna.samplers.TPESampler(seed=seed, multivariate=self.multivariate)

    def setup(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = self.sampler(int(self.rng.integers(2**31)))
        self.study = optuna.create_study(directions=["maximize"] * self.objectives, sampler=sampler)
        self.pending: dict[Hashable, list[Any]] = {}

    def ask(self) -> Hashable:
        trial = self.study.ask()
        values = [
            list(d.choices).index(trial.suggest_categorical(d.name, list(d.choices))) for d in self.space.decisions
        ]
        arch = self.space.from_decisions(values)
        self.pending.setdefault(arch, []).append(trial)
        return arch

    def tell(self, arch: Hashable, score: float | Sequence[float] | None) -> None:
        import optuna

        state = optuna.trial.TrialState.FAIL if score is None else optuna.trial.TrialState.COMPLETE
        values = None if score is None else [float(v) for v in np.atleast_1d(score)]
        trials = self.pending.get(arch)
        if trials:
            self.study.tell(trials.pop(0), values, state=state)
            return
        decisions = self.space.to_decisions(arch)
        self.study.add_trial(
            optuna.trial.create_trial(
                params={d.name: d.choices[v] for d, v in zip(self.space.decisions, decisions, strict=True)},
                distributions={
                    d.name: optuna.distributions.CategoricalDistribution(list(d.choices)) for d in self.space.decisions
                },
                values=values,
                state=state,
            )
        )


class OptunaNSGA2(OptunaTPE):
    """Optuna's ``NSGAIISampler`` (seeded, default settings unless given) on two objectives, both maximised."""

    name = "optuna_nsga2"
    objectives = 2
    multi_objective = True

    def __init__(self, population_size: int = 50) -> None:
        self.population_size = population_size

    def sampler(self, seed: int) -> Any:
        import optuna

        return optuna.samplers.NSGAIISampler(seed=seed, population_size=self.population_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(default_nb201_dir() / "nb201_12ep.csv.gz"))
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--strategies", default=",".join(STRATEGIES.names()))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="searches run at once, in separate processes")
    parser.add_argument("--no-tpe", action="store_true", help="skip the Optuna TPE baseline")
    parser.add_argument(
        "--tpe-queries",
        type=int,
        default=150,
        help="TPE's budget (its cost grows with every repeat it proposes; 150 is the compared budget)",
    )
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument("--plot", type=Path, help="write the regret curves PNG here")
    args = parser.parse_args()

    strategies = resolve_strategies([s for s in args.strategies.split(",") if s])
    common = {"seeds": args.seeds, "jobs": args.jobs, "progress": lambda line: print(line, flush=True)}
    start = time.perf_counter()
    result = run_benchmark(args.table, args.dataset, strategies, queries=args.queries, **common)
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    if not args.no_tpe:
        start = time.perf_counter()
        tpe = run_benchmark(
            args.table, args.dataset, {"optuna_tpe": OptunaTPE()}, queries=min(args.tpe_queries, args.queries), **common
        )
        result["tpe_wall_seconds"] = round(time.perf_counter() - start, 1)
        for key in ("results", "curves", "seconds"):
            result[key].update(tpe[key])
    show(result, args.out, args.plot)
    print(f"strategy seconds (summed over jobs): {result['seconds']}")
    print(f"wall-clock, nasforge strategies: {result['wall_seconds']} s with {args.jobs} jobs")
    if "tpe_wall_seconds" in result:
        print(f"wall-clock, Optuna TPE: {result['tpe_wall_seconds']} s")


def show(result: dict[str, Any], out: Path | None, plot: Path | None) -> None:
    """The results as a terminal table and as markdown (for docs/benchmarks.md); the JSON and the regret
    curves where asked."""
    from rich.console import Console

    Console(width=200).print(render_table(result))
    print(markdown_table(result))
    if out:
        out.write_text(json.dumps(result, indent=1))
    if plot:
        plot_regret(result, plot)


if __name__ == "__main__":
    main()
