"""A search under a hard limit, through the CLI: what the winner costs and scores, and what rejections cost.

    python benchmarks/constrained_search.py                          # digits, max_params 5000, 300 s, seed 0
    python benchmarks/constrained_search.py --seeds 3 --limit max_flops=2e5
    python benchmarks/constrained_search.py --strategy random       # does the strategy learn the feasible region?

Each run is ``nasforge search`` on a config with nothing but the data, ``budget: {seconds: N}`` and the
constraint, as a user writes it. From the run's store it prints: the winner's cost and test accuracy, whether
any trained trial broke the limit, how many architectures were rejected before training, and the share of the
search's wall-clock those rejections took (each trial's own start-to-end time, against the search's), and the
share of proposals rejected in the first and the second half of the search: a strategy that learns where the
feasible architectures are proposes fewer infeasible ones as it goes (random search cannot).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from nasforge.store import SQLiteStore
from nasforge.trial import TrialState


def run_once(data: str, limit: str, value: float, seconds: float, seed: int, where: Path, strategy: str) -> dict:
    config = {
        "name": f"{data}-{seed}",
        "seed": seed,
        "data": {"builtin": data},
        "budget": {"seconds": seconds},
        "constraints": {limit: value},
    }
    if strategy:
        config["strategy"] = {"name": strategy}
    path = where / f"{data}-{seed}.yaml"
    path.write_text(yaml.safe_dump(config))
    run_dir = where / f"run-{seed}"
    command = [sys.executable, "-m", "nasforge", "search", str(path), "--run-dir", str(run_dir), "--quiet"]
    subprocess.run(command, check=True, capture_output=True, text=True)
    store = SQLiteStore(run_dir / "store.sqlite")
    trials = store.trials()
    final = store.get_meta("final")
    store.close()
    cost = limit.removeprefix("max_")
    trained = [t for t in trials if t.state is not TrialState.REJECTED]
    rejected = [t for t in trials if t.state is TrialState.REJECTED]
    span = max(t.finished_at for t in trials) - min(t.started_at for t in trials)
    winner = next(t for t in trials if t.id == final["trial"])
    halves = [trials[: len(trials) // 2], trials[len(trials) // 2 :]]
    rejected_share = [sum(t.state is TrialState.REJECTED for t in half) / max(len(half), 1) for half in halves]
    return {
        "seed": seed,
        "strategy": strategy or "default",
        "test_accuracy": final["test"]["accuracy"],
        f"winner_{cost}": winner.costs[cost],
        "trained": len(trained),
        "trained_over_limit": sum(t.costs.get(cost, 0) > value for t in trained),
        "rejected": len(rejected),
        "rejected_share_of_wall_clock": sum(t.finished_at - t.started_at for t in rejected) / span,
        "proposals_rejected_first_half": rejected_share[0],
        "proposals_rejected_second_half": rejected_share[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits")
    parser.add_argument("--limit", default="max_params=5000", help="one constraint, name=value")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--strategy", default="", help="a strategy name (default: the config default)")
    args = parser.parse_args()
    name, value = args.limit.split("=")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            print(json.dumps(run_once(args.data, name, float(value), args.seconds, seed, Path(tmp), args.strategy)))


if __name__ == "__main__":
    main()
