"""nasforge's multi-objective strategies and Optuna's NSGA-II sampler on NAS-Bench-201 accuracy against a cost.

    python benchmarks/nb201_pareto.py --device raspi4 --seeds 30 --out pareto_raspi4.json
    python benchmarks/nb201_pareto.py --device params --costs nb201_costs.csv.gz   # from nasforge bench nb201-costs

Every side runs through ``nasforge.tabular.run_pareto_benchmark``, the harness behind ``nasforge bench
nb201-pareto``: the same Run, evaluator, budget and hypervolume (accuracy / 100 and -cost / the table's largest
cost, reference point (0, -1)). Optuna's ``NSGAIISampler`` (default settings, seeded) searches the six
categorical edge choices through Optuna's ask/tell interface, wrapped as a strategy that is told both
objectives, exactly as nasforge's ``nsga2`` and ``bananas`` are. Optuna is a benchmark-only dependency.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nasforge.tabular import default_nb201_dir, resolve_strategies, run_pareto_benchmark
from nb201_strategies import OptunaNSGA2, show

_HWNAS = default_nb201_dir().parent / "hwnas" / "hwnas_nb201_cifar10_latency.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(default_nb201_dir() / "nb201_200ep.csv.gz"))
    parser.add_argument("--latency", default=str(_HWNAS))
    parser.add_argument("--costs", help="nasforge bench nb201-costs output, for --device params or flops")
    parser.add_argument("--device", default="raspi4", help="raspi4 | fpga (latency) or params | flops (--costs)")
    parser.add_argument("--strategies", default="random,nsga2,bananas")
    parser.add_argument("--optuna-population", type=int, default=50, help="NSGAIISampler's population_size")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2, help="searches run at once, in separate processes")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument("--plot", type=Path, help="write the hypervolume-regret curves PNG here")
    args = parser.parse_args()

    strategies = resolve_strategies([s for s in args.strategies.split(",") if s])
    strategies["optuna_nsga2"] = OptunaNSGA2(population_size=args.optuna_population)
    source = args.costs if args.device in ("params", "flops") else args.latency
    start = time.perf_counter()
    result = run_pareto_benchmark(
        args.table,
        source,
        args.device,
        "cifar10",
        strategies,
        queries=args.queries,
        seeds=args.seeds,
        jobs=args.jobs,
        progress=lambda line: print(line, flush=True),
    )
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    show(result, args.out, args.plot)
    print(f"oracle hypervolume {result['oracle']:.4f}; strategy seconds (summed over jobs): {result['seconds']}")
    print(f"wall-clock: {result['wall_seconds']} s with {args.jobs} jobs")


if __name__ == "__main__":
    main()
