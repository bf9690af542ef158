"""How well zero-cost proxies rank architectures on real data: Spearman's rho with trained validation accuracy.

Draws ``--n`` architectures at random from a space (the cell space by default, as in the proxies' papers), and
for each one, as a search evaluates it (``TrainEvaluator`` with ``proxies`` set, the default trainer): the
proxies on the untrained network, then the validation accuracy after training. Prints each proxy's rank
correlation with that accuracy, with the parameter count beside them as the baseline any proxy must beat.

    python benchmarks/proxies.py --n 100 --jobs 2           # digits, 100 random cells
    python benchmarks/proxies.py --space chain --n 60
    python benchmarks/proxies.py --predictor rows.json      # proxies as BANANAS predictor features

``--predictor`` reuses the rows an earlier run wrote with ``--out`` (no training): BANANAS's predictor is fitted
on a random ``--train`` of them, as a search fits it, with and without proxies as features, and its
predictions ranked against the accuracy of the rest (Spearman's rho, the mean over ``--splits`` draws).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from nasforge.api import make_space
from nasforge.data import load, split
from nasforge.evaluators import Trainer, TrainEvaluator
from nasforge.proxies import PROXIES
from nasforge.strategies import Bananas


def evaluate(args: tuple[str, str, list[str], int]) -> dict[str, Any]:
    data, space_type, archs, seed = args
    splits = split(load({"builtin": data}), seed=0)
    space = make_space(space_type, splits.input_shape, splits.vocab_size)
    evaluator = TrainEvaluator(space, splits, Trainer(device="cpu"), proxies=tuple(PROXIES))
    rows = []
    for i, text in enumerate(archs):
        t0 = time.perf_counter()
        result = evaluator.evaluate(space.from_string(text), seed=seed + i)
        row = {"arch": text, "accuracy": result.metrics["accuracy"], "params": result.costs["params"]}
        row |= {k: v for k, v in result.costs.items() if k.startswith("proxy_")}
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        print(json.dumps(row), flush=True)
    return {"rows": rows}


def predictor_quality(rows: list[dict[str, Any]], space_type: str, train: int, splits: int) -> None:
    """Held-out rank correlation of BANANAS's predictor fitted on ``train`` rows, for several feature sets."""
    space = make_space(space_type, (1, 8, 8), None)  # the cell space's encoding does not depend on the input
    archs = [space.from_string(r["arch"]) for r in rows]
    accuracy = np.array([r["accuracy"] for r in rows])
    described = {a: r for a, r in zip(archs, rows, strict=True)}
    feature_sets = [(), ("synflow",), ("nwot",), ("synflow", "nwot"), ("synflow", "nwot", "jacob_cov")]
    print(f"\nBANANAS predictor fitted on {train} of {len(rows)} architectures, rho on the rest ({splits} draws):")
    for features in feature_sets:
        rhos = []
        for draw in range(splits):
            order = np.random.default_rng(draw).permutation(len(rows))
            fit, held = order[:train], order[train:]
            strategy = Bananas(features=features).bind(space, seed=draw)
            strategy.describe_with(lambda a, f=features: [described[a].get(f"proxy_{n}", np.nan) for n in f])
            for i in fit:
                strategy.tell(archs[i], float(accuracy[i]))
            mean, _ = strategy._predict(strategy._fit(), [archs[i] for i in held])
            rhos.append(spearmanr(mean, accuracy[held]).statistic)
        label = "encoding + " + ", ".join(features) if features else "encoding alone"
        print(f"  {label:>40}: rho {np.mean(rhos):+.3f} +- {np.std(rhos):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits")
    parser.add_argument("--space", default="cell")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--predictor", type=Path, help="rows written by --out: measure proxies as predictor features")
    parser.add_argument("--train", type=int, default=30, help="--predictor: rows the predictor is fitted on")
    parser.add_argument("--splits", type=int, default=20, help="--predictor: random draws of those rows")
    args = parser.parse_args()
    if args.predictor:
        predictor_quality(json.loads(args.predictor.read_text()), args.space, args.train, args.splits)
        return
    splits = split(load({"builtin": args.data}), seed=0)
    space = make_space(args.space, splits.input_shape, splits.vocab_size)
    rng = np.random.default_rng(args.seed)
    archs = [space.to_string(space.sample(rng)) for _ in range(args.n)]
    chunks = [(args.data, args.space, archs[j :: args.jobs], 1000 * j) for j in range(args.jobs)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [row for part in pool.map(evaluate, chunks) for row in part["rows"]]
    accuracy = np.array([r["accuracy"] for r in rows])
    print(
        f"\n{args.space} space on {args.data}: {len(rows)} random architectures, validation accuracy "
        f"{accuracy.min():.3f}-{accuracy.max():.3f} (median {np.median(accuracy):.3f})"
    )
    print("Spearman rho with trained validation accuracy:")
    for name in ["params", *(f"proxy_{p}" for p in PROXIES)]:
        values = np.array([r.get(name, np.nan) for r in rows], dtype=float)
        ok = np.isfinite(values)
        rho = spearmanr(values[ok], accuracy[ok]).statistic if ok.sum() > 2 else float("nan")
        print(f"  {name:>17}: {rho:+.3f}  ({ok.sum()} scored)")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
