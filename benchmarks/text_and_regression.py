"""nasforge's defaults on text and regression data against the scikit-learn baselines, on the same rows.

Each task runs ``nasforge search cfg.yaml`` in a subprocess with a config that gives only the data block and
``budget: {seconds: N}`` (the chain space's defaults for the input, evolution, the default trainer), and reads
the winner's test metrics from ``best.json``. The baselines are fitted in this process on exactly the rows of
nasforge's split (``nasforge.data.split_indices``): hyperparameters chosen on the validation part, refitted
on train+validation, scored once on test.

Tasks (the text corpora are in ``../shared/datasets``, see its README):

* ``names``: first names -> gender, character level; TF-IDF of character 1-5-grams + logistic regression.
* ``sotu_year``: State of the Union paragraphs -> year (regression), split by speech (``group: [year,
  president]``); TF-IDF of word 1-2-grams + ridge regression.
* ``sotu_party``: the same paragraphs -> Democratic or Republican (rows of those two parties only, written to a
  temporary CSV), split by speech; TF-IDF + logistic regression.
* ``diabetes``: sklearn's diabetes table (regression, 10 flat features); ``RidgeCV``.

    python benchmarks/text_and_regression.py --tasks names --seeds 3            # 300 s per search
    python benchmarks/text_and_regression.py --tasks sotu_year,sotu_party        # 600 s per search
    python benchmarks/text_and_regression.py --tasks diabetes --seeds 3 --jobs 2
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SECONDS = {"names": 300, "sotu_year": 600, "sotu_party": 600, "diabetes": 120}


def data_block(task: str, scratch: Path) -> dict[str, Any]:
    """The ``data:`` block a user would write for ``task``."""
    if task == "names":
        return {"path": str(SHARED / "names_gender.csv"), "text": "name", "target": "gender"}
    if task == "sotu_year":
        path = str(SHARED / "sotu_paragraphs.csv.gz")
        return {"path": path, "text": "text", "target": "year", "task": "regression", "group": ["year", "president"]}
    if task == "sotu_party":
        path = scratch / "sotu_two_parties.csv"
        if not path.exists():
            with gzip.open(SHARED / "sotu_paragraphs.csv.gz", "rt", newline="") as src, path.open("w") as dst:
                reader = csv.DictReader(src)
                writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
                writer.writeheader()
                writer.writerows(row for row in reader if row["party"] in ("Democratic", "Republican"))
        return {"path": str(path), "text": "text", "target": "party", "group": ["year", "president"]}
    if task == "diabetes":
        return {"builtin": "diabetes"}
    raise SystemExit(f"unknown task {task!r}; choose from {', '.join(SECONDS)}")


def run_nasforge(task: str, seed: int, seconds: float, scratch: Path) -> dict[str, Any]:
    config = {"name": f"{task}-{seed}", "seed": seed, "data": data_block(task, scratch), "budget": {"seconds": seconds}}
    folder = Path(tempfile.mkdtemp(prefix=f"{task}-{seed}-", dir=scratch))
    (folder / "cfg.yaml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "nasforge", "search", "cfg.yaml", "--run-dir", "run"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{task} seed {seed}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    best = json.loads((folder / "run" / "best.json").read_text())
    return {
        "task": task,
        "seed": seed,
        "arch": best["arch"],
        "test": best["test"],
        "validation": best["validation"],
        "trials": best["search"]["trials"],
        "search_seconds": best["search"]["seconds"],
        "wall_seconds": round(wall, 1),
        "params": best["costs"]["params"],
    }


def baseline(task: str, seed: int, scratch: Path) -> dict[str, float]:
    """The scikit-learn baseline of ``task`` on nasforge's split of ``seed``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score

    from nasforge.data import load, split_indices

    data = load(data_block(task, scratch))
    train, valid, test = split_indices(data, seed)
    X, y = data.X, data.y
    if task == "diabetes":
        model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X[np.r_[train, valid]], y[np.r_[train, valid]])
        pred = model.predict(X[test])
        return {"r2": r2_score(y[test], pred), "mae": mean_absolute_error(y[test], pred)}
    if task == "names":
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), lowercase=True)
    else:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    regression = data.task == "regression"
    settings = (0.3, 1.0, 3.0, 10.0) if regression else (1.0, 10.0, 100.0)

    def fit(rows: np.ndarray, setting: float) -> tuple[Any, Any]:
        features = vectorizer.fit(X[rows])
        model = Ridge(alpha=setting) if regression else LogisticRegression(C=setting, max_iter=3000)
        return features, model.fit(features.transform(X[rows]), y[rows])

    def score(features: Any, model: Any, rows: np.ndarray) -> float:
        pred = model.predict(features.transform(X[rows]))
        return -mean_absolute_error(y[rows], pred) if regression else accuracy_score(y[rows], pred)

    chosen = max(settings, key=lambda s: score(*fit(train, s), valid))
    features, model = fit(np.r_[train, valid], chosen)
    pred = model.predict(features.transform(X[test]))
    if regression:
        return {"mae": mean_absolute_error(y[test], pred), "r2": r2_score(y[test], pred), "setting": chosen}
    return {
        "accuracy": accuracy_score(y[test], pred),
        "f1": f1_score(y[test], pred, average="macro"),
        "setting": chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="names,sotu_year,sotu_party,diabetes")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--seconds", type=float, help="search seconds of every task (default: per task)")
    parser.add_argument("--jobs", type=int, default=1, help="searches at once (one core each on this machine)")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    args = parser.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"the shared datasets are not at {SHARED}")
    tasks = [t for t in args.tasks.split(",") if t]
    scratch = Path(tempfile.mkdtemp(prefix="nasforge-text-"))
    jobs = [(t, s, args.seconds or SECONDS[t]) for t in tasks for s in range(args.seeds)]
    for task in tasks:
        data_block(task, scratch)  # writes the two-party CSV once, before the searches start
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_nasforge, t, s, sec, scratch) for t, s, sec in jobs]
        results = [f.result() for f in futures]
    for r in results:
        r["baseline"] = baseline(r["task"], r["seed"], scratch)
        print(json.dumps(r), flush=True)
    print("\n| task | seed | nasforge test | baseline test | trials | search s | winner |")
    print("|---|---:|---|---|---:|---:|---|")
    for r in results:
        keys = [k for k in ("accuracy", "f1", "mae", "r2") if k in r["baseline"]]
        ours = ", ".join(f"{k} {r['test'][k]:.4f}" for k in keys)
        theirs = ", ".join(f"{k} {r['baseline'][k]:.4f}" for k in keys)
        line = f"| {r['task']} | {r['seed']} | {ours} | {theirs} | {r['trials']} | {r['search_seconds']} |"
        print(f"{line} `{r['arch']}` |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
