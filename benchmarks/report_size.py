"""How heavy the HTML report gets: its size, the time to write it, and the time Chromium takes to load it,
for runs of 200 and 2,000 trials (issue 23).

The runs are real runs of the runner and the SQLite store over the cell space (regularized evolution), with an
evaluator that trains nothing: each architecture's accuracy is a hash of it, with an 8-epoch learning curve
rising to it, and its parameters and FLOPs grow with its convolutions. What is measured is the report's cost,
which depends on how many trials, curves and points there are, not on what they score.

    python benchmarks/report_size.py --trials 200 2000 [--browser]
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
import zlib
from collections.abc import Hashable
from pathlib import Path

from nasforge.api import open_store, search_identity
from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.objective import Objective
from nasforge.report import REPORT_FILE, write_report
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.strategies import RegularizedEvolution


class Hashed(Evaluator):
    """Scores without training (see the module docstring)."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        accuracy = 0.5 + 0.45 * zlib.crc32(str(arch).encode()) / 2**32
        convs = sum(op.startswith("nor_conv") for op in arch.ops)
        curve = tuple(
            {"epoch": e, "accuracy": accuracy * (1 - math.exp(-e / 2)), "loss": 2 * math.exp(-e / 2), "seconds": 0.1}
            for e in range(1, 9)
        )
        costs = {"params": 5000.0 + 20000.0 * convs, "flops": 1e5 + 4e5 * convs, "train_seconds": 0.8}
        return Evaluation({"accuracy": accuracy, "loss": curve[-1]["loss"]}, costs, curve=curve)

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


def measure(trials: int, folder: Path, browser: bool) -> None:
    space, strategy, objective = CellSpace(), RegularizedEvolution(), Objective("accuracy")
    store = open_store(folder, search_identity(space, strategy, objective, 0), None)
    Run(space, strategy, Hashed(), store, objective=objective).optimize(Budget(trials=trials))
    store.close()
    began = time.perf_counter()
    write_report(folder)
    with_pngs = time.perf_counter() - began
    began = time.perf_counter()
    write_report(folder, pngs=False)
    live = time.perf_counter() - began
    size = (folder / REPORT_FILE).stat().st_size
    line = f"{trials:>6} trials: report {size / 1e6:.2f} MB; written in {live:.1f} s (live, no PNGs), {with_pngs:.1f} s"
    line += " with its PNGs"
    if browser:
        line += f"; Chromium loads it in {load_seconds(folder / REPORT_FILE):.2f} s (median of 3)"
    print(line, flush=True)


def load_seconds(path: Path) -> float:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=flags)
        for _ in range(3):
            page = browser.new_page()
            began = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.locator("#shown").wait_for()  # the table's script has run
            times.append(time.perf_counter() - began)
            page.close()
        browser.close()
    return sorted(times)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--browser", action="store_true", help="also time Chromium loading each report")
    args = parser.parse_args()
    for n in args.trials:
        with tempfile.TemporaryDirectory(prefix="nasforge-report-") as folder:
            measure(n, Path(folder), args.browser)


if __name__ == "__main__":
    main()
