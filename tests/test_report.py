"""The run report, its figures and ``compare``: from real (tiny) searches, finished, live and interrupted."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import nasforge as nf
from nasforge.budget import Budget
from nasforge.callbacks import Callback
from nasforge.report import REPORT_FILE, ReportCallback, compare_runs, write_report
from nasforge.report._drawing import architecture_figure
from nasforge.report._plots import choices_figure, generations_figure, svg
from nasforge.report._run import RunView
from nasforge.spaces import CellSpace, ChainSpace
from nasforge.store import SQLiteStore
from nasforge.trial import TrialState


@pytest.fixture(scope="module")
def images():
    return nf.data.synthetic("image", n=240, classes=3, seed=0)


def small_cells() -> CellSpace:
    return nf.CellSpace(stem_channels=4, stages=2, cells_per_stage=1)


def tiny_search(run_dir: Path, images, trials: int = 12, seed: int = 0, **kwargs) -> nf.Run:
    return nf.search(
        data=images,
        space=small_cells(),
        strategy=nf.RegularizedEvolution(population=4, sample=2),
        trainer=nf.Trainer(epochs=2),
        budget=Budget(trials=trials),
        run_dir=run_dir,
        seed=seed,
        seeds=1,
        **kwargs,
    )


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, images) -> Path:
    run_dir = tmp_path_factory.mktemp("report") / "run"
    # closed here, not whenever the collector frees the run: the last connection's close folds SQLite's
    # write-ahead log into store.sqlite, which a test below copies alone
    tiny_search(run_dir, images).store.close()
    return run_dir


def test_a_finished_run_gets_a_self_contained_report_and_its_figures(finished_run):
    page = (finished_run / REPORT_FILE).read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing is fetched from a network"
    assert "<link" not in page and "@import" not in page
    for figure in ("progress", "generations", "distribution", "pareto", "curves", "choices", "winner"):
        assert f'id="fig-{figure}"><svg' in page, figure
        assert (finished_run / f"{figure}.png").stat().st_size > 5000, figure
    assert page.count('data-state="finished"') == 12
    assert "finished: the winner was retrained and tested" in page
    assert 'href="best.onnx"' in page and 'href="best.pt"' in page
    best_arch = re.search(r"<td>architecture</td><td><code>([^<]+)</code>", page).group(1)
    assert best_arch.replace("&gt;", ">") in (finished_run / "best.json").read_text()


def test_the_report_is_kept_current_during_the_search(tmp_path, images):
    seen: list[tuple[int, int]] = []

    class Reader(Callback):  # runs after the report's own callback: what a user opening the file would see
        def on_trial_end(self, run, trial):
            path = tmp_path / "run" / REPORT_FILE
            seen.append((trial.id, path.read_text().count("<tr class=") if path.exists() else 0))

    live = ReportCallback(tmp_path / "run", every=4, max_share=1.0)  # trials of a second: no time cap here
    tiny_search(tmp_path / "run", images, trials=10, report_every=0, callbacks=[live, Reader()])
    assert [rows for _, rows in seen] == [0, 0, 0, 4, 4, 4, 4, 8, 8, 8]


def test_the_live_report_takes_at_most_its_share_of_the_search(tmp_path, finished_run):
    report = finished_run / REPORT_FILE
    live = ReportCallback(finished_run, every=1, max_share=0.05)
    trials = RunView.load(finished_run).trials
    before = report.stat().st_mtime_ns
    live.on_trial_end(None, trials[0])  # the first is written: nothing spent yet
    written = report.stat().st_mtime_ns
    assert written > before
    for trial in trials[1:]:
        live.on_trial_end(None, trial)  # right after the first: a rewrite would take far over 5% of the time
    assert report.stat().st_mtime_ns == written
    live.max_share = 1.0
    live.on_trial_end(None, trials[0])
    assert report.stat().st_mtime_ns > written


def test_an_interrupted_run_reports_what_is_stored(tmp_path, images, finished_run):
    run_dir = tmp_path / "cut"
    run_dir.mkdir()
    (run_dir / "store.sqlite").write_bytes((finished_run / "store.sqlite").read_bytes())
    store = SQLiteStore(run_dir / "store.sqlite")
    store.create_trial(store.trials()[0].arch, seed=5)  # a trial that was running when the search died
    store.close()
    written = write_report(run_dir, tmp_path / "out" / "r.html", pngs=False)
    page = written["report"].read_text()
    assert set(written) == {"report"} and not (run_dir / "progress.png").exists()
    assert "running, interrupted or not yet tested" in page
    assert page.count('data-state="running"') == 1 and "not yet retrained or tested" in page


def test_a_generation_needs_two_blocks_and_choices_need_ten_trials(finished_run):
    view = RunView.load(finished_run)
    trials = list(view.trials)
    assert generations_figure(trials[:4], view.objective, 4) is None
    assert generations_figure(trials, view.objective, 4) is not None
    assert choices_figure(trials[:9], view.space) is None
    image = svg(choices_figure(trials, view.space))
    assert image.startswith("<svg") and "best 10% (1)" in image


def test_drawings_name_every_op_and_every_shape():
    cell = CellSpace().from_string("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    image = svg(architecture_figure(CellSpace(), cell))
    for op in ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "nor_conv_1x1"):
        assert f">{op}<" in image
    assert "2 'none' edges not drawn" in image
    chain = ChainSpace(input_shape=(1, 12, 12), strides=(1, 2))
    image = svg(architecture_figure(chain, "conv(8,k3,s1,relu,pool)>conv(16,k3,s2,relu)"))
    assert "8 x 6 x 6" in image and "16 x 3 x 3" in image
    tokens = ChainSpace(input_shape=(20,), vocab_size=50)
    assert tokens.layer_shapes(tokens.parse("embed(32)>gru(64)>readout(max)")) == [("gru(64)", (64, 20))]


def test_compare_groups_seeds_of_one_setup(tmp_path, images, finished_run):
    tiny_search(tmp_path / "seed1", images, trials=6, seed=1)
    nf.search(
        data=images,
        space=small_cells(),
        strategy="random",
        trainer=nf.Trainer(epochs=1),
        budget=Budget(trials=5),
        run_dir=tmp_path / "random",
        seeds=1,
    )
    path, setups = compare_runs([finished_run, tmp_path / "seed1", tmp_path / "random"], tmp_path / "c.png")
    assert path.stat().st_size > 10_000
    assert [s.label for s in setups] == ["evolution (2 seeds)", "random"]
    evolution = setups[0]
    assert evolution.trials == (12, 6) and len(evolution.best) == 2 and len(evolution.test) == 2
    assert "+-" in evolution.summary(evolution.best)
    assert setups[1].summary(setups[1].test) == f"{setups[1].test[0]:.4f}"
    assert np.all(np.array(evolution.best) <= 1.0)


def test_report_and_compare_from_the_command_line(tmp_path, finished_run):
    from typer.testing import CliRunner

    from nasforge.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["report", str(finished_run), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").stat().st_size > 10_000 and "figures in" in result.output
    result = runner.invoke(app, ["compare", str(finished_run), "-o", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "evolution" in result.output and (tmp_path / "c.png").is_file()
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code != 0


def test_every_state_is_listed_with_its_own_filter(finished_run):
    page = (finished_run / REPORT_FILE).read_text()
    states = re.findall(r'<option value="(\w+)">', page)
    assert states == [s.value for s in TrialState if f'data-state="{s.value}"' in page]


def test_a_live_report_that_cannot_be_written_is_a_warning_not_the_end_of_the_search(tmp_path, finished_run):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "store.sqlite").write_bytes((finished_run / "store.sqlite").read_bytes())
    (run_dir / REPORT_FILE).mkdir()  # the report's place is taken: os.replace fails
    live = ReportCallback(run_dir, every=1, max_share=1.0)
    trial = RunView.load(run_dir).trials[0]
    with pytest.warns(RuntimeWarning, match=r"^report: .*report\.html not written"):
        live.on_trial_end(None, trial)  # the runner calls it without catching: a raise would end the search
    with pytest.warns(RuntimeWarning, match=r"not written"):
        live.on_search_end(None, "trials")


def test_a_one_shot_run_reports_the_cell_it_would_return_and_best_json_is_text_not_markup(tmp_path, finished_run):
    """Mid-run, a one-shot run returns the cell derived at its last epoch, not its best-scored epoch; and a
    ``best.json`` from someone else cannot put markup into the page."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    store = SQLiteStore(run_dir / "store.sqlite")
    store.set_meta("search", {"space": {"type": "cell"}, "strategy": {"name": "darts"}, "objective": {}})
    arches = [
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
        "|skip_connect~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
    ]
    for arch, accuracy in zip(arches, (0.9, 0.6), strict=True):
        trial = store.create_trial(arch, seed=0)
        store.finish_trial(trial.id, accuracy, {"accuracy": accuracy, "loss": 1.0}, {})
    store.set_meta("supernet", {"ops": list(CellSpace().ops), "edges": [], "epochs": []})
    store.close()
    page = write_report(run_dir, pngs=False)["report"].read_text()
    assert re.search(r"best so far</td><td><code>[^<]*</code> \(trial 2\)", page)
    (run_dir / "best.json").write_text('{"arch": "a", "trial": "<img src=x onerror=alert(1)>"}')
    page = write_report(run_dir, pngs=False)["report"].read_text()
    assert "<img" not in page and "(trial &lt;img src=x onerror=alert(1)&gt;)" in page


def test_compare_draws_run_names_that_matplotlib_would_read_as_maths(tmp_path, images, finished_run):
    """A name with a pair of ``$`` is mathtext to matplotlib; ``$x^$`` is invalid mathtext and failed the plot."""
    import shutil

    runs = [tmp_path / "cost$x^$", tmp_path / "b$"]
    shutil.copytree(finished_run, runs[0])
    settings = {"space": small_cells(), "trainer": nf.Trainer(epochs=1), "budget": Budget(trials=2), "seeds": 1}
    nf.search(data=images, strategy="random", run_dir=runs[1], **settings)
    path, setups = compare_runs(runs, tmp_path / "c.png")
    assert path.stat().st_size > 10_000 and [s.label for s in setups] == ["cost$x^$", "b$"]
