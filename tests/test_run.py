"""The runner: budget, failures, duplicates, resume, Ctrl-C; with a cheap evaluator on the cell space."""

from __future__ import annotations

from collections.abc import Hashable

import pytest

from nasforge.budget import DEFAULT_TRIALS, Budget
from nasforge.callbacks import Callback
from nasforge.data import split, synthetic
from nasforge.evaluators import Evaluation, Evaluator, FinalReport, Trainer, TrainEvaluator
from nasforge.objective import Objective
from nasforge.run import Run
from nasforge.spaces import CellSpace, ChainSpace
from nasforge.store import SQLiteStore
from nasforge.strategies import RandomSearch, RegularizedEvolution
from nasforge.trial import Trial, TrialState, rank_key


class ConvCounter(Evaluator):
    """Accuracy = share of 3x3 convolutions; architectures with avg_pool on edge 0->1 'crash'."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.interrupt_at = interrupt_at

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        self.calls.append(str(arch))
        if self.interrupt_at is not None and len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt
        if arch.ops[0] == "avg_pool_3x3":
            raise RuntimeError("simulated crash inside training")
        share = arch.ops.count("nor_conv_3x3") / len(arch.ops)
        return Evaluation({"accuracy": share, "loss": 1 - share}, {"params": 10.0})

    def final_test(self, arch: Hashable, seed: int) -> FinalReport:
        return FinalReport({"accuracy": 0.0})


def make_run(store, evaluator=None, strategy=None, objective=None) -> Run:
    return Run(CellSpace(), strategy or RandomSearch(), evaluator or ConvCounter(), store, objective=objective, seed=3)


def test_budget_counts_finished_and_failed_trials():
    run = make_run(SQLiteStore(":memory:"))
    assert run.optimize(Budget(trials=30)) == "trials"
    trials = run.trials
    assert len(trials) == 30
    states = {t.state for t in trials}
    assert states == {TrialState.FINISHED, TrialState.FAILED}
    failed = [t for t in trials if t.state is TrialState.FAILED]
    assert all("simulated crash" in t.error for t in failed)
    assert len({t.arch for t in trials}) == 30, "no architecture is evaluated twice"


def test_best_trial_is_the_best_validation_score():
    run = make_run(SQLiteStore(":memory:"))
    run.optimize(Budget(trials=20))
    best = run.best_trial
    assert best.score == max(t.score for t in run.trials if t.score is not None)
    assert run.top(3)[0] == best


def test_loss_objective_is_minimised():
    run = make_run(SQLiteStore(":memory:"), objective=Objective("loss"))
    run.optimize(Budget(trials=15))
    finished = [t for t in run.trials if t.state is TrialState.FINISHED]
    assert run.best_trial.metrics["loss"] == min(t.metrics["loss"] for t in finished)


class FlopsCounter(ConvCounter):
    """Accuracy is 0.8 or 0.9 by whether edge 0->1 is a conv; FLOPs grow with the number of 3x3 convs."""

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        accuracy = 0.9 if arch.ops[0].startswith("nor_conv") else 0.8
        flops = 1e6 * 2 ** arch.ops.count("nor_conv_3x3")
        return Evaluation({"accuracy": accuracy}, {"flops": flops})


@pytest.mark.parametrize("penalty", [0.0, 0.1])
def test_equal_metrics_rank_by_cost_and_metrics_stay_raw(penalty):
    run = make_run(SQLiteStore(":memory:"), FlopsCounter(), objective=Objective(flops_penalty=penalty))
    run.optimize(Budget(trials=60))
    finished = [t for t in run.trials if t.state is TrialState.FINISHED]
    assert {t.metrics["accuracy"] for t in finished} == {0.8, 0.9}
    best = run.best_trial
    assert best.metrics["accuracy"] == 0.9
    assert best.costs["flops"] == min(t.costs["flops"] for t in finished if t.metrics["accuracy"] == 0.9)
    assert best.score == pytest.approx(Objective(flops_penalty=penalty).score(best.metrics, best.costs))


def test_tied_accuracies_rank_by_validation_loss_before_flops():
    def finished(id_: int, accuracy: float, loss: float | None, flops: float) -> Trial:
        metrics = {"accuracy": accuracy} if loss is None else {"accuracy": accuracy, "loss": loss}
        return Trial(id_, f"a{id_}", TrialState.FINISHED, 0, accuracy, metrics, {"flops": flops})

    trials = [
        finished(1, 0.99, 0.08, 1e3),
        finished(2, 0.99, 0.03, 9e6),
        finished(3, 0.98, 0.01, 1e2),
        finished(4, 0.99, float("nan"), 1e2),
        finished(5, 0.99, None, 1e1),
    ]
    assert [t.id for t in sorted(trials, key=rank_key)] == [2, 1, 5, 4, 3]


def test_resume_continues_without_redoing_finished_trials(tmp_path):
    path = tmp_path / "store.sqlite"
    first = ConvCounter(interrupt_at=8)
    with pytest.raises(KeyboardInterrupt):
        make_run(SQLiteStore(path), first).optimize(Budget(trials=20))
    store = SQLiteStore(path)
    assert [t.state for t in store.trials()][-1] is TrialState.INTERRUPTED
    done_before = {t.arch for t in store.trials() if t.state.is_done}
    assert len(done_before) == 7

    second = ConvCounter()
    run = make_run(store, second)
    run.optimize(Budget(trials=20))
    assert run.done == 20
    assert not done_before & set(second.calls), "a finished trial was evaluated again"
    assert len(second.calls) == 13


def test_resume_replays_history_into_the_strategy(tmp_path):
    path = tmp_path / "store.sqlite"
    make_run(SQLiteStore(path), strategy=RegularizedEvolution(population=5, sample=2)).optimize(Budget(trials=10))
    strategy = RegularizedEvolution(population=5, sample=2)
    make_run(SQLiteStore(path), strategy=strategy)
    assert len(strategy.members) == 5, "the population was rebuilt from the stored trials"


def test_duplicate_proposals_cost_no_evaluation():
    class Stubborn(RandomSearch):
        """Proposes the same architecture three times before anything new."""

        def setup(self) -> None:
            super().setup()
            self.first = self.space.sample(self.rng)
            self.repeats = 0

        def ask(self) -> Hashable:
            if self.repeats < 3:
                self.repeats += 1
                return self.first
            return super().ask()

    evaluator = ConvCounter()
    run = make_run(SQLiteStore(":memory:"), evaluator, strategy=Stubborn())
    run.optimize(Budget(trials=5))
    assert len(evaluator.calls) == len(set(evaluator.calls)) == 5


class SlowConvCounter(ConvCounter):
    """Each evaluation takes ``step`` seconds of a fake clock, so time budgets are tested without waiting."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.now, self.step = 0.0, step

    def clock(self) -> float:
        return self.now

    def evaluate(self, arch: Hashable, seed: int) -> Evaluation:
        self.now += self.step
        return super().evaluate(arch, seed)


def timed_run(store: SQLiteStore) -> Run:
    evaluator = SlowConvCounter(step=7.0)
    return Run(CellSpace(), RandomSearch(), evaluator, store, seed=3, clock=evaluator.clock)


def test_a_time_budget_alone_runs_until_the_time_is_spent():
    run = timed_run(SQLiteStore(":memory:"))
    assert run.optimize(Budget(seconds=300)) == "seconds"
    assert run.done == 43 > DEFAULT_TRIALS, "42 trials end at 294 s, so a 43rd starts; no trial cap applies"
    assert max(t.elapsed for t in run.trials) == 301.0


def test_a_trial_limit_stops_a_timed_search_first():
    run = timed_run(SQLiteStore(":memory:"))
    assert run.optimize(Budget(trials=10, seconds=300)) == "trials"
    assert run.done == 10


def test_resumed_time_budget_counts_the_time_already_spent(tmp_path):
    path = tmp_path / "store.sqlite"
    first = timed_run(SQLiteStore(path))
    first.optimize(Budget(trials=20))
    first.store.close()
    resumed = timed_run(SQLiteStore(path))
    assert resumed.optimize(Budget(seconds=300)) == "seconds"
    assert resumed.done == 43, "140 s were spent before the resume; 23 more trials reach 301 s"


def test_callbacks_see_every_trial():
    seen: list[tuple[str, int]] = []

    class Recorder(Callback):
        def on_trial_start(self, run, trial):
            seen.append(("start", trial.id))

        def on_trial_end(self, run, trial):
            seen.append(("end", trial.id))

        def on_search_end(self, run, reason):
            seen.append((reason, run.done))

    make_run(SQLiteStore(":memory:")).optimize(Budget(trials=3), callbacks=[Recorder()])
    assert seen == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 3), ("end", 3), ("trials", 3)]


def test_a_training_the_time_budget_cuts_is_interrupted_and_trained_again_by_a_resume(tmp_path):
    splits = split(synthetic("sequence", n=120, classes=3, seed=1), seed=0)
    space = ChainSpace(input_shape=splits.input_shape)

    def run(epochs: int) -> Run:
        evaluator = TrainEvaluator(space, splits, Trainer(epochs=epochs, device="cpu"))
        return Run(space, RandomSearch(), evaluator, SQLiteStore(tmp_path / "store.sqlite"), seed=0)

    first = run(epochs=100_000)  # would train for many minutes
    assert first.optimize(Budget(seconds=1.0)) == "seconds"
    cut = first.trials[0]
    assert all(t.state is TrialState.INTERRUPTED for t in first.trials) and first.done == 0
    assert cut.error.startswith("the search's time budget ran out during epoch ")
    assert cut.curve and cut.costs["params"] > 0, "what the trial reached is kept"
    first.store.close()
    resumed = run(epochs=2)
    assert resumed.elapsed_before >= 1.0, "the time the cut trial used counts as spent"
    resumed.optimize(Budget(trials=1))
    (redone,) = resumed.store.trials(states=(TrialState.FINISHED,))
    assert redone.arch == cut.arch, "the strategy was not told the cut trial, so it proposes it again"
