"""Stopping rules against hand-computed cases, and pruned trials through the runner, the store and workers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import nasforge as nf
from nasforge.api import make_strategy, search
from nasforge.config import parse_config
from nasforge.data import split, synthetic
from nasforge.evaluators import Plan, TrainEvaluator
from nasforge.exceptions import ConfigError
from nasforge.executors import DaskExecutor
from nasforge.fidelity import (
    Asha,
    CheckpointShelf,
    Hyperband,
    MedianStopper,
    PatienceStopper,
    SuccessiveHalving,
    ThresholdStopper,
    rung_epochs,
)
from nasforge.objective import Objective
from nasforge.run import Run
from nasforge.spaces import ChainSpace
from nasforge.store import SQLiteStore
from nasforge.trial import Trial, TrialState

DATA = synthetic("image", n=240, classes=3, shape=(1, 8, 8), seed=0)


def trial(id: int, values: list[float], state: TrialState = TrialState.FINISHED, metric: str = "accuracy") -> Trial:
    curve = tuple({"epoch": e, metric: v} for e, v in enumerate(values, start=1))
    return Trial(id=id, arch="a", state=state, seed=0, curve=curve)


def run_rule(rule, values: list[float], metric: str = "accuracy") -> tuple[int, str] | None:
    """(epoch, reason) of the first stop, or None when the trial runs to its end."""
    for epoch, value in enumerate(values, start=1):
        reason = rule(epoch, {"epoch": epoch, metric: value})
        if reason:
            return epoch, reason
    return None


def test_the_median_rule_on_a_hand_computed_case():
    stopper = MedianStopper(warmup_epochs=2, min_trials=3)
    for i, values in enumerate(([0.5, 0.6, 0.7], [0.4, 0.8, 0.6], [0.3, 0.5, 0.9]), start=1):
        stopper.observe(trial(i, values))
    stopper.observe(trial(4, [0.0, 0.0], TrialState.PRUNED))  # pruned trials do not move the median
    # best so far per epoch: (0.5, 0.6, 0.7), (0.4, 0.8, 0.8), (0.3, 0.5, 0.9): medians 0.6 at 2, 0.8 at 3
    assert stopper.rule().thresholds == {2: (0.6, 3), 3: (0.8, 3)}
    epoch, reason = run_rule(stopper.rule(), [0.1, 0.55, 0.99])
    assert epoch == 2 and "0.55 is worse than the median 0.6 of 3 earlier trials" in reason
    epoch, _ = run_rule(stopper.rule(), [0.7, 0.5, 0.79])  # its best, 0.7, carries epoch 2; 0.79 < 0.8 at 3
    assert epoch == 3
    assert run_rule(stopper.rule(), [0.1, 0.6, 0.8]) is None  # equal to the median is not worse


def test_the_median_rule_needs_min_trials_and_minimises_a_loss():
    stopper = MedianStopper(Objective("loss"), warmup_epochs=1, min_trials=2)
    stopper.observe(trial(1, [1.0, 0.5], metric="loss"))
    assert run_rule(stopper.rule(), [9.0, 9.0], "loss") is None  # one earlier trial: no median yet
    stopper.observe(trial(2, [2.0, 0.7], metric="loss"))
    assert stopper.rule().thresholds == {1: (1.5, 2), 2: (0.6, 2)}
    assert run_rule(stopper.rule(), [1.4, 0.61], "loss")[0] == 2
    assert run_rule(stopper.rule(), [1.6, 0.1], "loss")[0] == 1


def test_patience_and_threshold_rules():
    patience = PatienceStopper(warmup_epochs=1, patience=2)
    assert run_rule(patience.rule(), [0.5, 0.6, 0.61, 0.7]) is None
    epoch, reason = run_rule(patience.rule(), [0.5, 0.6, 0.6, 0.59, 0.9])
    assert epoch == 4 and "has not improved on 0.6 for 2 epochs" in reason
    threshold = ThresholdStopper(warmup_epochs=2, threshold=0.3)
    assert run_rule(threshold.rule(), [0.1, 0.25])[0] == 2  # not at epoch 1: the warm-up
    assert run_rule(threshold.rule(), [0.1, 0.3, 0.3]) is None
    assert run_rule(ThresholdStopper(Objective("loss"), 1, threshold=2.0).rule(), [2.5], "loss")[0] == 1


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"stopper": "mean"}, "fidelity.stopper: must be one of 'none', 'median', 'patience' or 'threshold'"),
        ({"stopper": "median", "patience": 3}, "fidelity: patience does not apply to stopper median"),
        ({"patience": 3}, "fidelity: patience apply only with a stopper"),
        ({"stopper": "threshold"}, "fidelity: threshold: needs a finite number"),
        ({"stopper": "median", "warmup_epochs": 0}, "fidelity.warmup_epochs: must be >= 1"),
        ({"scheduler": "asha", "stopper": "median"}, "fidelity: give a stopper or a scheduler, not both"),
        ({"scheduler": "asha", "patience": 2}, "fidelity: patience does not apply to scheduler asha"),
        ({"scheduler": "bohb"}, "fidelity.scheduler: must be one of 'none', 'asha', 'successive_halving' or"),
        ({"scheduler": "asha", "eta": 1}, "fidelity.eta: must be >= 2"),
        ({"stopper": "median", "min_epochs": 2}, "fidelity: min_epochs apply only with a scheduler (asha, "),
        ({"eta": 2, "max_epochs": 16}, "fidelity: eta, max_epochs apply only with a scheduler (asha, "),
    ],
)
def test_bad_fidelity_blocks_are_one_line(block, message):
    with pytest.raises(ConfigError) as info:
        parse_config({"data": {"builtin": "digits"}, "fidelity": block})
    assert str(info.value).startswith(message)
    assert parse_config({"data": {"builtin": "digits"}}).fidelity.spec() is None


def test_a_search_with_the_median_rule_prunes_trials_records_them_and_tells_the_strategy(tmp_path):
    fidelity = {"stopper": "median", "warmup_epochs": 1, "min_trials": 2}
    run = search(
        data=DATA,
        trainer=nf.Trainer(epochs=4),
        strategy="random",
        budget=nf.Budget(trials=10),
        fidelity=fidelity,
        run_dir=tmp_path,
    )
    trials = run.trials
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned and len(trials) == 10 and run.done == 10  # pruned trials count against the budget
    for t in pruned:
        assert len(t.curve) == t.costs["epochs"] < 4 and t.error.startswith("stopped at epoch")
        assert t.metrics["accuracy"] == t.curve[-1]["accuracy"] and t.score is not None
    assert all(len(t.curve) == 4 for t in trials if t.state is TrialState.FINISHED)
    assert run.best.trial.state is TrialState.FINISHED  # a pruned trial never wins
    assert len(run.strategy.history) == 10  # every result, pruned ones included, was told
    assert (tmp_path / "curves.png").stat().st_size > 0

    resumed = search(
        data=DATA,
        trainer=nf.Trainer(epochs=4),
        strategy="random",
        budget=nf.Budget(trials=12),
        fidelity=fidelity,
        run_dir=tmp_path,
    )
    assert resumed.trials[:10] == trials and len(resumed.trials) == 12


def test_the_rule_travels_with_the_trial_to_worker_processes():
    splits = split(DATA, seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=3))
    executor = DaskExecutor(workers=2, timeout=60)
    never_good_enough = ThresholdStopper(warmup_epochs=2, threshold=1.01)
    run = Run(
        space, make_strategy("random"), evaluator, SQLiteStore(":memory:"), executor=executor, stopper=never_good_enough
    )
    try:
        run.optimize(nf.Budget(trials=4))
    finally:
        executor.shutdown()
    assert [t.state for t in run.trials] == [TrialState.PRUNED] * 4
    assert all(len(t.curve) == 2 and "worse than 1.01" in t.error for t in run.trials)


def test_no_rule_stops_a_training_at_its_last_epoch():
    """Stopping after the last epoch saves nothing; the complete training stays finished (and may win)."""
    splits = split(DATA, seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=3))
    never_good_enough = ThresholdStopper(warmup_epochs=3, threshold=1.01).rule()
    arch = space.sample(np.random.default_rng(0))
    result = evaluator.evaluate(arch, seed=0, plan=Plan(rule=never_good_enough))
    assert result.pruned is None and len(result.curve) == 3
    rule = ThresholdStopper(warmup_epochs=1, threshold=1.01).rule()
    shortened = evaluator.evaluate(arch, seed=0, plan=Plan(rule=rule, until=2))
    assert len(shortened.curve) == 1 and shortened.pruned  # before its last epoch, the rule still stops it


def rung_trial(id: int, epochs: int, score: float, parent: int | None = None) -> Trial:
    state = TrialState.FINISHED
    return Trial(id=id, arch="a", state=state, seed=0, score=score, costs={"epochs": epochs}, parent=parent)


def test_rungs():
    assert rung_epochs(1, 16, 3) == [1, 3, 9, 16] and rung_epochs(1, 9, 3) == [1, 3, 9]
    assert rung_epochs(2, 8, 2) == [2, 4, 8] and Asha(max_epochs=8, min_epochs=3, eta=3).rungs == [3, 8]
    with pytest.raises(ConfigError, match=r"fidelity\.min_epochs: must be below train\.epochs \(8\), got 8"):
        Asha(max_epochs=8, min_epochs=8)


def test_the_default_first_rung_is_a_quarter_of_the_training_and_max_epochs_sets_its_length():
    from nasforge.api import components_from_config
    from nasforge.fidelity import make_fidelity

    def scheduler_of(fidelity: dict, train: dict | None = None):
        parts = components_from_config(
            parse_config({"data": {"builtin": "digits"}, "fidelity": fidelity} | ({"train": train} if train else {}))
        )
        return parts["trainer"].epochs, make_fidelity(parts["fidelity"], None, parts["trainer"].epochs)[1].rungs

    assert scheduler_of({"scheduler": "asha"}) == (8, [2, 6, 8])  # the default 8 epochs
    assert scheduler_of({"scheduler": "asha", "max_epochs": 16, "min_epochs": 1}) == (16, [1, 3, 9, 16])
    assert scheduler_of({"scheduler": "hyperband"}, {"epochs": 3}) == (3, [1, 3])
    with pytest.raises(ConfigError, match=r"^fidelity\.max_epochs: 16 differs from train\.epochs \(8\)"):
        parse_config(
            {"data": {"builtin": "digits"}, "fidelity": {"scheduler": "asha", "max_epochs": 16}, "train": {"epochs": 8}}
        )


def test_asha_promotes_the_top_third_of_each_rung_highest_rung_first():
    asha = Asha(max_epochs=9, min_epochs=1, eta=3)
    for t in (rung_trial(1, 1, 0.5), rung_trial(2, 1, 0.9)):
        asha.observe(t)
    assert asha.promotion() is None  # 2 results: the top third of 2 is nobody
    asha.observe(rung_trial(3, 1, 0.7))
    parent, epochs = asha.promotion()
    assert (parent.id, epochs) == (2, 3)
    asha.started(Trial(id=7, arch="a", state=TrialState.RUNNING, seed=0, parent=2))
    assert asha.promotion() is None  # trial 2 is taken; the top third of 3 holds nobody else
    for t in (rung_trial(4, 1, 0.95), rung_trial(5, 1, 0.1), rung_trial(6, 1, 0.2)):
        asha.observe(t)
    assert asha.promotion()[0].id == 4  # 6 results: the top two are 4 and 2, and 2 is promoted already
    asha.started(Trial(id=8, arch="a", state=TrialState.RUNNING, seed=0, parent=4))
    for t in (rung_trial(7, 3, 0.8, parent=2), rung_trial(8, 3, 0.85, parent=4), rung_trial(9, 3, 0.6, parent=1)):
        asha.observe(t)
    assert [(t.id, e) for t, e in [asha.promotion()]] == [(8, 9)]  # the higher rung goes first


def test_with_several_objectives_asha_promotes_by_pareto_front_then_crowding():
    objective = Objective(metrics=("accuracy", "params"))
    asha = Asha(max_epochs=9, min_epochs=1, eta=3, objective=objective)
    rung = [(0.9, 9000), (0.8, 1000), (0.7, 500), (0.85, 5000), (0.6, 2000), (0.75, 3000)]
    for i, (accuracy, params) in enumerate(rung, start=1):
        t = Trial(id=i, arch="a", state=TrialState.FINISHED, seed=0, score=accuracy, metrics={"accuracy": accuracy})
        asha.observe(replace(t, costs={"epochs": 1, "params": params}))
    # front 1: trials 1-4 (5 and 6 are beaten by 2); crowding: 1 and 3 are the ends (infinite), then
    # 4 (0.1/0.2 + 8000/8500 = 1.44) before 2 (0.15/0.2 + 4500/8500 = 1.28); front 2: 5 and 6, both ends
    assert [t.id for t in asha.ranked(asha._finished[0])] == [1, 3, 4, 2, 5, 6]
    first, _ = asha.promotion()
    asha.started(Trial(id=7, arch="a", state=TrialState.RUNNING, seed=0, parent=first.id))
    second, _ = asha.promotion()
    assert (first.id, second.id) == (1, 3)  # the top third of 6: the front's two ends, not the two most accurate
    single = Asha(max_epochs=9, min_epochs=1, eta=3)
    for t in asha._finished[0]:
        single.observe(t)
    assert [t.id for t in single.ranked(single._finished[0])][:2] == [1, 4]


def test_a_pareto_search_runs_under_asha_and_stores_every_objective(tmp_path):
    objective = Objective(metrics=("accuracy", "params"))
    fidelity = {"scheduler": "asha", "min_epochs": 1, "eta": 3}
    run = search(
        data=DATA,
        trainer=nf.Trainer(epochs=3),
        strategy="nsga2",
        fidelity=fidelity,
        objective=objective,
        budget=nf.Budget(trials=10),
        run_dir=tmp_path,
    )
    assert any(t.parent is not None for t in run.trials)
    assert all(t.score == t.metrics["accuracy"] and t.costs["params"] > 0 for t in run.trials)
    assert run.scheduler.objective == objective
    for t in run.trials:  # NSGA-II learns each new architecture's objective vector
        if t.parent is None:
            assert run.strategy.told[run.space.from_string(t.arch)] == (t.metrics["accuracy"], -t.costs["params"])


def test_a_search_under_asha_promotes_continues_and_ranks_by_the_deepest_rung(tmp_path):
    trainer = nf.Trainer(epochs=9)
    fidelity = {"scheduler": "asha", "min_epochs": 1, "eta": 3}
    common = {"data": DATA, "trainer": trainer, "strategy": "random", "fidelity": fidelity, "run_dir": tmp_path}
    run = search(budget=nf.Budget(trials=16), **common)
    trials = {t.id: t for t in run.trials}
    assert {t.costs["epochs"] for t in trials.values()} == {1, 3, 9}
    children = [t for t in trials.values() if t.parent is not None]
    assert children and len({t.parent for t in children}) == len(children)  # no trial promoted twice
    for child in children:
        parent = trials[child.parent]
        assert child.arch == parent.arch and child.seed == parent.seed
        assert [p["epoch"] for p in child.curve] == list(range(1, int(child.costs["epochs"]) + 1))
        assert child.curve[: len(parent.curve)] == parent.curve  # the same training, continued
    deepest = max(children, key=lambda t: t.costs["epochs"])
    splits = split(DATA, seed=0)
    evaluator = TrainEvaluator(ChainSpace(input_shape=splits.input_shape), splits, trainer)
    straight = evaluator.evaluate(deepest.arch, deepest.seed, Plan(until=int(deepest.costs["epochs"])))
    assert straight.metrics == pytest.approx(deepest.metrics)  # continuing from checkpoints changed nothing
    assert run.best.trial.costs["epochs"] == 9
    assert len(run.strategy.history) == sum(t.parent is None for t in trials.values())  # only first-rung results

    resumed = search(budget=nf.Budget(trials=24), **common)
    again = [t for t in resumed.trials if t.parent is not None]
    assert len({t.parent for t in again}) == len(again)  # a resume decides no rung twice
    assert resumed.trials[:16] == list(trials.values())  # nothing finished was touched


def test_an_epochs_budget_counts_the_epochs_each_trial_trained(tmp_path):
    common = {"data": DATA, "trainer": nf.Trainer(epochs=9), "strategy": "random"}
    fidelity = {"scheduler": "asha", "min_epochs": 1, "eta": 3}
    trials = search(budget=nf.Budget(epochs=40), fidelity=fidelity, **common).trials
    by_id = {t.id: t for t in trials}
    for t in trials:  # a promotion continued from its parent's checkpoint trains only the epochs it adds
        start = by_id[t.parent].costs["epochs"] if t.parent is not None else 0
        assert t.costs["epochs_trained"] == t.costs["epochs"] - start == len(t.curve) - start
    spent = [t.costs["epochs_trained"] for t in trials]
    assert sum(spent[:-1]) < 40 <= sum(spent)  # no trial starts once 40 epochs are spent
    plain = search(budget=nf.Budget(epochs=20), **common).trials  # without a scheduler: 9 epochs each
    assert [t.costs["epochs_trained"] for t in plain] == [9, 9, 9]


def test_an_interrupted_promotion_is_redone_once(tmp_path):
    splits = split(DATA, seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=3))
    store = SQLiteStore(tmp_path / "store.sqlite")
    run = Run(space, make_strategy("random"), evaluator, store, scheduler=Asha(max_epochs=3, eta=3))
    run.optimize(nf.Budget(trials=3))
    parent, _ = run.scheduler.promotion()
    store.create_trial(parent.arch, parent.seed, parent=parent.id)  # the driver died while it trained
    store.close()
    store = SQLiteStore(tmp_path / "store.sqlite")
    run = Run(space, make_strategy("random"), evaluator, store, scheduler=Asha(max_epochs=3, eta=3))
    assert run.interrupted_on_open == 1
    run.optimize(nf.Budget(trials=4))
    children = [t for t in run.trials if t.parent == parent.id]
    assert [t.state for t in children] == [TrialState.INTERRUPTED, TrialState.FINISHED]
    assert children[1].costs["epochs"] == 3


def test_a_promotion_without_its_checkpoint_retrains_to_the_same_result(tmp_path, monkeypatch):
    common = {
        "data": DATA,
        "trainer": nf.Trainer(epochs=3),
        "strategy": "random",
        "fidelity": {"scheduler": "asha", "min_epochs": 1, "eta": 3},
        "budget": nf.Budget(trials=8),
    }
    held = search(**common).trials
    monkeypatch.setattr("nasforge.fidelity._shelf.MAX_CHECKPOINTS", 0)  # none held: every promotion retrains
    retrained = search(**common).trials
    assert any(t.parent is not None for t in held)
    assert [(t.arch, t.parent, t.costs["epochs"]) for t in held] == [
        (t.arch, t.parent, t.costs["epochs"]) for t in retrained
    ]
    assert [t.metrics for t in held] == [t.metrics for t in retrained]


@pytest.mark.parametrize("on_disk", [False, True], ids=["in_memory", "on_disk"])
def test_a_long_asha_run_keeps_the_checkpoints_of_each_rungs_leaders(tmp_path, on_disk):
    """With more trials than the driver holds checkpoints for, the ones that go are those standing lowest in
    their own rung: promotions from every rung still find their parent's checkpoint."""
    from nasforge.evaluators import Evaluation, Evaluator
    from nasforge.spaces import CellSpace

    continued: dict[int, list[bool]] = {}
    shelf = CheckpointShelf(tmp_path if on_disk else None, limit=16)
    held: list[int] = []

    class Instant(Evaluator):
        def evaluate(self, arch, seed, plan=None):
            held.append(len(list(tmp_path.glob("*.pt"))) if on_disk else len(shelf))
            until = plan.until or 27
            if until > 1:
                continued.setdefault(until, []).append(plan.start is not None)
            accuracy = arch.ops.count("nor_conv_3x3") / 6 + 0.3 * np.random.default_rng(seed).random()
            costs = {"epochs": float(until), "epochs_trained": float(until)}
            metrics = {"accuracy": accuracy, "loss": 1 - accuracy}
            return Evaluation(metrics, costs, checkpoint=until if plan.keep else None)

        def final_test(self, arch, seed):
            raise NotImplementedError

    store = SQLiteStore(":memory:")
    run = Run(CellSpace(), make_strategy("random"), Instant(), store, scheduler=Asha(27, eta=3), checkpoints=shelf)
    run.optimize(nf.Budget(trials=600))
    assert set(continued) == {3, 9, 27} and max(held) == 16, "the shelf fills up, and no more: files are removed too"
    for rung, starts in continued.items():  # ranked across rungs, the 9-epoch ones crowded out the 1-epoch ones
        assert sum(starts) >= 0.9 * len(starts), f"promotions to {rung} epochs retrained from scratch: {starts}"


def test_asha_on_worker_processes_ships_checkpoints_both_ways():
    splits = split(DATA, seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=3))
    executor = DaskExecutor(workers=2, timeout=60)
    store = SQLiteStore(":memory:")
    run = Run(space, make_strategy("random"), evaluator, store, executor=executor, scheduler=Asha(max_epochs=3))
    try:
        run.optimize(nf.Budget(trials=10))
    finally:
        executor.shutdown()
    children = [t for t in run.trials if t.parent is not None]
    assert children and all(t.state is TrialState.FINISHED and t.costs["epochs"] == 3 for t in children)
    child = children[0]
    straight = evaluator.evaluate(child.arch, child.seed, Plan(until=3))
    assert straight.metrics == pytest.approx(child.metrics)


def test_asha_goes_on_promoting_after_the_strategy_has_asked_for_every_architecture():
    splits = split(DATA, seed=0)
    space = ChainSpace(
        input_shape=splits.input_shape, depth=(1, 1), widths=(8, 16), kernels=(3,), min_receptive_field=0
    )
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=3))
    run = Run(space, make_strategy("random"), evaluator, SQLiteStore(":memory:"), scheduler=Asha(max_epochs=3))
    assert run.optimize(nf.Budget(trials=100)) == "exhausted"
    new = [t for t in run.trials if t.parent is None]
    top = sorted(new, key=lambda t: -t.metrics["accuracy"])[: space.size // 3]  # the first rung's top third
    assert len(new) == space.size and {t.id for t in top} <= {t.parent for t in run.trials if t.parent}


def test_hyperband_brackets_are_those_of_the_paper():
    hyperband = Hyperband(max_epochs=9, min_epochs=1, eta=3)  # R = 9, eta = 3 (Li et al. 2018, Table 1)
    assert [hyperband._shape(i) for i in range(4)] == [(0, 9), (1, 5), (2, 3), (0, 9)]  # (first rung, architectures)
    assert [SuccessiveHalving(max_epochs=9)._shape(i) for i in range(2)] == [(0, 9), (0, 9)]


def test_successive_halving_waits_for_a_complete_rung_and_keeps_other_workers_busy():
    sh = SuccessiveHalving(max_epochs=9, min_epochs=1, eta=3)
    new = iter(range(1, 100))

    def start(parent: Trial | None = None) -> Trial:
        trial = Trial(id=next(new), arch="a", state=TrialState.RUNNING, seed=0, parent=parent and parent.id)
        sh.started(trial)
        return trial

    def end(trial: Trial, score: float, epochs: int) -> Trial:
        ended = replace(trial, state=TrialState.FINISHED, score=score, costs={"epochs": epochs})
        sh.observe(ended)
        return ended

    first = [start() for _ in range(9)]
    assert sh.first_rung() == 1  # bracket 1 is full; the next new architecture opens bracket 2, at rung 1 too
    ended = [end(t, score, 1) for t, score in zip(first[:8], [0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.5], strict=True)]
    assert sh.promotion() is None  # 8 of 9 ended: the rung is not complete
    ended.append(end(first[8], 0.6, 1))
    order = []
    while (promotion := sh.promotion()) is not None:
        parent, epochs = promotion
        order.append((parent.id, epochs))
        start(parent)
    assert order == [(2, 3), (4, 3), (6, 3)]  # the top third of 9, best first, each once


def test_a_rung_that_failures_left_short_is_still_promoted_from():
    sh = SuccessiveHalving(max_epochs=9, min_epochs=1, eta=3)  # a bracket of 9 at 1 epoch, 3 at 3, 1 at 9
    ids = iter(range(1, 100))

    def run(parent: Trial | None, state: TrialState, score: float | None, epochs: int) -> Trial:
        trial = Trial(id=next(ids), arch="a", state=TrialState.RUNNING, seed=0, parent=parent and parent.id)
        sh.started(trial)
        sh.observe(replace(trial, state=state, score=score, costs={"epochs": epochs}))
        return trial

    for i in range(9):  # seven of the nine fail: only two can reach the 3-epoch rung, whose size is 3
        run(None, TrialState.FINISHED if i < 2 else TrialState.FAILED, float(i) if i < 2 else None, 1)
    promoted = []
    while (promotion := sh.promotion()) is not None:
        parent, epochs = promotion
        promoted.append((parent.id, epochs))
        run(parent, TrialState.FINISHED, 0.5 + parent.id, epochs)
    assert promoted == [(2, 3), (1, 3), (10, 9)]  # both survivors, then the better of them (2) to full training


def test_a_resume_keeps_each_architecture_in_the_hyperband_bracket_it_trained_in(tmp_path):
    splits = split(DATA, seed=0)
    space = ChainSpace(input_shape=splits.input_shape)
    archs = [space.to_string(space.sample(np.random.default_rng(i))) for i in range(10)]
    store = SQLiteStore(tmp_path / "store.sqlite")
    # bracket 1: 9 architectures at 1 epoch (trials 1-9); bracket 2 starts at 3 epochs (trial 10). Trial 5 was
    # still training when the driver died, after trial 10 had finished.
    for i, arch in enumerate(archs, start=1):
        store.create_trial(arch, seed=i)
        if i != 5:
            epochs = 3 if i == 10 else 1
            store.finish_trial(i, 0.1 * i, {"accuracy": 0.1 * i}, {"epochs": epochs, "epochs_trained": epochs})
    store.close()
    store = SQLiteStore(tmp_path / "store.sqlite")
    evaluator = TrainEvaluator(space, splits, nf.Trainer(epochs=9))
    scheduler = Hyperband(max_epochs=9, min_epochs=1, eta=3)
    run = Run(space, make_strategy("random"), evaluator, store, scheduler=scheduler)
    assert run.interrupted_on_open == 1
    promoted = []
    while (promotion := scheduler.promotion()) is not None:
        parent, epochs = promotion
        promoted.append((parent.id, epochs))
        child = Trial(id=100 + len(promoted), arch=parent.arch, state=TrialState.RUNNING, seed=0, parent=parent.id)
        scheduler.started(child)
    # the first bracket's rung is complete (trial 5 ended without a result): its best three of eight go on;
    # trial 10, the second bracket's first result at 3 epochs, is not mistaken for one of them
    assert promoted == [(9, 3), (8, 3), (7, 3)]
    assert scheduler.first_rung() == 3  # the second bracket still admits four architectures at 3 epochs


def test_a_hyperband_search_runs_its_brackets_and_resumes_to_the_same_shape(tmp_path):
    from collections import Counter

    common = {
        "data": DATA,
        "trainer": nf.Trainer(epochs=9),
        "strategy": "random",
        "fidelity": {"scheduler": "hyperband", "min_epochs": 1, "eta": 3},
    }
    whole = search(budget=nf.Budget(trials=22), **common).trials  # brackets 9+3+1, 5+1, 3
    shape = Counter((t.parent is None, int(t.costs["epochs"])) for t in whole)
    assert shape == {(True, 1): 9, (False, 3): 3, (False, 9): 2, (True, 3): 5, (True, 9): 3}
    assert len({t.parent for t in whole if t.parent is not None}) == 5  # no trial promoted twice
    search(budget=nf.Budget(trials=11), run_dir=tmp_path, **common)
    resumed = search(budget=nf.Budget(trials=22), run_dir=tmp_path, **common).trials
    assert Counter((t.parent is None, int(t.costs["epochs"])) for t in resumed) == shape


def test_a_run_resumed_under_another_fidelity_is_refused(tmp_path):
    from nasforge.exceptions import StoreError

    common = {"data": DATA, "trainer": nf.Trainer(epochs=3), "budget": nf.Budget(trials=3), "run_dir": tmp_path}
    search(fidelity={"scheduler": "asha"}, **common)
    with pytest.raises(StoreError, match=r"holds a different search \(fidelity changed\)"):
        search(fidelity={"stopper": "median"}, **common)
    with pytest.raises(StoreError, match=r"holds a different search \(fidelity changed\)"):
        search(**common)


def test_successive_halving_decides_a_bracket_the_space_cannot_fill():
    """Four architectures, a bracket of nine: the bracket ends with the four it has, so one reaches full training
    (before, its first rung waited for nine and the run stopped with none trained past one epoch)."""
    space, _ = _small_run_parts()
    assert space.size == 4
    evaluator = TrainEvaluator(space, split(DATA, seed=0), nf.Trainer(epochs=9))
    scheduler = SuccessiveHalving(max_epochs=9, min_epochs=1, eta=3)
    run = Run(space, make_strategy("random"), evaluator, SQLiteStore(":memory:"), scheduler=scheduler)
    assert run.optimize(nf.Budget(trials=100)) == "exhausted"
    epochs = sorted(int(t.costs["epochs"]) for t in run.trials)
    assert epochs == [1, 1, 1, 1, 3, 9]  # four at 1 epoch, 4 // 3 = 1 at 3, that one at 9
    assert run.best_trial.costs["epochs"] == 9


def _small_run_parts():
    splits = split(DATA, seed=0)
    space = ChainSpace(
        input_shape=splits.input_shape, depth=(1, 1), widths=(8, 16), kernels=(3,), min_receptive_field=0
    )
    return space, TrainEvaluator(space, splits, nf.Trainer(epochs=3))


@pytest.mark.parametrize("kind", [Asha, Hyperband])
def test_a_scheduler_reused_for_another_open_of_the_run_counts_its_trials_once(tmp_path, kind):
    """Python users may hand the same object to a resume: it replays the stored trials from none, as a new one."""
    space, evaluator = _small_run_parts()
    store = SQLiteStore(tmp_path / "store.sqlite")
    scheduler = kind(max_epochs=3, min_epochs=1)
    Run(space, make_strategy("random"), evaluator, store, scheduler=scheduler).optimize(nf.Budget(trials=5))
    fresh = kind(max_epochs=3, min_epochs=1)
    for opened in (fresh, scheduler):
        Run(space, make_strategy("random"), evaluator, store, scheduler=opened)
    assert scheduler.promotion() == fresh.promotion()
    if kind is Asha:
        assert [len(rung) for rung in scheduler._finished] == [len(rung) for rung in fresh._finished] == [4, 1]
    else:
        assert [b.ended for b in scheduler._brackets] == [b.ended for b in fresh._brackets]


def test_a_median_stopper_reused_for_another_open_of_the_run_counts_its_trials_once(tmp_path):
    space, evaluator = _small_run_parts()
    store = SQLiteStore(tmp_path / "store.sqlite")
    stopper = MedianStopper(min_trials=1)
    Run(space, make_strategy("random"), evaluator, store, stopper=stopper).optimize(nf.Budget(trials=4))
    fresh = MedianStopper(min_trials=1)
    for opened in (fresh, stopper):
        Run(space, make_strategy("random"), evaluator, store, stopper=opened)
    assert stopper.rule().thresholds == fresh.rule().thresholds
    assert {trials for _, trials in fresh.rule().thresholds.values()} <= {1, 2, 3, 4}
