"""Resume replays the stored results into the strategy in the order the live run told them (the order they ended),
not the order they started: with several workers the two differ, and an aging population is the last N told."""

from __future__ import annotations

from collections.abc import Hashable
from concurrent.futures import Future
from typing import Any

from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, Plan
from nasforge.executors import LocalExecutor
from nasforge.fidelity import Hyperband
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RegularizedEvolution
from nasforge.trial import end_order


class NewestFirst(LocalExecutor):
    """``capacity`` trials in flight, the newest evaluated and done when the runner waits: trials end out of the
    order they started, deterministically (a slow early trial on a parallel worker)."""

    def __init__(self, capacity: int = 3) -> None:
        self.capacity, self.queue = capacity, []

    def submit(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Future:
        future: Future = Future()
        self.queue.append((future, arch, seed, plan))
        return future

    def wait_any(self, futures: Any) -> set[Future]:
        future, *job = self.queue.pop()
        done = super().submit(*job)
        if done.exception() is None:
            future.set_result(done.result())
        else:
            future.set_exception(done.exception())
        return {future}


class ConvShare(Evaluator):
    """Accuracy = share of 3x3 convolutions; an avg_pool on edge 0->1 fails the trial."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        if arch.ops[0] == "avg_pool_3x3":
            raise RuntimeError("simulated crash inside training")
        return Evaluation({"accuracy": arch.ops.count("nor_conv_3x3") / len(arch.ops)}, {})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


class Epochs(ConvShare):
    """Trains to the scheduler's rung: the accuracy grows with the epochs."""

    def evaluate(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Evaluation:
        until = plan.until if plan is not None and plan.until else 9
        evaluation = super().evaluate(arch, seed)
        accuracy = evaluation.metrics["accuracy"] * until / 9
        return Evaluation({"accuracy": accuracy}, {"epochs": float(until), "epochs_trained": float(until)})


class Recording(RegularizedEvolution):
    """Aging evolution that notes every architecture it is told, in order."""

    def setup(self) -> None:
        super().setup()
        self.told: list[Hashable] = []

    def tell(self, arch: Hashable, score: float | None) -> None:
        super().tell(arch, score)
        self.told.append(arch)


def run(store: SQLiteStore, strategy: Recording) -> Run:
    return Run(CellSpace(), strategy, ConvShare(), store, seed=5, executor=NewestFirst())


def test_a_resumed_run_tells_its_strategy_the_results_in_the_order_the_live_run_did(tmp_path):
    path = tmp_path / "store.sqlite"
    live = Recording(population=4, sample=2)
    run(SQLiteStore(path), live).optimize(Budget(trials=12))
    started = [CellSpace().from_string(t.arch) for t in SQLiteStore(path).trials()]
    assert live.told != started, "the trials must end out of the order they started"

    resumed = Recording(population=4, sample=2)
    run(SQLiteStore(path), resumed)
    assert resumed.told == live.told
    assert list(resumed.members) == list(live.members), "the population the live run ended with"


def test_trials_record_the_order_they_ended_in(tmp_path):
    store = SQLiteStore(tmp_path / "store.sqlite")
    a, _, c = (store.create_trial(name, seed=0) for name in "abc")
    store.finish_trial(c.id, 0.5, {}, {})
    store.fail_trial(a.id, "boom")
    assert store.interrupt_running() == 1
    assert [(t.arch, t.ended) for t in store.trials()] == [("a", 2), ("b", None), ("c", 1)]


def brackets(scheduler: Hyperband) -> list[tuple]:
    """What a Hyperband scheduler holds: each bracket's shape, the trials ended at each rung, those promoted."""
    return [
        (b.start, b.n, b.admitted, {k: sorted(t.id for t in ended) for k, ended in b.ended.items()}, b.promoted)
        for b in scheduler._brackets
    ]


def test_a_resumed_scheduler_holds_the_brackets_the_live_one_did_and_the_strategy_its_population(tmp_path):
    path = tmp_path / "store.sqlite"

    def open_run(strategy: Recording, scheduler: Hyperband) -> Run:
        return Run(
            CellSpace(), strategy, Epochs(), SQLiteStore(path), seed=5, executor=NewestFirst(), scheduler=scheduler
        )

    live, live_scheduler = Recording(population=4, sample=2), Hyperband(9, eta=3)
    open_run(live, live_scheduler).optimize(Budget(trials=30))
    trials = SQLiteStore(path).trials()
    assert any(t.parent is not None for t in trials), "promotions were made"
    assert sorted(trials, key=end_order) != trials, "trials ended out of the order they started"
    resumed, resumed_scheduler = Recording(population=4, sample=2), Hyperband(9, eta=3)
    open_run(resumed, resumed_scheduler)
    assert brackets(resumed_scheduler) == brackets(live_scheduler)
    assert resumed_scheduler.promotion() == live_scheduler.promotion()
    assert resumed.told == live.told and list(resumed.members) == list(live.members)


def test_a_warm_start_replays_the_earlier_results_in_the_order_that_run_told_them(tmp_path):
    from nasforge.objective import Objective
    from nasforge.warm import WarmStart

    (tmp_path / "old").mkdir()
    store = SQLiteStore(tmp_path / "old" / "store.sqlite")
    search = {"space": CellSpace().config(), "objective": Objective().config()}
    store.set_meta("search", search)
    store.set_meta("data_digest", "same data")
    live = Recording(population=4, sample=2)
    run(store, live).optimize(Budget(trials=12))
    warm = WarmStart(tmp_path / "old").load(CellSpace(), {**search, "strategy": {"name": "local"}}, "same data")
    assert [arch for arch, _ in warm.replay] == live.told
