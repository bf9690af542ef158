"""Warm starts: an earlier run's best architectures trained first, and its results replayed where they apply."""

from __future__ import annotations

import json
from collections.abc import Hashable
from pathlib import Path

import pytest

import nasforge as nf
from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport
from nasforge.exceptions import ConfigError
from nasforge.objective import Objective
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import NSGA2, RandomSearch
from nasforge.warm import WarmStart


class ConvShare(Evaluator):
    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        share = arch.ops.count("nor_conv_3x3") / len(arch.ops)
        return Evaluation({"accuracy": share, "loss": 1 - share})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


class Counting(RandomSearch):
    def __init__(self) -> None:
        super().__init__()
        self.told: list[Hashable] = []

    def tell(self, arch: Hashable, score: object) -> None:
        self.told.append(arch)
        super().tell(arch, score)


def identity(objective: Objective | None = None, **more: object) -> dict[str, object]:
    """A new search's identity, as ``search_identity`` gives it: its strategy and seed differ from the earlier
    run's, which does not stop a replay."""
    return {
        "space": CellSpace().config(),
        "strategy": {"name": "local"},
        "objective": (objective or Objective()).config(),
        "seed": 9,
        **more,
    }


def earlier_run(folder: Path, digest: str = "same data") -> Run:
    """A finished 30-trial run in ``folder``, as ``nasforge.search`` stores one."""
    folder.mkdir()
    store = SQLiteStore(folder / "store.sqlite")
    store.set_meta("search", {"space": CellSpace().config(), "objective": Objective().config()})
    store.set_meta("data_digest", digest)
    run = Run(CellSpace(), RandomSearch(), ConvShare(), store, seed=5)
    run.optimize(Budget(trials=30))
    broken = store.create_trial("not an architecture", seed=1)
    store.finish_trial(broken.id, 2.0, {"accuracy": 2.0}, {})  # the best score, but no architecture of the space
    return run


def test_on_the_same_data_the_results_are_replayed_and_the_best_trained_first(tmp_path):
    old = earlier_run(tmp_path / "old")
    warm = WarmStart(tmp_path / "old", top=3).load(CellSpace(), identity(), "same data")
    best = [CellSpace().from_string(t.arch) for t in old.top(4)[1:]]  # the first is the broken one
    assert list(warm.first) == best, "the old run's three best, the unparsable one skipped"
    assert len(warm.replay) == 30 and warm.record["same_data"] and warm.record["replayed"] == 30
    strategy = Counting()
    run = Run(CellSpace(), strategy, ConvShare(), SQLiteStore(":memory:"), seed=1, warm=warm)
    assert len(strategy.told) == 30, "told before the first ask"
    run.optimize(Budget(trials=5))
    assert [CellSpace().from_string(t.arch) for t in run.trials[:3]] == best


def test_on_other_data_only_the_best_are_trained_first(tmp_path):
    earlier_run(tmp_path / "old")
    warm = WarmStart(tmp_path / "old", top=4).load(CellSpace(), identity(), "other data")
    assert len(warm.first) == 4 and warm.replay == () and not warm.record["same_data"]
    other_objective = WarmStart(tmp_path / "old").load(CellSpace(), identity(Objective("loss")), "same data")
    assert other_objective.replay == (), "scores of another objective are not replayed"
    other_recipe = WarmStart(tmp_path / "old").load(CellSpace(), identity(train={"epochs": 4}), "same data")
    assert other_recipe.replay == (), "scores of another training recipe (or rung, or constraints) are not replayed"


def test_a_multi_objective_strategy_is_replayed_objective_vectors(tmp_path):
    folder, pareto = tmp_path / "old", Objective(metrics=("accuracy", "loss"))
    folder.mkdir()
    store = SQLiteStore(folder / "store.sqlite")
    store.set_meta("search", {"space": CellSpace().config(), "objective": pareto.config()})
    store.set_meta("data_digest", "same data")
    Run(CellSpace(), RandomSearch(), ConvShare(), store, objective=pareto, seed=5).optimize(Budget(trials=12))
    warm = WarmStart(folder, top=1).load(CellSpace(), identity(pareto), "same data")
    assert len(warm.replay) == 12
    strategy = NSGA2(population=4)
    run = Run(CellSpace(), strategy, ConvShare(), SQLiteStore(":memory:"), objective=pareto, seed=1, warm=warm)
    run.optimize(Budget(trials=8))  # it bred from replayed bare scores beside its own vectors, and crashed
    assert all(len(value) == 2 for value in strategy.told.values() if value is not None)


def test_a_resume_does_not_train_the_first_architectures_again(tmp_path):
    earlier_run(tmp_path / "old")
    warm = WarmStart(tmp_path / "old", top=3).load(CellSpace(), identity(), "other data")
    path = tmp_path / "new.sqlite"
    first = Run(CellSpace(), RandomSearch(), ConvShare(), SQLiteStore(path), seed=1, warm=warm)
    first.optimize(Budget(trials=2))
    first.store.close()
    resumed = Run(CellSpace(), RandomSearch(), ConvShare(), SQLiteStore(path), seed=1, warm=warm)
    resumed.optimize(Budget(trials=6))
    archs = [t.arch for t in resumed.trials]
    assert len(archs) == len(set(archs)) == 6
    assert archs[:3] == [CellSpace().to_string(a) for a in warm.first]


def test_search_records_where_it_started_from(tmp_path):
    images = nf.data.synthetic("image", n=160, classes=3, seed=0)
    common = {
        "data": images,
        "space": nf.CellSpace(stem_channels=4, stages=2, cells_per_stage=1),
        "strategy": "random",
        "trainer": nf.Trainer(epochs=1),
    }
    old = nf.search(**common, budget=nf.Budget(trials=4), run_dir=tmp_path / "old")
    new = nf.search(**common, budget=nf.Budget(trials=3), run_dir=tmp_path / "new", warm_start=tmp_path / "old")
    record = SQLiteStore(tmp_path / "new" / "store.sqlite").get_meta("warm_start")
    assert record["same_data"] and record["replayed"] == 4 and record["run"] == str(tmp_path / "old")
    assert new.trials[0].arch == old.best_trial.arch == record["first"][0]
    assert json.loads((tmp_path / "new" / "best.json").read_text())["trial"] in {t.id for t in new.trials}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"run": "x", "top": 0}, "warm_start.top: must be an integer >= 1, got 0"),
        ({"top": 3}, "warm_start: give a run directory, or {run: DIR, top: K}; got {'top': 3}"),
    ],
)
def test_bad_warm_starts_are_one_line(spec, message):
    with pytest.raises(ConfigError) as err:
        WarmStart.parse(spec)
    assert str(err.value) == message


def test_a_missing_run_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"^warm_start: .*nowhere: no nasforge run here \(store.sqlite is missing\)$"):
        WarmStart.parse(str(tmp_path / "nowhere")).load(CellSpace(), identity(), None)
