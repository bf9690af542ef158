"""nasforge with its defaults against a hand-written Optuna TPE + PyTorch search, at the same wall-clock.

Side A is what a user runs: ``nasforge search cfg.yaml`` in a subprocess, with a config that gives nothing but
the data and ``budget: {seconds: N}`` (default space, strategy, trainer and objective). Side B is what a
competent user writes in fifty lines: Optuna's TPE over a small chain (CNN for images and sequences, MLP for
flat vectors) around a plain PyTorch loop (Adam 3e-3, 8 epochs, batch 64, one torch thread). Both get the same
data (loaded by the same ``nasforge.data.load`` from the config's ``data:`` block), the same stratified 60/20/20
split, the same search seconds and the same device (``train.device`` of ``--config``, default ``auto``), and
both retrain their winner on train+validation as many times as nasforge's ``final.seeds`` rule gives (``auto``:
three where they fit in a tenth of the search) and report the mean test accuracy of those retrainings.
Under each comparison the script prints nasforge's test accuracy less the Optuna side's paired by seed, with
its standard error (:func:`paired`): on digits one test image is 0.0028 and runs differ by a few, so a gap
of one image over three seeds says little.

Side B's training recipe is not nasforge's: its constant Adam 3e-3 is what a hand-written loop uses, while
nasforge's default trainer runs a cosine from 0.02 per batch, which alone scores much higher on some of these
tasks. ``--optuna-recipe nasforge`` gives side B that schedule, so that the two sides differ in the search only.

Datasets: sklearn's digits (1x8x8), breast_cancer (30 flat features), a synthetic two-channel sequence task,
and ``glyphs28``: 5,000 procedurally drawn handwritten-style digits of 28x28 written to an ``.npz`` as raw
uint8 pixels sorted by class, the way users hand over their images (``nasforge.data.glyphs``; searched for
600 s by default, the others for 300 s).

    python benchmarks/vs_optuna.py             # 4 datasets x 2 sides x 3 seeds (about 2 hours)
    python benchmarks/vs_optuna.py --quick     # 1 seed, 60 s per side (under 10 minutes)
    python benchmarks/vs_optuna.py --jobs 2    # the two sides side by side, one core each (half the time)
    python benchmarks/vs_optuna.py --sides nasforge --datasets glyphs28 --config '{"objective": {"flops_penalty": 0}}'
    python benchmarks/vs_optuna.py --sides nasforge,optuna_hyperband --config '{"fidelity": {"stopper": "median"}}'
    python benchmarks/vs_optuna.py --datasets sequence --optuna-recipe nasforge   # the same training recipe

Needs the ``bench`` extra (``pip install -c constraints.txt -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasforge.trial import Trial

DATASETS = ("digits", "breast_cancer", "sequence", "glyphs28")
SIDES = ("nasforge", "optuna")  # the default pair
ALL_SIDES = (*SIDES, "optuna_hyperband")  # side B with Optuna's HyperbandPruner deciding after each epoch
SECONDS = {"glyphs28": 600.0}  # the search seconds of a dataset not listed here: 300
RECIPES = ("plain", "nasforge")  # side B's learning rate: constant 3e-3, or nasforge's default cosine
PLAIN_LR, EPOCHS, BATCH = 3e-3, 8, 64
DATA: dict[str, dict[str, Any]] = {
    "digits": {"builtin": "digits"},
    "breast_cancer": {"builtin": "breast_cancer"},
    # Class motifs at random offsets in strong noise, two channels. At noise 2.0 random default chains scored
    # 0.91-1.00 on validation (seven of ten >= 0.99): too easy for the architecture to matter. At 3.0 they
    # score 0.64-0.89, so a search has something to find.
    "sequence": {
        "builtin": "synthetic",
        "kind": "sequence",
        "n": 1200,
        "classes": 4,
        "shape": [2, 128],
        "noise": 3.0,
        "seed": 7,
    },
}


def data_spec(name: str, folder: Path) -> dict[str, Any]:
    """The config's ``data:`` block for ``name``; image sets are first written to ``folder`` as uint8 ``.npz``."""
    if name in DATA:
        return DATA[name]
    if name == "glyphs28":
        from nasforge.data import glyphs

        path = folder / "glyphs28.npz"
        if not path.exists():
            images = glyphs(n=5000, size=28, seed=0)
            np.savez_compressed(path, X=images.X.astype(np.uint8), y=images.y)
        return {"path": str(path)}
    raise SystemExit(f"--datasets: unknown dataset {name!r} (known: {', '.join(DATASETS)})")


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
    architectures: int = 0  # new architectures: trials less promotions (fidelity) and re-ranking repeats
    final_seeds: int = 1  # retrainings of the winner whose mean test accuracy is ``test_accuracy``


# -- side A: nasforge's CLI with its defaults ---------------------------------------------------------------
def nasforge_side(
    name: str, spec: dict[str, Any], seed: int, seconds: float, extra: dict[str, Any], keep: str | None
) -> Side:
    """``nasforge search cfg.yaml`` with ``budget: {seconds: N}`` (plus ``extra`` sections), as a user runs it.

    The run directory is kept under ``keep`` (``<dataset>-seed<seed>``) when given, else deleted.
    """
    import yaml

    from nasforge.store import SQLiteStore
    from nasforge.trial import DONE

    with tempfile.TemporaryDirectory() as tmp:
        config = {"name": f"{name}-{seed}", "seed": seed, "data": spec, "budget": {"seconds": seconds}, **extra}
        path = Path(tmp) / "search.yaml"
        run_dir = Path(keep) / f"{name}-seed{seed}" if keep else Path(tmp) / "run"
        path.write_text(yaml.safe_dump(config))
        t0 = time.monotonic()
        command = [sys.executable, "-m", "nasforge", "search", str(path), "--run-dir", str(run_dir), "--quiet"]
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"nasforge search failed on {name} seed {seed}:\n{proc.stdout}\n{proc.stderr}")
        wall = time.monotonic() - t0
        best = json.loads((run_dir / "best.json").read_text())
        store = SQLiteStore(run_dir / "store.sqlite")
        done = store.trials(states=DONE)
        store.close()
    per_trial, breakdown = nasforge_timing(done, best["search"]["seconds"], wall)
    return Side(
        name,
        "nasforge",
        seed,
        best["test"]["accuracy"],
        len(done),
        per_trial,
        int(best["costs"]["params"]),
        best["arch"],
        breakdown,
        architectures=sum(t.parent is None and t.repeat_of is None for t in done),
        final_seeds=len(best.get("test_seeds", [])) or 1,
    )


def nasforge_timing(done: list[Trial], search_seconds: float, wall: float) -> tuple[float, dict[str, float]]:
    """Seconds per trial and the mean trial's breakdown, from the trials that count and the search's clock.

    Seconds per trial is the search's wall-clock (``best.json``'s ``search.seconds``) over its trials, as side
    B's is: that clock includes a trial cut when the budget ran out, which the last counted trial's ``elapsed``
    leaves out (up to a whole trial's seconds, in nasforge's favour). The breakdown's ``store+strategy`` is
    what is left of the counted trials' time after building, costs and training.
    """
    parts = {"build": "build_seconds", "costs": "cost_seconds", "train+validate each epoch": "train_seconds"}
    breakdown = {k: statistics.mean(t.costs.get(p, 0.0) for t in done) for k, p in parts.items()}
    counted = max(t.elapsed or 0.0 for t in done)
    breakdown["store+strategy"] = counted / len(done) - sum(breakdown.values())  # the rest of a trial
    breakdown["search after the last counted trial (once)"] = search_seconds - counted
    breakdown["start+retrain+test+export (once)"] = wall - search_seconds
    return search_seconds / len(done), breakdown


# -- side B: Optuna TPE around a plain PyTorch loop ---------------------------------------------------------
def optuna_side(
    name: str,
    spec: dict[str, Any],
    seed: int,
    seconds: float,
    hyperband: bool = False,
    extra: dict[str, Any] | None = None,
    recipe: str = "plain",
) -> Side:
    """Side B; with ``hyperband`` each trial reports its validation accuracy after every epoch to Optuna's
    ``HyperbandPruner`` (1 to 8 epochs, reduction factor 3, as Optuna's docs pair it with TPE).

    What nasforge's config (``extra``) sets for both sides is taken from it: ``train.device`` (the device
    nasforge trains on, ``auto`` picking CUDA where there is one) and ``final.seeds`` (how many retrainings of
    the winner the test figure averages). ``recipe`` is side B's learning rate (see :func:`learning_rate`).
    """
    import optuna
    import torch
    from torch import nn

    from nasforge.data import load, split
    from nasforge.device import resolve_device
    from nasforge.run import derive_seed
    from nasforge.trial import Trial, TrialState
    from nasforge.winner import check_seeds, final_seeds

    extra = extra or {}
    device = resolve_device(extra.get("train", {}).get("device", "auto"), "train.device")
    seeds_rule = check_seeds(extra.get("final", {}).get("seeds", "auto"))
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = split(load(spec), seed=seed)
    tensors = {
        k: (torch.as_tensor(x).to(device), torch.as_tensor(y).to(device))
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
            return nn.Sequential(*layers, nn.Linear(width, classes)).to(device)
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
        return nn.Sequential(*layers, gap(1), nn.Flatten(), nn.Linear(channels, classes)).to(device)

    def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, trial_seed: int, trial: Any = None) -> None:
        gen = torch.Generator().manual_seed(trial_seed)
        opt = torch.optim.Adam(model.parameters(), lr=PLAIN_LR)
        starts = [i for i in range(0, len(y), BATCH) if min(i + BATCH, len(y)) - i >= 2]  # BN needs 2 samples
        step, total = 0, EPOCHS * len(starts)
        for epoch in range(EPOCHS):
            if trial is not None and epoch:  # the accuracy after each epoch decides whether to go on
                trial.report(accuracy(model, *tensors["valid"]), epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            model.train()
            order = torch.randperm(len(y), generator=gen).to(device)
            for i in starts:
                idx = order[i : i + BATCH]
                for group in opt.param_groups:
                    group["lr"] = learning_rate(recipe, step, total)
                opt.zero_grad()
                nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
                step += 1

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
        train(model, *tensors["train"], seed * 100_003 + trial.number, trial if hyperband else None)
        return accuracy(model, *tensors["valid"])

    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=8, reduction_factor=3) if hyperband else None
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    t0 = time.monotonic()
    study.optimize(objective, timeout=seconds)
    search_seconds = time.monotonic() - t0
    best = study.best_trial
    # nasforge's rule, applied to side B's winner: its trial's seconds stand for the training's
    timed = Trial(best.number, "", TrialState.FINISHED, seed, costs={"train_seconds": best.duration.total_seconds()})
    count = final_seeds(seeds_rule, timed, search_seconds)
    x = torch.cat([tensors["train"][0], tensors["valid"][0]])
    y = torch.cat([tensors["train"][1], tensors["valid"][1]])
    tests, params = [], 0
    for k in range(count):
        retrain_seed = seed if k == 0 else derive_seed(seed, 2, k)  # the first as before several seeds
        torch.manual_seed(retrain_seed)
        model = build(suggest(optuna.trial.FixedTrial(best.params)))
        train(model, x, y, retrain_seed)
        tests.append(accuracy(model, *tensors["test"]))
        params = sum(p.numel() for p in model.parameters())
    return Side(
        name,
        "optuna_hyperband" if hyperband else "optuna",
        seed,
        statistics.mean(tests),
        len(study.trials),
        search_seconds / len(study.trials),
        params,
        json.dumps(best.params),
        architectures=len(study.trials),
        final_seeds=count,
    )


def learning_rate(recipe: str, step: int, total: int) -> float:
    """Side B's learning rate at batch ``step`` of ``total``: ``plain``, the constant 3e-3 of a hand-written
    loop (side B as published); ``nasforge``, the default trainer's cosine from its ``lr`` (0.02) to 0, stepped
    per batch, so that a comparison can hold the training recipe equal and measure the searches alone.

    >>> learning_rate("plain", 5, 10), learning_rate("nasforge", 0, 10), learning_rate("nasforge", 5, 10)
    (0.003, 0.02, 0.01)
    """
    if recipe == "plain":
        return PLAIN_LR
    from nasforge.evaluators import Trainer

    return 0.5 * Trainer.lr * (1.0 + math.cos(math.pi * step / total))


Task = tuple[str, dict[str, Any], str, int, float, dict[str, Any], str | None, str]


def run_one(task: Task) -> Side:
    name, spec, side, seed, seconds, extra, keep, recipe = task
    if side == "nasforge":
        return nasforge_side(name, spec, seed, seconds, extra, keep)
    return optuna_side(name, spec, seed, seconds, side == "optuna_hyperband", extra, recipe)


def summarise(results: list[Side], datasets: list[str], sides: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in datasets:
        row: dict[str, Any] = {"dataset": name}
        for side in sides:
            mine = [r for r in results if r.dataset == name and r.side == side]
            if not mine:  # every run of this side failed (see "failures")
                continue
            acc = [r.test_accuracy for r in mine]
            row[side] = {
                "runs": len(mine),
                "test_mean": statistics.mean(acc),
                "test_std": statistics.pstdev(acc),
                "trials": statistics.mean(r.trials for r in mine),
                "architectures": statistics.mean(r.architectures for r in mine),
                "final_seeds": statistics.mean(r.final_seeds for r in mine),
                "seconds_per_trial": statistics.mean(r.seconds_per_trial for r in mine),
                "params": statistics.mean(r.params for r in mine),
            }
        for other in ("optuna", "optuna_hyperband"):  # nasforge against each Optuna side that ran
            if "nasforge" in row and other in row:
                suffix = "" if other == "optuna" else "_hyperband"
                row["accuracy_diff" + suffix] = row["nasforge"]["test_mean"] - row[other]["test_mean"]
                row["time_ratio" + suffix] = row["nasforge"]["seconds_per_trial"] / row[other]["seconds_per_trial"]
                row["paired" + suffix] = paired(results, name, other)
        rows.append(row)
    return rows


def paired(results: list[Side], name: str, other: str) -> dict[str, Any]:
    """nasforge's test accuracy less ``other``'s, seed by seed, over the seeds where both ran.

    Two searches on a split are judged on the same test images, so the seed's difference is the comparison;
    its mean and standard error say whether a gap of a test image or two is the searches' or the seeds' (a
    digits test set has 360 images: one is 0.0028, and the same search scores a few images apart from run to
    run under a seconds budget).

    >>> a = [Side("d", "nasforge", s, acc, 1, 1.0, 1, "") for s, acc in enumerate((0.99, 0.98, 0.97))]
    >>> b = [Side("d", "optuna", s, acc, 1, 1.0, 1, "") for s, acc in enumerate((0.98, 0.98, 0.99))]
    >>> r = paired(a + b, "d", "optuna")
    >>> round(r["mean"], 4), round(r["stderr"], 4), r["better"], r["level"], r["worse"]
    (-0.0033, 0.0088, 1, 1, 1)
    """
    acc = {(r.side, r.seed): r.test_accuracy for r in results if r.dataset == name}
    diffs = [acc["nasforge", s] - acc[other, s] for side, s in acc if side == "nasforge" and (other, s) in acc]
    spread = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
    return {
        "seeds": len(diffs),
        "mean": statistics.mean(diffs) if diffs else math.nan,
        "stderr": spread,
        "better": sum(d > 0 for d in diffs),
        "level": sum(d == 0 for d in diffs),
        "worse": sum(d < 0 for d in diffs),
    }


def print_table(rows: list[dict[str, Any]], results: list[Side], sides: list[str]) -> None:
    head = f"{'dataset':14} {'side':16} {'test acc (mean±std)':>21} {'trials':>7} {'s/trial':>8} {'params':>9}"
    print(f"{head} {'archs':>6} {'final seeds':>11}")
    for row in rows:
        for side in (side for side in sides if side in row):
            r = row[side]
            print(
                f"{row['dataset']:14} {side:16} {r['test_mean']:>13.4f} ± {r['test_std']:.4f} {r['trials']:>7.0f} "
                f"{r['seconds_per_trial']:>8.2f} {r['params']:>9.0f} {r['architectures']:>6.0f} "
                f"{r['final_seeds']:>11.1f}"
            )
        for suffix in ("", "_hyperband"):
            if "time_ratio" + suffix in row:
                diff = "acc diff " + format(row["accuracy_diff" + suffix], "+.4f")
                print(f"{'':14} {'vs optuna' + suffix:16} {diff:>21} {'':>7} {row['time_ratio' + suffix]:>7.2f}x")
                p = row["paired" + suffix]
                print(
                    f"{'':14} {'':16} paired over {p['seeds']} seed(s): {p['mean']:+.4f} ± {p['stderr']:.4f} "
                    f"(standard error); nasforge better on {p['better']}, level on {p['level']}, worse on {p['worse']}"
                )
    print("\nnasforge per-trial breakdown (mean seconds):")
    for r in results:
        if r.side == "nasforge":
            parts = "  ".join(f"{k} {v:.3f}" for k, v in r.breakdown.items())
            print(f"  {r.dataset:14} seed {r.seed}: {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one seed, 60 s per side")
    parser.add_argument("--seconds", type=float, default=None, help="search seconds per side [300, glyphs28 600]")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per dataset [3; quick: 1]")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+SEEDS-1 [0]")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument(
        "--sides", default=",".join(SIDES), help=f"which of {','.join(ALL_SIDES)} to run [nasforge,optuna]"
    )
    parser.add_argument("--config", default="{}", help="JSON of config sections added to nasforge's config")
    parser.add_argument("--jobs", type=int, default=1, help="processes (each uses one torch thread)")
    parser.add_argument("--out", default=None, help="write all results as JSON here")
    parser.add_argument("--keep", default=None, help="keep nasforge's run directories under this folder")
    parser.add_argument(
        "--optuna-recipe",
        choices=RECIPES,
        default="plain",
        help="side B's learning rate: plain (constant 3e-3, as published) or nasforge (its default cosine) [plain]",
    )
    args = parser.parse_args()
    seeds = args.seeds or (1 if args.quick else 3)
    datasets, sides, extra = args.datasets.split(","), args.sides.split(","), json.loads(args.config)
    if not sides or not set(sides) <= set(ALL_SIDES):
        parser.error(f"--sides: choose from {', '.join(ALL_SIDES)}, got {args.sides!r}")

    def seconds_of(name: str) -> float:
        return args.seconds or (60.0 if args.quick else SECONDS.get(name, 300.0))

    print(
        f"# {date.today()} {platform.node()} {platform.processor() or platform.machine()}, "
        f"seconds per side {', '.join(f'{d} {seconds_of(d):g}' for d in datasets)}, {seeds} seed(s), "
        f"jobs={args.jobs}, nasforge config additions {extra or 'none'}, Optuna side's recipe {args.optuna_recipe}",
        flush=True,
    )
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        specs = {d: data_spec(d, Path(folder)) for d in datasets}
        tasks = [
            (d, specs[d], side, seed, seconds_of(d), extra, args.keep, args.optuna_recipe)
            for d in datasets
            for seed in range(args.first_seed, args.first_seed + seeds)
            for side in sides
        ]
        results, failures = [], []
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(run_one, task): task for task in tasks}
            for future in as_completed(futures):  # a line per run as it ends: a full run takes hours
                name, _, side, seed, *_ = futures[future]
                try:
                    r = future.result()
                except Exception as exc:  # one failed run is reported and kept; the others still count
                    failures.append({"dataset": name, "side": side, "seed": seed, "error": str(exc)})
                    print(f"  {name} {side} seed {seed}: FAILED: {exc}", flush=True)
                    continue
                results.append(r)
                print(
                    f"  {name} {side} seed {seed}: test {r.test_accuracy:.4f}, {r.trials} trials, {r.arch}", flush=True
                )
    results.sort(key=lambda r: (r.dataset, r.seed, r.side))
    rows = summarise(results, datasets, sides)
    print_table(rows, results, sides)
    print(f"\ntotal wall-clock {time.monotonic() - start:.0f} s")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(
                {
                    "seconds": {d: seconds_of(d) for d in datasets},
                    "seeds": seeds,
                    "nasforge_config": extra,
                    "optuna_recipe": args.optuna_recipe,
                    "summary": rows,
                    "runs": [asdict(r) for r in results],
                    "failures": failures,
                },
                fh,
                indent=2,
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
