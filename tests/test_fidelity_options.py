"""Multi-fidelity options: a scheduler object's training length, the search identity of a stopping rule's options,
exact Hyperband bracket sizes, and one-line errors for a too-short training and a NaN threshold."""

from __future__ import annotations

import pytest

from nasforge.api import make_strategy, open_store, search_identity
from nasforge.config import parse_config
from nasforge.exceptions import ConfigError, StoreError
from nasforge.fidelity import Asha, Hyperband, MedianStopper, ThresholdStopper, make_fidelity, scheduled_epochs
from nasforge.objective import Objective
from nasforge.spaces import ChainSpace


def test_a_scheduler_object_sets_the_training_length_as_max_epochs_does():
    """Its last rung is the full training: ``nf.search(trainer=Trainer(epochs=3), fidelity=Asha(max_epochs=4))``
    failed every promotion to 4 epochs ("cannot train from epoch 2 until 4 of 3")."""
    asha = Asha(max_epochs=4, min_epochs=1, eta=2)
    assert scheduled_epochs(asha, 3) == 4
    assert make_fidelity(asha, None, 4) == (None, asha)
    with pytest.raises(ConfigError, match=r"^fidelity\.max_epochs: the scheduler's last rung \(4\) differs from"):
        make_fidelity(asha, None, 3)


def test_a_run_resumed_under_another_option_of_its_stopping_rule_is_refused(tmp_path):
    space = ChainSpace(input_shape=(1, 6, 6))

    def identity(stopper):
        return search_identity(space, make_strategy("random"), Objective(), 0, stopper)

    open_store(tmp_path, identity(ThresholdStopper(threshold=0.3)), None).close()
    with pytest.raises(StoreError, match=r"fidelity changed"):
        open_store(tmp_path, identity(ThresholdStopper(threshold=0.9)), None)
    assert MedianStopper(min_trials=3).describe() == "median stopping from epoch 2 (min_trials 3)"
    assert MedianStopper().describe() == "median stopping from epoch 2"  # as stored before options were named


def test_hyperband_bracket_sizes_are_exact_integers():
    """Li et al. 2018: n = ceil((s_max + 1) / (s + 1) * eta**s); 11 * 3**8 / 9 is 8019 exactly, 8020 in floats."""
    hyperband = Hyperband(max_epochs=3**10, min_epochs=1, eta=3)
    assert len(hyperband.rungs) == 11
    assert hyperband._shape(2) == (2, 8019)


def test_a_scheduler_over_a_one_epoch_training_names_train_epochs():
    with pytest.raises(ConfigError, match=r"^fidelity\.scheduler: asha needs train\.epochs >= 2"):
        make_fidelity({"scheduler": "asha"}, None, 1)


@pytest.mark.parametrize("threshold", [float("nan"), float("inf")])
def test_a_threshold_must_be_a_finite_number(threshold):
    """A NaN threshold compares false with every value, so no trial would ever be stopped."""
    with pytest.raises(ConfigError, match=r"^fidelity: threshold: needs a finite number"):
        parse_config({"data": {"builtin": "digits"}, "fidelity": {"stopper": "threshold", "threshold": threshold}})


def test_with_several_objectives_a_tie_is_promoted_whatever_order_the_trials_ended_in():
    """A resume replays a rung's trials in the order they started, the live run saw them as they ended: two
    identical points must be ordered alike both ways, or a resume promotes another trial."""
    from dataclasses import replace

    from nasforge.fidelity import Asha
    from nasforge.objective import Objective
    from nasforge.trial import Trial, TrialState

    def rung(order: list[int]) -> list[int]:
        asha = Asha(max_epochs=9, min_epochs=1, eta=3, objective=Objective(metrics=("accuracy", "params")))
        for i in order:
            t = Trial(id=i, arch="a", state=TrialState.FINISHED, seed=0, score=0.8, metrics={"accuracy": 0.8})
            asha.observe(replace(t, costs={"epochs": 1, "params": 1000}))
        return [t.id for t in asha.ranked(asha._finished[0])]

    assert rung([1, 2, 3]) == rung([3, 1, 2]) == rung([2, 3, 1])
