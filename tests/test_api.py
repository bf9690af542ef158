"""``nasforge.search`` as a Python user calls it."""

from __future__ import annotations

import json

import pytest
import torch

import nasforge as nf
from nasforge.exceptions import StoreError


@pytest.fixture(scope="module")
def images():
    return nf.data.synthetic("image", n=240, classes=3, seed=0)


def small_cells():
    return nf.CellSpace(stem_channels=4, stages=2, cells_per_stage=1)


def test_search_returns_a_retrained_winner(tmp_path, images):
    run = nf.search(
        data=images,
        space=small_cells(),
        strategy=nf.RegularizedEvolution(population=3, sample=2),
        trainer=nf.Trainer(epochs=1),
        budget=nf.Budget(trials=4),
        run_dir=tmp_path / "run",
    )
    best = run.best
    assert str(best.arch) == best.trial.arch and best.trial.id == run.best_trial.id
    assert set(best.metrics) >= {"accuracy", "f1", "loss"} and set(best.test) >= {"accuracy", "f1", "loss"}
    model = best.build()
    assert isinstance(model, torch.nn.Module)
    x = torch.tensor(images.X[:5], dtype=torch.float32)
    model.eval()
    best.model.eval()
    with torch.no_grad():
        assert model(x).shape == (5, 3)
        torch.testing.assert_close(model(x), best.model.cpu()(x))
    figures = {f"{name}.png" for name in ("progress", "generations", "distribution", "pareto", "winner")}
    assert {p.name for p in best.paths.values()} == {"best.pt", "best.onnx", "best.json", "report.html", *figures}
    assert run.stop_reason == "trials"
    search = json.loads(best.paths["json"].read_text())["search"]
    assert search["trials"] == 4 and search["stopped_by"] == "trials" and search["seconds"] > 0


def test_calling_search_again_resumes_the_run(tmp_path, images):
    kwargs = dict(
        data=images, space=small_cells(), strategy="random", trainer=nf.Trainer(epochs=1), run_dir=tmp_path / "run"
    )
    first = nf.search(budget=nf.Budget(trials=2), **kwargs)
    kept = [(t.id, t.arch) for t in first.trials]
    second = nf.search(budget=nf.Budget(trials=4), **kwargs)
    assert [(t.id, t.arch) for t in second.trials][:2] == kept
    assert second.done == 4

    with pytest.raises(StoreError, match="holds a different search"):
        nf.search(budget=nf.Budget(trials=4), **{**kwargs, "strategy": "evolution"})
    other = nf.data.synthetic("image", n=240, classes=3, seed=1)  # the same shapes, other samples
    with pytest.raises(StoreError, match=r"holds a search on other data \(its training and validation samples"):
        nf.search(budget=nf.Budget(trials=6), **{**kwargs, "data": other})
    assert nf.search(budget=nf.Budget(trials=4), **kwargs).done == 4, "nothing was added by the refused call"
    with pytest.raises(StoreError, match=r"holds a different search \(train changed\)"):  # 2 epochs rank apart
        nf.search(budget=nf.Budget(trials=6), **{**kwargs, "trainer": nf.Trainer(epochs=2)})
    assert nf.search(budget=nf.Budget(trials=5), **{**kwargs, "trainer": nf.Trainer(epochs=1, threads=2)}).done == 5


def test_a_run_of_an_earlier_version_resumes_when_a_new_strategy_parameter_is_at_its_default(tmp_path, images):
    """An earlier version stored BANANAS's parameters without ``exact_costs``: the run resumes as long as the
    parameter keeps its default (the old behaviour), and a changed value is still a different search."""
    from nasforge.store import SQLiteStore

    kwargs = dict(data=images, space=small_cells(), trainer=nf.Trainer(epochs=1), run_dir=tmp_path / "run")
    bananas = {"name": "bananas", "init": 2, "batch": 1, "ensemble": 1, "epochs": 5}
    nf.search(budget=nf.Budget(trials=2), strategy=bananas, **kwargs)
    store = SQLiteStore(tmp_path / "run" / "store.sqlite")
    identity = store.get_meta("search")
    del identity["strategy"]["exact_costs"]
    del identity["train"]  # nor the trainer's recipe
    store.set_meta("search", identity)
    store.close()
    assert nf.search(budget=nf.Budget(trials=3), strategy=bananas, **kwargs).done == 3
    with pytest.raises(StoreError, match=r"holds a different search \(strategy changed\)"):
        nf.search(budget=nf.Budget(trials=4), strategy={**bananas, "exact_costs": True}, **kwargs)


def test_without_run_dir_nothing_is_written(tmp_path, images, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = nf.search(
        data=images, space=small_cells(), strategy="random", trainer=nf.Trainer(epochs=1), budget=nf.Budget(trials=1)
    )
    assert run.best.paths == {} and list(tmp_path.iterdir()) == []


def test_re_ranked_leaders_final_seeds_and_augmentation_reach_best_json(tmp_path, images):
    run = nf.search(
        data=images,
        space=small_cells(),
        strategy="random",
        trainer=nf.Trainer(epochs=1, augment={"shift": 1, "noise": 0.05}),
        budget=nf.Budget(trials=8),
        run_dir=tmp_path / "run",
        rerank=2,
        repeats=1,
        seeds=2,
    )
    repeats = [t for t in run.trials if t.repeat_of is not None]
    assert run.done == 8 and len(repeats) == 2, "6 searched, 2 leaders trained again within the 8 trials"
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert {row["trial"] for row in best["rerank"]} == {t.repeat_of for t in repeats}
    assert best["trial"] == best["rerank"][0]["trial"] == run.best.trial.id, "the best mean wins"
    assert all(len(row["scores"]) == 2 and row["failed"] == 0 for row in best["rerank"])
    assert len(best["test_seeds"]) == 2 and best["test"]["accuracy"] == pytest.approx(
        sum(s["accuracy"] for s in best["test_seeds"]) / 2
    )
    assert best["recipe"]["augment"] == {"shift": 1, "flip": False, "noise": 0.05}, "the recipe is recorded"
