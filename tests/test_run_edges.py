"""The runner's edges: NaN costs in the ranking, trials in flight at the budget's end, re-ranking's leaders,
the winner's final seeds and the budget's own checks."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Hashable
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, Plan
from nasforge.exceptions import ConfigError, Infeasible, TrainingDiverged
from nasforge.executors import Executor
from nasforge.rerank import Rerank
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RandomSearch
from nasforge.trial import Trial, TrialState, rank_key
from nasforge.winner import final_seed, final_seeds, report_winner

NAN = math.nan


def finished(id_: int, epochs: float, flops: float, score: float = 0.9) -> Trial:
    return Trial(id_, f"a{id_}", TrialState.FINISHED, 0, score, {"loss": 0.1}, {"epochs": epochs, "flops": flops})


def test_a_nan_epochs_or_flops_cost_ranks_as_unknown_in_any_input_order():
    trials = [finished(1, NAN, 1e3), finished(2, 9.0, NAN), finished(3, 9.0, 1e6), finished(4, 3.0, 1e2)]
    # 9 epochs first, the measured FLOPs before the unknown; then 3 epochs; unknown epochs count as none
    for order in itertools.permutations(trials):
        assert [t.id for t in sorted(order, key=rank_key)] == [3, 2, 4, 1]


def test_a_nan_epochs_cost_does_not_empty_the_leaders():
    trials = [finished(1, NAN, 1e3, score=0.99), finished(2, 9.0, 1e3, score=0.8), finished(3, 9.0, 1e3, score=0.7)]
    assert [t.id for t in Rerank(top=2).leaders(trials)] == [2, 3]


class InOrder(Executor):
    """Parallel workers made deterministic: ``capacity`` trials in flight, the oldest evaluated and done when the
    runner waits."""

    def __init__(self, capacity: int = 2) -> None:
        self.capacity = capacity

    def start(self, evaluator: Evaluator) -> None:
        self.evaluator, self.queue = evaluator, []

    def submit(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Future:
        future: Future = Future()
        self.queue.append((future, arch, seed))
        return future

    def wait_any(self, futures: Any) -> set[Future]:
        future, arch, seed = self.queue.pop(0)
        try:
            future.set_result(self.evaluator.evaluate(arch, seed))
        except Exception as exc:
            future.set_exception(exc)
        return {future}


class RejectsSome(Evaluator):
    """Accuracy 0.5; the evaluations numbered in ``rejected`` (from 1) break a constraint."""

    def __init__(self, rejected: set[int]) -> None:
        self.rejected, self.calls = rejected, 0

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        self.calls += 1
        if self.calls in self.rejected:
            raise Infeasible("params: 9 > 5", {"params": 9.0})
        return Evaluation({"accuracy": 0.5}, {"params": 1.0})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5})


def test_a_trial_in_flight_at_the_trial_limit_that_is_rejected_is_replaced():
    # trials 4 and 5 are in flight when 4 + 1 reach the limit; the 5th is rejected, so it does not count
    run = Run(CellSpace(), RandomSearch(), RejectsSome({5}), SQLiteStore(":memory:"), executor=InOrder())
    assert run.optimize(Budget(trials=5)) == "trials"
    assert run.done == 5 and [t.state for t in run.trials].count(TrialState.REJECTED) == 1


def test_a_resume_counts_the_rejections_in_a_row_the_run_stopped_in(monkeypatch):
    monkeypatch.setattr("nasforge.run.MAX_REJECTED_IN_A_ROW", 5)
    store, space = SQLiteStore(":memory:"), CellSpace()
    # a run that stopped (a crash, Ctrl-C) after 4 rejections in a row, with a trial the time budget cut among them
    for state in [TrialState.REJECTED] * 2 + [TrialState.INTERRUPTED] + [TrialState.REJECTED] * 2:
        trial = store.create_trial(space.to_string(space.sample(np.random.default_rng(len(store.trials())))), 0)
        store.fail_trial(trial.id, "params: 9 > 5", state=state)
    rejects = RejectsSome(set(range(1, 100)))
    assert Run(space, RandomSearch(), rejects, store).optimize(Budget(trials=3)) == "infeasible"
    assert rejects.calls == 1, "the fifth in a row"
    assert Run(space, RandomSearch(), rejects, store).optimize(Budget(trials=3)) == "infeasible"
    assert rejects.calls == 1, "a resume of a search that stopped as infeasible trains nothing more"


def test_auto_final_seeds_cost_a_promoted_winner_from_scratch():
    # a promotion trained 3 of its 9 epochs (1 s) on its parent's checkpoint: a retraining takes all 9 (3 s)
    promoted = Trial(2, "a", TrialState.FINISHED, 0, costs={"epochs": 9.0, "epochs_trained": 3.0, "train_seconds": 1.0})
    assert final_seeds("auto", promoted, search_seconds=100) == 1, "3 x 3 s x 4/3 = 12 s > 10% of 100 s"
    assert final_seeds("auto", promoted, search_seconds=120) == 3


def test_leaders_without_a_known_epoch_count_reserve_a_finite_time():
    store = SQLiteStore(":memory:")
    for i in range(3):  # a NaN epochs cost is stored as null, read back as NaN
        trial = store.create_trial(f"a{i}", seed=i)
        store.finish_trial(
            trial.id, 0.5 + i / 10, {"accuracy": 0.5}, {"epochs": NAN, "epochs_trained": 4.0, "train_seconds": 10.0}
        )
    reserve = Rerank(top=2, repeats=1, auto=False).reserve(store.trials(), Budget(seconds=1000), capacity=1)
    assert reserve is not None and reserve.seconds == 20.0, "else the search would never see its time spent"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": 2.5}, "budget.trials: must be an integer >= 1, got 2.5"),
        ({"trials": "5"}, "budget.trials: must be an integer >= 1, got '5'"),
        ({"epochs": 2.5}, "budget.epochs: must be an integer >= 1, got 2.5"),
        ({"seconds": "300"}, "budget.seconds: must be a finite number > 0, got '300'"),
        ({"seconds": True}, "budget.seconds: must be a finite number > 0, got True"),
        ({"max_failures": "3"}, r"budget.max_failures: a count >= 1 or a fraction in \(0, 1\), got '3'"),
    ],
)
def test_a_budget_from_python_takes_numbers_of_the_right_kind(kwargs, message):
    with pytest.raises(ConfigError, match=f"^{message}$"):
        Budget(**kwargs)
    assert Budget(trials=np.int64(5), epochs=np.int64(9), seconds=np.float32(2.5)).trials == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"front": 2.5}, "final.front: must be an integer >= 1, got 2.5"),  # sliced by it after the search
        ({"front": "3"}, "final.front: must be an integer >= 1, got '3'"),
        ({"report_every": -1}, "report.every: must be an integer >= 0, got -1"),
    ],
)
def test_search_refuses_a_bad_final_front_or_report_interval_before_searching(kwargs, message):
    import nasforge as nf

    data = nf.data.synthetic("image", n=60, classes=3, seed=0)
    with pytest.raises(ConfigError, match=f"^{message}$"):
        nf.search(data=data, strategy="random", budget=Budget(trials=1), **kwargs)


class CountingReads(SQLiteStore):
    """A store that counts how often every trial is read back."""

    reads = 0

    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[Trial]:
        self.reads += 1
        return super().trials(states)


def test_keeping_room_for_the_repeats_does_not_read_the_whole_store_for_every_trial():
    # it did: 1500 trials with 20-epoch curves took 250 s instead of 3 s under the default rerank: auto
    store = CountingReads(":memory:")
    run = Run(CellSpace(), RandomSearch(), RejectsSome(set()), store, rerank=Rerank(top=2, repeats=1, auto=False))
    store.reads = 0
    assert run.optimize(Budget(trials=30)) == "trials"
    assert run.done == 30 and sum(t.repeat_of is not None for t in run.trials) == 2
    assert store.reads < 10


def test_best_json_lists_the_re_ranked_leaders_in_the_order_that_chose_the_winner(tmp_path):
    store = SQLiteStore(":memory:")
    space = CellSpace()
    a, b = (space.to_string(space.sample(np.random.default_rng(i))) for i in range(2))

    def stored(arch: str, score: float, repeat_of: int | None = None) -> Trial:
        trial = store.create_trial(arch, seed=len(store.trials()), repeat_of=repeat_of)
        return store.finish_trial(trial.id, score, {"accuracy": score}, {})

    first, second = stored(a, 0.95), stored(b, 0.96)
    stored(a, 0.96, repeat_of=first.id)  # a's repeat is stored first
    stored(b, 0.95, repeat_of=second.id)  # the same mean, 0.955: b's own score breaks the tie, as in run.top()
    run = Run(space, RandomSearch(), RejectsSome(set()), store)
    best = report_winner(run, tmp_path, seeds=1)
    payload = json.loads((tmp_path / "best.json").read_text())
    assert best.trial.id == second.id == payload["trial"]
    assert [row["trial"] for row in payload["rerank"]] == [second.id, first.id]


class DivergesOnSeed(RejectsSome):
    """Retrains to accuracy 0.5, except with ``seed``, where the retraining diverges."""

    def __init__(self, seed: int) -> None:
        super().__init__(set())
        self.diverging = seed

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        if seed == self.diverging:
            raise TrainingDiverged("training diverged at epoch 3: loss is nan")
        return FinalReport({"accuracy": 0.5})


def test_an_extra_final_retraining_that_fails_leaves_the_winner_and_its_export(tmp_path):
    run = Run(CellSpace(), RandomSearch(), RejectsSome(set()), SQLiteStore(":memory:"))
    run.optimize(Budget(trials=2))
    winner = run.best_trial
    run.evaluator = DivergesOnSeed(final_seed(run, winner, 1))  # the second of three retrainings diverges
    with pytest.warns(RuntimeWarning, match=r"^final\.seeds: retraining 2 of 3 failed \(TrainingDiverged"):
        best = report_winner(run, tmp_path, seeds=3)
    payload = json.loads((tmp_path / "best.json").read_text())
    assert best.test == {"accuracy": 0.5} and len(best.test_seeds) == 2
    assert payload["test_failed_seeds"] == [
        {"seed": final_seed(run, winner, 1), "error": "TrainingDiverged: training diverged at epoch 3: loss is nan"}
    ]
    run.evaluator = DivergesOnSeed(final_seed(run, winner, 0))  # the exported model's own retraining: no winner
    with pytest.raises(TrainingDiverged):
        report_winner(run, tmp_path, seeds=3)
