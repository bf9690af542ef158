"""The report in a real browser: headless Chromium (Debian's ``chromium``, installed by ``.ci/run``) driven by
Playwright. It must load with no console error and no network request, draw every figure, and sort its table.

Outside CI a machine without Chromium skips these tests with the reason; in CI (``CI`` set) a missing browser
fails them, so the check cannot pass by not running.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import nasforge as nf
from nasforge.budget import Budget
from nasforge.report import REPORT_FILE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium for the report test (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (in the test extra)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "run"
    nf.search(
        data=nf.data.synthetic("image", n=240, classes=3, seed=0),
        space=nf.CellSpace(stem_channels=4, stages=2, cells_per_stage=1),
        strategy=nf.RegularizedEvolution(population=5, sample=2),
        trainer=nf.Trainer(epochs=2),
        budget=Budget(trials=15),
        run_dir=path,
        seeds=1,
    )
    return path


def test_the_report_loads_offline_draws_every_figure_and_sorts(browser, run_dir, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    url = (run_dir / REPORT_FILE).resolve().as_uri()
    page.goto(url)
    page.wait_for_load_state("load")

    assert errors == []
    assert requests == [url], "the page itself and nothing else"
    for figure in ("progress", "generations", "distribution", "pareto", "curves", "choices", "winner"):
        box = page.locator(f"#fig-{figure} svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100, figure
        assert page.locator(f"#fig-{figure} svg path").count() > 5, figure
    assert page.locator("#fig-winner svg text").count() >= 4  # node names and op labels

    def column(index: int) -> list[float]:
        texts = page.locator(f"#trials tbody tr td:nth-child({index})").all_text_contents()
        return [float(t) for t in texts]

    heads = page.locator("#trials thead th").all_text_contents()
    score = heads.index("score") + 1
    assert column(1) == sorted(column(1)), "trials listed in id order"
    page.locator("#trials thead th", has_text="score").click()
    ascending = column(score)
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    page.locator("#trials thead th", has_text="score").click()
    assert column(score) == sorted(ascending, reverse=True)
    page.locator("#trials thead th", has_text="id").first.click()
    assert column(1) == list(range(1, 16))

    page.fill("#filter", "avg_pool_3x3")
    visible = page.locator("#trials tbody tr:visible")
    assert 0 < visible.count() < 15
    assert all("avg_pool_3x3" in text for text in visible.all_text_contents())
    assert page.locator("#shown").text_content() == f"{visible.count()} of 15 trials shown"

    page.fill("#filter", "")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 50_000
    page.close()
