"""The two-fidelity benchmark on partial tables: a lookup the table lacks costs the epochs it asked for."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.evaluators import TabularEvaluator
from nasforge.fidelity import SCHEDULERS
from nasforge.run import Run
from nasforge.strategies import STRATEGIES
from nasforge.tabular import FidelitySetup, NB201Table, run_fidelity_search
from nasforge.tabular._fidelity import epochs_budget
from nasforge.tabular._harness import _Answers, run_tabular
from nasforge.trial import Trial, TrialState, epochs_trained


def _grid(epochs: tuple[int, ...], scheduler: str | None = None) -> FidelitySetup:
    return FidelitySetup("grid", STRATEGIES.get("grid")(shuffle=False), epochs, scheduler, eta=4)


@pytest.mark.parametrize(("partial", "epochs", "trainings"), [(0, (10,), 6), (1, (10,), 6), (1, (100,), 20)])
def test_a_missing_lookup_costs_its_epochs_and_the_run_goes_on(
    fidelity_tables, without_first, partial, epochs, trainings
):
    """An unshuffled grid asks for the missing architectures first (the partial table lacks the first 10):
    failed lookups that cost the epochs they asked for, then answered ones until the epochs are spent. The run
    must neither stop after five failures (reporting nothing) nor get the misses for free (more architectures
    than the epochs pay for)."""
    tables = {10: str(fidelity_tables[0]), 100: str(fidelity_tables[1])}
    tables[(10, 100)[partial]] = str(without_first(fidelity_tables[partial]))
    run = run_fidelity_search(_grid(epochs), tables, "toy", seed=0, trainings=trainings)
    fit = trainings * 100 // epochs[0]
    assert run.architectures == fit
    high = NB201Table(fidelity_tables[1])
    searched = NB201Table(tables[epochs[0]])
    missing = len(high) - len(NB201Table(tables[(10, 100)[partial]]))
    answered = list(high.space.enumerate())[missing:fit]
    best = max(answered, key=lambda arch: (searched.valid("toy")[searched.row(arch)], -high.row(arch)))
    assert run.test[-1] == high.test("toy")[high.row(best)]
    assert run.valid[-1] == high.valid("toy")[high.row(best)]  # the high table's, also after a 10-epoch search


class _Recording(_Answers):
    """The harness's answers, and every trial in the order it ended."""

    def __init__(self, marks: list[int]) -> None:
        super().__init__(marks, cost=epochs_trained)
        self.trials: list[Trial] = []

    def on_trial_end(self, run: Run, trial: Trial) -> None:
        self.trials.append(trial)
        super().on_trial_end(run, trial)


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
def test_under_a_scheduler_a_missing_lookup_costs_its_rung(fidelity_tables, without_first, scheduler):
    """The low table lacks 10 architectures: each lookup of one at the first rung costs those 10 epochs (a
    Hyperband bracket that starts at 100 epochs reads only the complete high table), more than five such
    failures do not stop the run, which spends the whole budget and answers."""
    low = NB201Table(without_first(fidelity_tables[0]))
    evaluator = TabularEvaluator({10: low, 100: NB201Table(fidelity_tables[1])}, "toy")
    answers = _Recording([600])
    rungs = SCHEDULERS[scheduler](max_epochs=100, eta=4, rungs=(10, 100))
    run_tabular(STRATEGIES.get("grid")(shuffle=False), evaluator, 0, epochs_budget(600), answers, rungs)
    failed = [t for t in answers.trials if t.state is TrialState.FAILED]
    assert len(failed) > 5 and [epochs_trained(t) for t in failed] == [10] * len(failed)
    spent = np.cumsum([epochs_trained(t) for t in answers.trials])
    assert spent[-2] < 600 <= spent[-1] and np.isfinite(answers.curve).all()
