"""What an error raised on a Dask worker brings back to the driver (ours whole, whatever its length), and the
executor's timeout check."""

from __future__ import annotations

import math

import pytest

from nasforge.exceptions import ConfigError, Infeasible, TrialFailed, TrialInterrupted
from nasforge.executors import DaskExecutor
from nasforge.executors._dask import _Raised


@pytest.mark.parametrize("timeout", [0, -1.0, math.nan, math.inf, "30", True, None])
def test_a_dask_timeout_that_is_not_a_finite_positive_number_is_refused(timeout):
    """``timeout`` went unchecked to Dask's client and to the wait for workers: ``0`` or ``-1`` gave up on a
    scheduler at once, ``inf`` waited for ever for a worker, ``"30"`` failed later inside Dask with a traceback."""
    with pytest.raises(ConfigError, match=rf"^executor\.timeout: must be a finite number > 0, got {timeout!r}$"):
        DaskExecutor("tcp://127.0.0.1:8786", timeout=timeout)


def _sent_back(error: Exception) -> BaseException:
    """``error`` raised on a worker and sent back to the driver as the task's result."""
    try:
        raise error
    except Exception as exc:
        return _Raised(exc).error()


@pytest.mark.parametrize("kind", [TrialFailed, TrialInterrupted])
def test_a_failed_trial_with_a_long_message_comes_back_whole_from_a_dask_worker(kind):
    """Dask's encoding cuts a message over ``distributed.admin.max-error-length`` (10,000 characters) by making the
    error again from its type and two strings; a ``TrialFailed`` cannot be made so and came back a bare
    ``Exception``: its costs (the epochs it trained, which an epochs budget counts) and curve were lost, and a
    ``TrialInterrupted`` was recorded failed rather than interrupted (a resume would not train it again)."""
    message = "RuntimeError: " + "x" * 20_000  # e.g. a state_dict that does not load, with every key listed
    back = _sent_back(kind(message, {"epochs_trained": 3.0}, ({"epoch": 1.0, "accuracy": 0.5},), "the traceback"))
    assert type(back) is kind
    assert (str(back), back.costs, back.curve, back.detail) == (
        message,
        {"epochs_trained": 3.0},
        ({"epoch": 1.0, "accuracy": 0.5},),
        "the traceback",
    )


def test_a_rejection_with_a_long_message_comes_back_with_its_costs():
    """Cut by Dask's encoding, ``Infeasible(message, costs)`` came back as ``Infeasible("Long error message",
    message)``: a string for its costs, which the runner's ``fail_trial`` then failed on, ending the search."""
    back = _sent_back(Infeasible("params 2e6 > 1e6; " * 1_000, {"params": 2e6}))
    assert type(back) is Infeasible and back.costs == {"params": 2e6}
    assert str(back) == "params 2e6 > 1e6; " * 1_000


class _Unreducible(TrialFailed):
    """A user's subclass whose arguments are not ``TrialFailed``'s: it does not come back from its pickle."""

    def __init__(self, epochs: int) -> None:
        super().__init__(f"stopped after {epochs} epochs")


def test_one_of_our_errors_that_does_not_unpickle_comes_back_as_dask_would_send_it():
    back = _sent_back(_Unreducible(3))
    assert type(back) is Exception and str(back) == "_Unreducible('stopped after 3 epochs')"
