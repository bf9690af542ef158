"""nasforge with its defaults against a hand-written Optuna TPE + PyTorch search, at the same wall-clock.

Side A is ``nasforge.search`` with nothing but the data and a time budget (default space, strategy and
trainer). Side B is what a competent user writes in fifty lines: Optuna's TPE over a small chain (CNN for
images and sequences, MLP for flat vectors) around a plain PyTorch loop (Adam 3e-3, 8 epochs, batch 64, one
torch thread). Both get the same stratified 60/20/20 split, the same search seconds, and both retrain their
winner on train+validation and evaluate it once on test.

    python benchmarks/vs_optuna.py             # 3 datasets x 2 sides x 3 seeds x 300 s (about 90 minutes)
    python benchmarks/vs_optuna.py --quick     # 1 seed, 60 s per side (under 10 minutes)
    python benchmarks/vs_optuna.py --jobs 2    # the two sides side by side, one core each (half the time)
    python benchmarks/vs_optuna.py --sides nasforge --flops-penalty 0   # nasforge alone, penalty changed

Needs the ``bench`` extra (``pip install -c constraints.txt -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np

DATASETS = ("digits", "breast_cancer", "sequence")
SIDES = ("nasforge", "optuna")


def load(name: str) -> Any:
    from nasforge import data

    if name == "sequence":
        # Class motifs at random offsets in strong noise, two channels. At noise 2.0 random default chains
        # scored 0.91-1.00 on validation (seven of ten >= 0.99): too easy for the architecture to matter.
        # At 3.0 they score 0.64-0.89, so a search has something to find.
        return data.synthetic("sequence", n=1200, classes=4, shape=(2, 128), noise=3.0, seed=7)
    return data.DATASETS.get(name)()


@dataclass
class Side:
    dataset: str
    side: str
    seed: int
    test_accuracy: float
    trials: int
    seconds_per_trial: float
    params: int
    arch: str
    breakdown: dict[str, float] = field(default_factory=dict)


# -- side A: nasforge with its defaults -------------------------------------------------------------------
def nasforge_side(name: str, seed: int, seconds: float, flops_penalty: float | None) -> Side:
    import nasforge as nf
    from nasforge.trial import TrialState

    objective = nf.Objective() if flops_penalty is None else nf.Objective(flops_penalty=flops_penalty)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        budget = nf.Budget(trials=None, seconds=seconds)
        run = nf.search(data=load(name), budget=budget, objective=objective, run_dir=tmp, seed=seed)
        done = [t for t in run.trials if t.state in (TrialState.FINISHED, TrialState.FAILED)]
        search_seconds = max(t.elapsed or 0.0 for t in done)
        parts = {
            "build": "build_seconds",
            "costs": "cost_seconds",
            "train": "train_seconds",
            "validate": "eval_seconds",
        }
        breakdown = {k: statistics.mean(t.costs.get(p, 0.0) for t in done) for k, p in parts.items()}
        breakdown["store+strategy"] = search_seconds / len(done) - sum(breakdown.values())  # the rest of a trial
        breakdown["retrain+test+export (once)"] = time.monotonic() - t0 - search_seconds
        return Side(
            name,
            "nasforge",
            seed,
            run.best.test["accuracy"],
            len(done),
            search_seconds / len(done),
            int(run.best.costs["params"]),
            run.best.trial.arch,
            breakdown,
        )


# -- side B: Optuna TPE around a plain PyTorch loop ---------------------------------------------------------
def optuna_side(name: str, seed: int, seconds: float) -> Side:
    import optuna
    import torch
    from torch import nn

    from nasforge.data import split

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = split(load(name), seed=seed)
    tensors = {
        k: (torch.as_tensor(x), torch.as_tensor(y))
        for k, (x, y) in (("train", s.train), ("valid", s.valid), ("test", s.test))
    }
    shape, classes = s.input_shape, s.num_classes

    def build(params: dict[str, Any]) -> nn.Module:
        layers: list[nn.Module] = []
        if len(shape) == 1:  # flat vectors: an MLP
            width = shape[0]
            for i in range(params["depth"]):
                layers += [nn.Linear(width, params[f"w{i}"]), nn.BatchNorm1d(params[f"w{i}"]), nn.ReLU()]
                width = params[f"w{i}"]
            return nn.Sequential(*layers, nn.Linear(width, classes))
        conv, norm, pool, gap = (
            (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)
            if len(shape) == 3
            else (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d)
        )
        channels, size = shape[0], min(shape[1:])
        for i in range(params["depth"]):
            k, w = params[f"k{i}"], params[f"w{i}"]
            layers += [conv(channels, w, k, padding=k // 2), norm(w), nn.ReLU()]
            if params[f"pool{i}"] and size >= 2:
                layers.append(pool(2))
                size //= 2
            channels = w
        return nn.Sequential(*layers, gap(1), nn.Flatten(), nn.Linear(channels, classes))

    def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, trial_seed: int) -> None:
        gen = torch.Generator().manual_seed(trial_seed)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(8):
            order = torch.randperm(len(y), generator=gen)
            for i in range(0, len(y), 64):
                idx = order[i : i + 64]
                if len(idx) < 2:
                    continue
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()

    def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
        model.eval()
        with torch.no_grad():
            return (model(x).argmax(1) == y).float().mean().item()

    def suggest(trial: optuna.Trial) -> dict[str, Any]:
        params: dict[str, Any] = {"depth": trial.suggest_int("depth", 1, 4)}
        for i in range(params["depth"]):
            if len(shape) == 1:
                params[f"w{i}"] = trial.suggest_categorical(f"w{i}", [16, 32, 64, 128])
            else:
                params[f"w{i}"] = trial.suggest_categorical(f"w{i}", [8, 16, 32, 64])
                params[f"k{i}"] = trial.suggest_categorical(f"k{i}", [1, 3, 5] if len(shape) == 3 else [3, 5, 7])
                params[f"pool{i}"] = trial.suggest_categorical(f"pool{i}", [False, True])
        return params

    def objective(trial: optuna.Trial) -> float:
        torch.manual_seed(seed * 100_003 + trial.number)
        model = build(suggest(trial))
        train(model, *tensors["train"], seed * 100_003 + trial.number)
        return accuracy(model, *tensors["valid"])

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    t0 = time.monotonic()
    study.optimize(objective, timeout=seconds)
    search_seconds = time.monotonic() - t0
    best = study.best_trial
    torch.manual_seed(seed)
    model = build(suggest(optuna.trial.FixedTrial(best.params)))
    x = torch.cat([tensors["train"][0], tensors["valid"][0]])
    y = torch.cat([tensors["train"][1], tensors["valid"][1]])
    train(model, x, y, seed)
    return Side(
        name,
        "optuna",
        seed,
        accuracy(model, *tensors["test"]),
        len(study.trials),
        search_seconds / len(study.trials),
        sum(p.numel() for p in model.parameters()),
        json.dumps(best.params),
    )


def run_one(task: tuple[str, str, int, float, float | None]) -> Side:
    name, side, seed, seconds, flops_penalty = task
    if side == "nasforge":
        return nasforge_side(name, seed, seconds, flops_penalty)
    return optuna_side(name, seed, seconds)


def summarise(results: list[Side], datasets: list[str], sides: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in datasets:
        row: dict[str, Any] = {"dataset": name}
        for side in sides:
            mine = [r for r in results if r.dataset == name and r.side == side]
            acc = [r.test_accuracy for r in mine]
            row[side] = {
                "test_mean": statistics.mean(acc),
                "test_std": statistics.pstdev(acc),
                "trials": statistics.mean(r.trials for r in mine),
                "seconds_per_trial": statistics.mean(r.seconds_per_trial for r in mine),
                "params": statistics.mean(r.params for r in mine),
            }
        if set(SIDES) <= set(sides):
            row["accuracy_diff"] = row["nasforge"]["test_mean"] - row["optuna"]["test_mean"]
            row["time_ratio"] = row["nasforge"]["seconds_per_trial"] / row["optuna"]["seconds_per_trial"]
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]], results: list[Side], sides: list[str]) -> None:
    head = f"{'dataset':14} {'side':9} {'test acc (mean±std)':>21} {'trials':>7} {'s/trial':>8} {'params':>9}"
    print(head)
    for row in rows:
        for side in sides:
            r = row[side]
            print(
                f"{row['dataset']:14} {side:9} {r['test_mean']:>13.4f} ± {r['test_std']:.4f} {r['trials']:>7.0f} "
                f"{r['seconds_per_trial']:>8.2f} {r['params']:>9.0f}"
            )
        if "time_ratio" in row:
            print(
                f"{'':14} {'ratio':9} {'acc diff ' + format(row['accuracy_diff'], '+.4f'):>21} "
                f"{'':>7} {row['time_ratio']:>7.2f}x"
            )
    print("\nnasforge per-trial breakdown (mean seconds):")
    for r in results:
        if r.side == "nasforge":
            parts = "  ".join(f"{k} {v:.3f}" for k, v in r.breakdown.items())
            print(f"  {r.dataset:14} seed {r.seed}: {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one seed, 60 s per side")
    parser.add_argument("--seconds", type=float, default=None, help="search seconds per side [300; quick: 60]")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per dataset [3; quick: 1]")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--sides", default=",".join(SIDES), help="which sides to run [nasforge,optuna]")
    parser.add_argument("--flops-penalty", type=float, default=None, help="nasforge's objective.flops_penalty")
    parser.add_argument("--jobs", type=int, default=1, help="processes (each uses one torch thread)")
    parser.add_argument("--out", default=None, help="write all results as JSON here")
    args = parser.parse_args()
    seconds = args.seconds or (60.0 if args.quick else 300.0)
    seeds = args.seeds or (1 if args.quick else 3)
    datasets = args.datasets.split(",")
    sides = args.sides.split(",")
    if not sides or not set(sides) <= set(SIDES):
        parser.error(f"--sides: choose from {', '.join(SIDES)}, got {args.sides!r}")
    tasks = [(d, side, seed, seconds, args.flops_penalty) for d in datasets for seed in range(seeds) for side in sides]
    print(
        f"# {date.today()} {platform.node()} {platform.processor() or platform.machine()}, "
        f"{seconds:g} s per side, {seeds} seed(s), jobs={args.jobs}, "
        f"flops_penalty={'default' if args.flops_penalty is None else args.flops_penalty}"
    )
    start = time.monotonic()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, tasks))
    rows = summarise(results, datasets, sides)
    print_table(rows, results, sides)
    print(f"\ntotal wall-clock {time.monotonic() - start:.0f} s")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(
                {"seconds": seconds, "seeds": seeds, "summary": rows, "runs": [asdict(r) for r in results]},
                fh,
                indent=2,
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
