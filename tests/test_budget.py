"""Budget semantics: a default trial count only when the user gave no limit at all."""

from __future__ import annotations

import pytest

from nasforge.budget import DEFAULT_TRIALS, Budget
from nasforge.config import parse_config
from nasforge.exceptions import ConfigError


def test_no_limit_given_falls_back_to_the_default_trial_count():
    budget = Budget()
    assert (budget.trials, budget.seconds, budget.defaulted) == (DEFAULT_TRIALS, None, True)
    assert budget.describe() == f"{DEFAULT_TRIALS} trials (the default when no budget is given)"


@pytest.mark.parametrize(
    ("budget", "trials", "seconds", "words"),
    [
        (Budget(seconds=300), None, 300, "300 s"),
        (Budget(trials=7), 7, None, "7 trials"),
        (Budget(trials=7, seconds=60.5), 7, 60.5, "7 trials or 60.5 s, whichever comes first"),
    ],
)
def test_a_given_limit_is_the_only_limit(budget, trials, seconds, words):
    assert (budget.trials, budget.seconds, budget.defaulted) == (trials, seconds, False)
    assert budget.describe() == words


def test_stop_reason_names_the_limit_reached():
    budget = Budget(trials=5, seconds=10)
    assert budget.stop_reason(4, 9.9) is None
    assert budget.stop_reason(5, 0.0) == "trials"
    assert budget.stop_reason(0, 10.0) == "seconds"
    assert Budget(seconds=10).stop_reason(10_000, 9.0) is None
    epochs = Budget(epochs=100)
    assert (epochs.trials, epochs.defaulted, epochs.describe()) == (None, False, "100 epochs")
    assert epochs.stop_reason(10_000, 1e6, 99.0) is None and epochs.stop_reason(0, 0.0, 100) == "epochs"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": 0}, "budget.trials: must be an integer >= 1, got 0"),
        ({"trials": True}, "budget.trials: must be an integer >= 1, got True"),
        ({"seconds": 0}, "budget.seconds: must be a finite number > 0, got 0"),
        ({"seconds": float("inf")}, "budget.seconds: must be a finite number > 0, got inf"),
        ({"max_failures": float("inf")}, "budget.max_failures: a count >= 1 or a fraction in .0, 1., got inf"),
        ({"epochs": 0}, "budget.epochs: must be an integer >= 1, got 0"),
    ],
)
def test_bad_limits_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Budget(**kwargs)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"seconds": 300}, Budget(seconds=300)),
        ({"trials": 12}, Budget(trials=12)),
        ({"epochs": 400}, Budget(epochs=400)),
        ({}, Budget()),
        (None, Budget()),
    ],
)
def test_the_config_applies_the_default_only_without_limits(section, expected):
    raw = {"data": {"builtin": "digits"}} | ({} if section is None else {"budget": section})
    config = parse_config(raw)
    assert Budget(**config.budget.model_dump()) == expected


def test_an_epochs_budget_with_an_evaluator_that_counts_no_epochs_is_one_line():
    from nasforge.evaluators import Evaluation, Evaluator, FinalReport
    from nasforge.run import Run
    from nasforge.spaces import CellSpace
    from nasforge.store import SQLiteStore
    from nasforge.strategies import RandomSearch

    class Untimed(Evaluator):
        def evaluate(self, arch, seed):
            return Evaluation({"accuracy": 0.5}, {"params": 1.0})

        def final_test(self, arch, seed):
            return FinalReport({"accuracy": 0.5})

    run = Run(CellSpace(), RandomSearch(), Untimed(), SQLiteStore(":memory:"))
    with pytest.raises(ConfigError, match=r"^budget.epochs: Untimed does not record the epochs its trials train"):
        run.optimize(Budget(epochs=5))
    assert len(run.trials) == 1, "stopped at the first trial, not after the whole space"
