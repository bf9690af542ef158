"""The hand-written baseline a competent user writes for text classification: Optuna TPE + plain PyTorch.

Names to gender (``../shared/datasets/names_gender.csv``, 8,003 first names; see that folder's README). The user's
pipeline, independent of nasforge: the README's stratified 60/20/20 split (``random_state=seed``); character-level
tokens fitted on the training split only (lowercase, the characters seen in train, id 0 padding, id 1
out-of-vocabulary, padded or truncated to the longest training name); Optuna's TPE (``TPESampler(seed=seed)``)
over a small space written for names: a GRU (last hidden state at the real length, through
``pack_padded_sequence``) or a 1-d CNN (global max pooling over the real positions), embedding 16/32/64, dropout
0/0.2 and a linear head, each trained 10 epochs (Adam 3e-3, batch 64, cross-entropy, one torch thread) and scored
by validation accuracy. Trials start until ``--seconds`` of search wall-clock are spent (a trial running then is
finished); the best parameters are retrained on train+validation with the same recipe and scored once on test.

For reference, the README's TF-IDF character n-gram + logistic regression baseline (seed 0): test accuracy 0.887,
macro-F1 0.885; the majority class: 0.565.

    python benchmarks/text_optuna.py                        # 3 seeds x 300 s (about 16 minutes)
    python benchmarks/text_optuna.py --quick                # 1 seed, 30 s (under a minute)
    python benchmarks/text_optuna.py --seeds 3 --seconds 300 --out results.json

Needs the ``bench`` extra (``pip install -c constraints.txt -e ".[bench]"``: optuna, scikit-learn).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "names_gender.csv"
EPOCHS, BATCH, LR = 10, 64, 3e-3


@dataclass
class Run:
    seed: int
    trials: int
    best_valid_accuracy: float
    test_accuracy: float
    test_macro_f1: float
    search_seconds: float
    retrain_seconds: float
    params: int
    best_params: dict[str, Any]


def read_names(path: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Names, integer labels and the label names (sorted), read with ``csv``: no NA conversion of 'none' etc."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labels = sorted({r["gender"] for r in rows})
    return [r["name"] for r in rows], np.array([labels.index(r["gender"]) for r in rows]), labels


class Tokens:
    """Character ids fitted on the training names: 0 padding, 1 out-of-vocabulary, 2.. the characters seen."""

    def __init__(self, names: list[str]) -> None:
        chars = sorted({c for name in names for c in name.lower()})
        self.ids = {c: i + 2 for i, c in enumerate(chars)}
        self.length = max(len(name) for name in names)

    @property
    def vocab(self) -> int:
        return len(self.ids) + 2

    def __call__(self, names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ids ``(n, length)`` and real lengths ``(n,)`` (at least 1, at most ``length``)."""
        x = torch.zeros(len(names), self.length, dtype=torch.long)
        lengths = torch.ones(len(names), dtype=torch.long)
        for i, name in enumerate(names):
            ids = [self.ids.get(c, 1) for c in name.lower()[: self.length]]
            x[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            lengths[i] = max(len(ids), 1)
        return x, lengths


class GRUNet(nn.Module):
    def __init__(self, vocab: int, classes: int, p: dict[str, Any]) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, p["embed"], padding_idx=0)
        self.gru = nn.GRU(
            p["embed"],
            p["hidden"],
            num_layers=p["layers"],
            batch_first=True,
            bidirectional=p["bidirectional"],
            dropout=p["dropout"] if p["layers"] > 1 else 0.0,
        )
        self.drop = nn.Dropout(p["dropout"])
        self.head = nn.Linear(p["hidden"] * (2 if p["bidirectional"] else 1), classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.embed(x), lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)  # (layers * directions, n, hidden): each direction's state after the real length
        last = torch.cat([h[-2], h[-1]], 1) if self.gru.bidirectional else h[-1]
        return self.head(self.drop(last))


class CNNNet(nn.Module):
    def __init__(self, vocab: int, classes: int, p: dict[str, Any]) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, p["embed"], padding_idx=0)
        widths = [p["embed"]] + [p["channels"]] * p["layers"]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, p["kernel"], padding=p["kernel"] // 2) for a, b in itertools.pairwise(widths)
        )
        self.drop = nn.Dropout(p["dropout"])
        self.head = nn.Linear(p["channels"], classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        real = (torch.arange(x.shape[1]) < lengths[:, None])[:, None, :]  # (n, 1, length)
        h = self.embed(x).transpose(1, 2)
        for conv in self.convs:
            h = torch.relu(conv(h)) * real  # padded positions stay zero, so they never leak into real ones
        h = h.masked_fill(~real, float("-inf")).amax(2)  # global max over the real positions
        return self.head(self.drop(h))


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    p: dict[str, Any] = {
        "kind": trial.suggest_categorical("kind", ["gru", "cnn"]),
        "embed": trial.suggest_categorical("embed", [16, 32, 64]),
    }
    if p["kind"] == "gru":
        p["hidden"] = trial.suggest_categorical("hidden", [32, 64, 128])
        p["bidirectional"] = trial.suggest_categorical("bidirectional", [False, True])
        p["layers"] = trial.suggest_categorical("gru_layers", [1, 2])
    else:
        p["channels"] = trial.suggest_categorical("channels", [32, 64, 128])
        p["kernel"] = trial.suggest_categorical("kernel", [3, 5])
        p["layers"] = trial.suggest_categorical("cnn_layers", [1, 2, 3])
    p["dropout"] = trial.suggest_categorical("dropout", [0.0, 0.2])
    return p


def build(p: dict[str, Any], vocab: int, classes: int) -> nn.Module:
    return (GRUNet if p["kind"] == "gru" else CNNNet)(vocab, classes, p)


Data = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # ids, lengths, labels


def train(model: nn.Module, data: Data, seed: int) -> None:
    x, lengths, y = data
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), BATCH):
            idx = order[i : i + BATCH]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx], lengths[idx]), y[idx]).backward()
            opt.step()


def predict(model: nn.Module, data: Data) -> torch.Tensor:
    x, lengths, _ = data
    model.eval()
    with torch.no_grad():
        return model(x, lengths).argmax(1)


def run_seed(seed: int, seconds: float) -> Run:
    """Search ``seconds`` with TPE on the train/validation split of ``seed``, retrain the best, test it once."""
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names, labels, _ = read_names(DATA)
    idx = np.arange(len(names))
    rest, test_idx = train_test_split(idx, test_size=0.2, random_state=seed, stratify=labels)
    train_idx, valid_idx = train_test_split(rest, test_size=0.2 / 0.8, random_state=seed, stratify=labels[rest])
    tokens = Tokens([names[i] for i in train_idx])
    classes = int(labels.max()) + 1

    def encode(part: np.ndarray) -> Data:
        return (*tokens([names[i] for i in part]), torch.as_tensor(labels[part], dtype=torch.long))

    parts = {"train": encode(train_idx), "valid": encode(valid_idx), "test": encode(test_idx)}

    def objective(trial: optuna.Trial) -> float:
        trial_seed = seed * 100_003 + trial.number
        torch.manual_seed(trial_seed)
        model = build(suggest(trial), tokens.vocab, classes)
        train(model, parts["train"], trial_seed)
        return (predict(model, parts["valid"]) == parts["valid"][2]).float().mean().item()

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    t0 = time.monotonic()
    study.optimize(objective, timeout=seconds)  # no new trial starts once the seconds are spent
    search_seconds = time.monotonic() - t0

    best = study.best_trial
    t0 = time.monotonic()
    torch.manual_seed(seed)
    model = build(suggest(optuna.trial.FixedTrial(best.params)), tokens.vocab, classes)
    train(model, encode(np.concatenate([train_idx, valid_idx])), seed)  # same tokens: fitted on train only
    y_true, y_pred = parts["test"][2].numpy(), predict(model, parts["test"]).numpy()
    return Run(
        seed=seed,
        trials=len(study.trials),
        best_valid_accuracy=float(best.value),
        test_accuracy=float((y_true == y_pred).mean()),
        test_macro_f1=float(f1_score(y_true, y_pred, average="macro")),
        search_seconds=search_seconds,
        retrain_seconds=time.monotonic() - t0,
        params=sum(p.numel() for p in model.parameters()),
        best_params=best.params,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one seed, 30 s (a smoke test)")
    parser.add_argument("--seconds", type=float, default=None, help="search seconds per seed [300; quick: 30]")
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 [3; quick: 1]")
    parser.add_argument("--out", default=None, help="write all results as JSON here")
    args = parser.parse_args()
    seeds = args.seeds or (1 if args.quick else 3)
    seconds = args.seconds or (30.0 if args.quick else 300.0)
    if not DATA.exists():
        raise SystemExit(f"dataset not found: {DATA} (see ../shared/datasets/README.md)")

    print(
        f"# {date.today()} {platform.node()} {platform.processor() or platform.machine()}, names_gender, "
        f"Optuna {optuna.__version__} TPE + torch {torch.__version__}, {seconds:g} s search per seed, {seeds} seed(s)",
        flush=True,
    )
    print(f"{'seed':>4} {'trials':>7} {'best valid':>11} {'test acc':>9} {'test F1':>8} {'search s':>9}  best params")
    runs = []
    for seed in range(seeds):
        r = run_seed(seed, seconds)
        runs.append(r)
        print(
            f"{r.seed:>4} {r.trials:>7} {r.best_valid_accuracy:>11.4f} {r.test_accuracy:>9.4f} "
            f"{r.test_macro_f1:>8.4f} {r.search_seconds:>9.1f}  {json.dumps(r.best_params)}",
            flush=True,
        )
    acc = [r.test_accuracy for r in runs]
    f1 = [r.test_macro_f1 for r in runs]
    summary = {
        "test_accuracy_mean": statistics.mean(acc),
        "test_accuracy_std": statistics.pstdev(acc),
        "test_macro_f1_mean": statistics.mean(f1),
        "trials_mean": statistics.mean(r.trials for r in runs),
    }
    print(
        f"mean test accuracy over {seeds} seed(s): {summary['test_accuracy_mean']:.4f} "
        f"± {summary['test_accuracy_std']:.4f} (macro-F1 {summary['test_macro_f1_mean']:.4f})"
    )
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(
                {"seconds": seconds, "seeds": seeds, "summary": summary, "runs": [asdict(r) for r in runs]},
                fh,
                indent=2,
            )


if __name__ == "__main__":
    main()
