"""Config variants against each other, measured as users run them: ``nasforge search cfg.yaml`` per seed.

Each search is a subprocess with a config holding the data block, ``seed``, ``budget: {seconds: N}`` and the
variant's own keys (YAML, merged on top), so everything else is nasforge's defaults; the winner's test
accuracy (the mean over its final retrainings, with their spread where there are several) is read from
``best.json``. Every variant runs on every seed, ``--jobs`` searches at a time (one core each).

    python benchmarks/variants.py --data digits --seeds 3 --jobs 2 \\
        --variant 'none={train: {augment: false}}' --variant 'shift1={train: {augment: {shift: 1}}}'
    python benchmarks/variants.py --data '{builtin: glyphs, n: 5000, size: 28}' \\
        --variant 'plain={final: {rerank: 0}}' --variant 'rerank={final: {rerank: 5}}'

``--data`` is a built-in dataset's name, a path to an ``.npz``/``.csv`` file, or a data block in YAML
(``'{builtin: glyphs, n: 5000, size: 28}'``: drawn 28x28 digits, the mnist-like set of issue 16).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import yaml


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    name, _, block = text.partition("=")
    keys = yaml.safe_load(block) if block else {}
    if not name or not isinstance(keys, dict):
        raise SystemExit(f"--variant {text!r}: give NAME=YAML-MAPPING, e.g. 'none={{train: {{augment: false}}}}'")
    return name, keys


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def search(data: str, name: str, keys: dict[str, Any], seed: int, seconds: float, scratch: str) -> dict[str, Any]:
    if data.startswith("{"):
        source = yaml.safe_load(data)
    else:
        source = {"path": str(Path(data).resolve())} if Path(data).suffix else {"builtin": data}
    config = merged({"name": f"{name}-{seed}", "seed": seed, "data": source, "budget": {"seconds": seconds}}, keys)
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-{seed}-", dir=scratch))
    (folder / "cfg.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [sys.executable, "-m", "nasforge", "search", "cfg.yaml", "--run-dir", "run", "--quiet"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} seed {seed}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    best = json.loads((folder / "run" / "best.json").read_text())
    return {
        "variant": name,
        "seed": seed,
        "test": best["test"]["accuracy"],
        "test_std_over_final_seeds": best.get("test_std", {}).get("accuracy"),
        "final_seeds": len(best.get("test_seeds", [])) or 1,
        "validation": best["validation"]["accuracy"],
        "trials": best["search"]["trials"],
        "reranked": len(best.get("rerank", [])),
        "arch": best["arch"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="digits", help="a built-in dataset or a data file [digits]")
    parser.add_argument("--variant", action="append", required=True, help="NAME=YAML keys merged into the config")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+SEEDS-1 [0]")
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--jobs", type=int, default=1, help="searches at once (one core each on this machine)")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument("--keep", type=Path, help="keep every search's folder (config and run directory) here")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(args.data, name, keys, s, args.seconds) for s in seeds for name, keys in variants]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    folders = nullcontext(str(args.keep)) if args.keep else tempfile.TemporaryDirectory(prefix="nasforge-variants-")
    with folders as scratch, ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(search, *job, scratch) for job in jobs]
        rows = []
        for future in futures:
            rows.append(future.result())
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.data}, {args.seconds:g} s per search, seeds {seeds[0]}-{seeds[-1]}: winner's test accuracy")
    for name, _ in variants:
        tests = [r["test"] for r in rows if r["variant"] == name]
        spread = statistics.stdev(tests) if len(tests) > 1 else 0.0
        listed = ", ".join(f"{t:.4f}" for t in tests)
        print(f"  {name:>12}: {statistics.mean(tests):.4f} +- {spread:.4f} over search seeds ({listed})")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
