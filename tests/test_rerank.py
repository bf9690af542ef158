"""Re-ranking the leaders with more seeds, within the budget, and the winner's final seeds."""

from __future__ import annotations

import json
from collections.abc import Hashable

import numpy as np
import pytest

from nasforge.budget import Budget
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, Plan
from nasforge.exceptions import ConfigError
from nasforge.objective import Objective
from nasforge.rerank import Rerank, mean_scores, overhead, repeat_seed
from nasforge.run import Run
from nasforge.spaces import CellSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RandomSearch
from nasforge.trial import Trial, TrialState
from nasforge.winner import check_seeds, final_seeds, report_winner


class Noisy(Evaluator):
    """Accuracy = the share of 3x3 convolutions plus noise drawn from the seed: some leaders are lucky draws."""

    def __init__(self, step: float = 0.0, interrupt_at: int | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.deadlines: list[float | None] = []  # when each trial had to end (a time budget's plan)
        self.now, self.step, self.interrupt_at = 0.0, step, interrupt_at

    def clock(self) -> float:
        return self.now

    def evaluate(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Evaluation:
        self.calls.append((str(arch), seed))
        self.deadlines.append(self.now + plan.seconds if plan is not None and plan.seconds is not None else None)
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        self.now += self.step
        quality = arch.ops.count("nor_conv_3x3") / len(arch.ops)
        accuracy = quality + 0.3 * np.random.default_rng(seed).random()
        costs = {"train_seconds": self.step, "epochs_trained": 4.0, "params": 10.0}
        return Evaluation({"accuracy": accuracy, "loss": 1 - accuracy}, costs)

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.5 + 0.01 * (seed % 7)})


class Counting(RandomSearch):
    def __init__(self) -> None:
        super().__init__()
        self.told = 0

    def tell(self, arch: Hashable, score: object) -> None:
        self.told += 1
        super().tell(arch, score)


DEFAULT = Rerank()


def make_run(store: SQLiteStore, evaluator: Noisy, rerank: Rerank | None = DEFAULT, **kwargs) -> Run:
    return Run(CellSpace(), Counting(), evaluator, store, seed=3, rerank=rerank, clock=evaluator.clock, **kwargs)


def test_the_leaders_are_trained_again_within_the_trial_budget_and_never_told():
    evaluator = Noisy()
    run = make_run(SQLiteStore(":memory:"), evaluator)
    assert run.optimize(Budget(trials=100)) == "trials"
    trials = run.store.trials()
    repeats = [t for t in trials if t.repeat_of is not None]
    assert run.done == 100 and len(repeats) == 10, "90 searched, then 5 leaders x 2 repeats"
    assert run.strategy.told == 90
    leaders = Rerank().leaders(trials)
    assert {t.repeat_of for t in repeats} == {t.id for t in leaders}
    assert all(t.arch == next(x.arch for x in leaders if x.id == t.repeat_of) for t in repeats)
    assert sorted(t.seed for t in repeats) == sorted(repeat_seed(t.seed, k) for t in leaders for k in (1, 2))
    means = mean_scores(trials)
    best = max(means, key=lambda i: means[i][0])
    assert run.best_trial.id == best and len(means[best][1]) == 3
    assert [t.id for t in run.top(5)] == sorted(means, key=lambda i: -means[i][0])
    assert all(t.repeat_of is None for t in run.top())


def test_the_mean_overturns_a_lucky_leader():
    store = SQLiteStore(":memory:")
    space = CellSpace()
    rng = np.random.default_rng(0)
    lucky, steady, third = (space.to_string(space.sample(rng)) for _ in range(3))

    def finished(arch: str, score: float, repeat_of: int | None = None) -> Trial:
        trial = store.create_trial(arch, seed=len(store.trials()), repeat_of=repeat_of)
        return store.finish_trial(trial.id, score, {"accuracy": score}, {})

    a, b, _ = finished(lucky, 0.95), finished(steady, 0.93), finished(third, 0.90)
    run = make_run(store, Noisy())
    assert run.best_trial.id == a.id, "before re-ranking: the best single score"
    for arch, trial, scores in ((lucky, a, (0.80, 0.82)), (steady, b, (0.92, 0.94))):
        for score in scores:
            finished(arch, score, repeat_of=trial.id)
    assert [t.id for t in run.top()] == [b.id, a.id, 3], "by the mean over seeds, then the rest by their score"
    assert mean_scores(store.trials())[a.id] == (pytest.approx(0.8566666), [0.95, 0.80, 0.82], 0)


def test_equal_means_keep_the_search_s_order_whatever_their_rounding():
    store = SQLiteStore(":memory:")
    space = CellSpace()
    archs = [space.to_string(space.sample(np.random.default_rng(i))) for i in range(2)]

    def finished(arch: str, correct: int, repeat_of: int | None = None) -> Trial:
        trial = store.create_trial(arch, seed=len(store.trials()), repeat_of=repeat_of)
        return store.finish_trial(trial.id, correct / 360, {"accuracy": correct / 360}, {})

    first, second = finished(archs[0], 352), finished(archs[1], 340)
    for leader, repeats in ((first, (340, 340)), (second, (344, 348))):
        for correct in repeats:
            finished(leader.arch, correct, repeat_of=leader.id)
    means = mean_scores(store.trials())
    assert means[second.id].mean > means[first.id].mean, "the case: 1032/1080 both, the second a bit above"
    assert [t.id for t in make_run(store, Noisy()).top()] == [first.id, second.id], "a tie: the search's order"


def test_a_leader_with_failed_repeats_ranks_after_every_leader_without_one():
    store = SQLiteStore(":memory:")
    space = CellSpace()
    archs = [space.to_string(space.sample(np.random.default_rng(i))) for i in range(4)]

    def ended(arch: str, score: float | None, repeat_of: int | None = None) -> Trial:
        trial = store.create_trial(arch, seed=len(store.trials()), repeat_of=repeat_of)
        if score is None:
            return store.fail_trial(trial.id, "TrainingDiverged: loss is nan")
        return store.finish_trial(trial.id, score, {"accuracy": score}, {})

    steady, flaky, broken, rest = (ended(archs[i], score) for i, score in enumerate((0.93, 0.95, 0.96, 0.5)))
    for leader, scores in ((steady, (0.90, 0.92)), (flaky, (0.94, None)), (broken, (None, None))):
        for score in scores:
            ended(leader.arch, score, repeat_of=leader.id)
    run = make_run(store, Noisy())
    # a seed that failed to train counts as the worst result, as a failed trial does: the winner is retrained
    # with new seeds, and a failure of that first retraining is final
    assert [t.id for t in run.top()] == [steady.id, flaky.id, broken.id, rest.id]
    assert mean_scores(store.trials())[broken.id] == (0.96, [0.96], 2), "its one result, and its failures"
    assert mean_scores(store.trials())[flaky.id] == (pytest.approx(0.945), [0.95, 0.94], 1)


def test_auto_leaves_a_small_run_alone_and_an_explicit_count_does_not():
    small = make_run(SQLiteStore(":memory:"), Noisy())
    small.optimize(Budget(trials=40))
    assert small.done == 40 and not any(t.repeat_of for t in small.store.trials()), "10 repeats > 10% of 40"
    forced = make_run(SQLiteStore(":memory:"), Noisy(), rerank=Rerank(top=2, repeats=1, auto=False))
    forced.optimize(Budget(trials=40))
    assert sum(t.repeat_of is not None for t in forced.store.trials()) == 2 and forced.done == 40


def test_a_time_budget_leaves_the_repeats_their_time():
    evaluator = Noisy(step=7.0)
    run = make_run(SQLiteStore(":memory:"), evaluator)
    assert run.optimize(Budget(seconds=1000)) == "seconds"
    trials = run.store.trials()
    assert sum(t.repeat_of is not None for t in trials) == 10
    searched = [t for t in trials if t.repeat_of is None]
    assert max(t.elapsed for t in searched) <= 1000 - 70 + 7, "the search stopped 10 x 7 s before the end"
    assert max(t.elapsed for t in trials) <= 1000 + 7
    searched_until = evaluator.deadlines[: len(searched)]
    assert searched_until[:2] == [1000, 1000], "no estimate of a repeat's cost before two trials have finished"
    assert searched_until[2:5] == [1000 - 28, 1000 - 42, 1000 - 56], "2 repeats of each of the leaders so far"
    assert set(searched_until[5:]) == {1000 - 70}, "then a search trial may not run into the repeats' time"
    assert evaluator.deadlines[len(searched) :] == [pytest.approx(1000)] * 10


class Overhead(Noisy):
    """Every trial also takes ``extra`` seconds its training does not count (the driver's writes, callbacks)."""

    def __init__(self, step: float, extra: float) -> None:
        super().__init__(step)
        self.extra = extra

    def evaluate(self, arch: Hashable, seed: int, plan: Plan | None = None) -> Evaluation:
        self.now += self.extra
        return super().evaluate(arch, seed, plan)


def test_the_repeats_time_counts_what_a_trial_costs_beyond_its_training():
    evaluator = Overhead(step=7.0, extra=1.0)
    run = make_run(SQLiteStore(":memory:"), evaluator)
    assert run.optimize(Budget(seconds=1000)) == "seconds"
    trials = run.store.trials()
    repeats = [t for t in trials if t.repeat_of is not None]
    assert len(repeats) == 10 and max(t.elapsed for t in repeats) <= 1000, "kept 10 x 8 s, not 10 x 7 s"
    searched = [t for t in trials if t.repeat_of is None]
    assert max(t.elapsed for t in searched) > 1000 - 80 - 8, "and no more than that"
    # on two workers: 50 s of their time in 25 s, 40 of it training, over 4 trials
    assert overhead(40.0, 4, capacity=2, elapsed=25.0) == 2.5
    assert overhead(40.0, 4, capacity=1, elapsed=30.0) == 0.0, "never below nothing"
    assert overhead(0.0, 0, capacity=1, elapsed=30.0) == 0.0, "nothing ended yet"


def stored(store: SQLiteStore, arch: str, score: float, costs: dict, parent: int | None = None) -> Trial:
    trial = store.create_trial(arch, seed=len(store.trials()), parent=parent)
    return store.finish_trial(trial.id, score, {"accuracy": score}, costs)


def test_the_repeats_time_is_whole_waves_of_trainings_on_the_workers():
    store = SQLiteStore(":memory:")
    archs = [CellSpace().to_string(CellSpace().sample(np.random.default_rng(i))) for i in range(6)]
    for i, arch in enumerate(archs):
        stored(store, arch, 0.5 + 0.01 * i, {"train_seconds": 10.0, "epochs_trained": 4.0})
    budget = Budget(seconds=1000)
    reserved = {capacity: Rerank().reserve(store.trials(), budget, capacity).seconds for capacity in (1, 4, 16)}
    # ten repeats of 10 s: one after another, in three waves on four workers, all at once on sixteen
    assert reserved == {1: 100.0, 4: 30.0, 16: 10.0}


def test_under_a_scheduler_only_full_trainings_are_re_ranked_and_costed_as_such():
    store = SQLiteStore(":memory:")
    a, b, c = (CellSpace().to_string(CellSpace().sample(np.random.default_rng(i))) for i in range(3))
    short = {"epochs": 3.0, "epochs_trained": 3.0, "train_seconds": 3.0}
    parent_a = stored(store, a, 0.70, short)
    stored(store, c, 0.99, short)  # the best score, at a third of the training
    promoted = {"epochs": 9.0, "epochs_trained": 6.0, "train_seconds": 6.0}  # continued from its parent's 3 epochs
    full_a = stored(store, a, 0.80, promoted, parent=parent_a.id)
    full_b = stored(store, b, 0.75, {"epochs": 9.0, "epochs_trained": 9.0, "train_seconds": 9.0})
    rerank = Rerank(top=5, repeats=1, auto=False)
    assert [t.id for t in rerank.leaders(store.trials())] == [full_a.id, full_b.id]  # a once, at 9 epochs
    reserve = rerank.reserve(store.trials(), Budget(seconds=1000, epochs=1000), 1)
    assert (reserve.trials, reserve.seconds, reserve.epochs) == (2, 18.0, 18.0)  # two 9-epoch trainings


def test_a_resume_in_the_middle_of_the_repeats_finishes_them_once(tmp_path):
    path = tmp_path / "store.sqlite"
    first = make_run(SQLiteStore(path), Noisy(interrupt_at=95))
    with pytest.raises(KeyboardInterrupt):
        first.optimize(Budget(trials=100))
    assert sum(t.repeat_of is not None and t.state.is_done for t in first.store.trials()) == 4
    first.store.close()
    resumed = make_run(SQLiteStore(path), Noisy())
    resumed.optimize(Budget(trials=100))
    done = resumed.store.trials(states=(TrialState.FINISHED,))
    repeats = [(t.repeat_of, t.seed) for t in done if t.repeat_of is not None]
    assert len(repeats) == len(set(repeats)) == 10 and resumed.done == 100


def test_several_objectives_are_not_re_ranked():
    objective = Objective(metrics=("accuracy", "params"), directions=("max", "min"))
    run = make_run(SQLiteStore(":memory:"), Noisy(), objective=objective)
    run.optimize(Budget(trials=100))
    assert not any(t.repeat_of for t in run.store.trials())


def test_final_seeds_report_the_mean_and_each_seed(tmp_path):
    run = make_run(SQLiteStore(":memory:"), Noisy(), rerank=None)
    run.optimize(Budget(trials=12))
    best = report_winner(run, tmp_path, seeds=3)
    assert len(best.test_seeds) == 3
    assert best.test["accuracy"] == pytest.approx(np.mean([s["accuracy"] for s in best.test_seeds]))
    payload = json.loads((tmp_path / "best.json").read_text())
    assert payload["test_seeds"] == best.test_seeds and payload["test_std"]["accuracy"] > 0
    assert "rerank" not in payload
    single = report_winner(run, None, seeds=1)
    assert single.test == best.test_seeds[0] and not single.test_seeds, "the first seed is the exported model's"


def test_auto_final_seeds_fit_the_search_time():
    trial = Trial(1, "a", TrialState.FINISHED, 0, costs={"train_seconds": 1.0})
    assert final_seeds("auto", trial, search_seconds=300) == 3
    assert final_seeds("auto", trial, search_seconds=20) == 1
    assert final_seeds("auto", Trial(1, "a", TrialState.FINISHED, 0), search_seconds=300) == 1, "a table: no time"
    assert final_seeds(5, trial, search_seconds=1) == 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Rerank.parse(-1), "final.rerank: must be 'auto', 0 or an integer >= 2, got -1"),
        (lambda: Rerank.parse("some"), "final.rerank: must be 'auto', 0 or an integer >= 2, got 'some'"),
        (lambda: Rerank.parse(1), "final.rerank: must be 'auto', 0 or an integer >= 2, got 1"),
        (lambda: Rerank.parse(3, repeats=0), "final.repeats: must be an integer >= 1, got 0"),
        (lambda: check_seeds(0), "final.seeds: must be 'auto' or an integer >= 1, got 0"),
    ],
)
def test_bad_values_are_one_line(call, message):
    with pytest.raises(ConfigError) as err:
        call()
    assert str(err.value) == message


def test_parse():
    assert Rerank.parse(0) is None
    assert Rerank.parse(3, repeats=4) == Rerank(top=3, repeats=4, auto=False)
