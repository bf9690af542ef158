"""The ``fidelity:`` block (or ``nf.search(fidelity=...)``) as a stopper or a scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasforge.exceptions import ConfigError
from nasforge.fidelity._schedulers import SCHEDULERS, Scheduler
from nasforge.fidelity._stoppers import Stopper, make_stopper
from nasforge.objective import Objective

__all__ = ["make_fidelity"]

_SCHEDULER_OPTIONS = ("min_epochs", "eta")


def make_fidelity(
    spec: Stopper | Scheduler | Mapping[str, Any] | None, objective: Objective | None, epochs: int | None
) -> tuple[Stopper | None, Scheduler | None]:
    """``(stopper, scheduler)``, at most one of them; ``epochs`` is the trainer's, a scheduler's last rung.

    With ``epochs=None`` only the keys are checked (a config section is validated before the trainer is known).
    """
    if spec is None or isinstance(spec, Stopper):
        return spec, None
    if isinstance(spec, Scheduler):
        return None, spec
    options = dict(spec)
    scheduler = options.pop("scheduler", "none")
    if scheduler != "none" and scheduler not in SCHEDULERS:
        raise ConfigError(f"fidelity.scheduler: must be one of none, {', '.join(SCHEDULERS)}, got {scheduler!r}")
    if scheduler == "none":
        return make_stopper(options or None, objective), None
    if options.pop("stopper", "none") != "none":
        raise ConfigError("fidelity: give a stopper or a scheduler, not both")
    unknown = sorted(set(options) - set(_SCHEDULER_OPTIONS))
    if unknown:
        raise ConfigError(
            f"fidelity: {', '.join(unknown)} does not apply to scheduler {scheduler} (it takes min_epochs, eta)"
        )
    if epochs is None:
        return None, None
    return None, SCHEDULERS[scheduler](max_epochs=epochs, objective=objective, **options)
