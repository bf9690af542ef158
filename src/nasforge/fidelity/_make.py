"""The ``fidelity:`` block (or ``nf.search(fidelity=...)``) as a stopper or a scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasforge.exceptions import ConfigError
from nasforge.fidelity._schedulers import SCHEDULERS, Scheduler
from nasforge.fidelity._stoppers import Stopper, int_at_least, make_stopper
from nasforge.objective import Objective

__all__ = ["make_fidelity", "scheduled_epochs"]

_SCHEDULER_OPTIONS = ("min_epochs", "max_epochs", "eta")


def make_fidelity(
    spec: Stopper | Scheduler | Mapping[str, Any] | None, objective: Objective | None, epochs: int | None
) -> tuple[Stopper | None, Scheduler | None]:
    """``(stopper, scheduler)``, at most one of them; ``epochs`` is the trainer's, a scheduler's last rung.

    With ``epochs=None`` only the keys are checked (a config section is validated before the trainer is known).
    """
    if spec is None or isinstance(spec, Stopper):
        return spec, None
    if isinstance(spec, Scheduler):
        if epochs is not None and spec.rungs[-1] != epochs:  # see scheduled_epochs
            raise ConfigError(
                f"fidelity.max_epochs: the scheduler's last rung ({spec.rungs[-1]}) differs from train.epochs "
                f"({epochs}); the last rung is the full training"
            )
        return None, spec
    options = dict(spec)
    scheduler = options.pop("scheduler", "none")
    if scheduler != "none" and scheduler not in SCHEDULERS:
        raise ConfigError(f"fidelity.scheduler: must be one of none, {', '.join(SCHEDULERS)}, got {scheduler!r}")
    if scheduler == "none":
        misplaced = sorted(set(options) & set(_SCHEDULER_OPTIONS))
        if misplaced:
            raise ConfigError(f"fidelity: {', '.join(misplaced)} apply only with a scheduler ({', '.join(SCHEDULERS)})")
        return make_stopper(options or None, objective), None
    if options.pop("stopper", "none") != "none":
        raise ConfigError("fidelity: give a stopper or a scheduler, not both")
    unknown = sorted(set(options) - set(_SCHEDULER_OPTIONS))
    if unknown:
        raise ConfigError(
            f"fidelity: {', '.join(unknown)} does not apply to scheduler {scheduler} "
            f"(it takes {', '.join(_SCHEDULER_OPTIONS)})"
        )
    top = options.pop("max_epochs", epochs)
    if epochs is None:
        return None, None
    if epochs < 2:  # said here: the default first rung (1 epoch) would be refused in the name of min_epochs
        raise ConfigError(
            f"fidelity.scheduler: {scheduler} needs train.epochs >= 2 (a first rung shorter than the last), "
            f"got {epochs}"
        )
    if top != epochs:
        raise ConfigError(f"fidelity.max_epochs: {top} differs from train.epochs ({epochs}); give one of them")
    # the first rung: a quarter of the training (2 of the default 8 epochs); one epoch of an 8-epoch cosine,
    # still at a high learning rate, ranked architectures noisily (docs/benchmarks.md, issue 18)
    options.setdefault("min_epochs", max(1, epochs // 4))
    return None, SCHEDULERS[scheduler](max_epochs=epochs, objective=objective, **options)


def scheduled_epochs(spec: Stopper | Scheduler | Mapping[str, Any] | None, epochs: int) -> int:
    """The trainer's epochs under ``spec``: its ``max_epochs`` where it gives one, a scheduler's last rung (the
    last rung is the full training, so the schedule sets its length), else ``epochs``."""
    if isinstance(spec, Scheduler):
        return spec.rungs[-1]
    if isinstance(spec, Mapping) and spec.get("max_epochs") is not None:
        return int_at_least("max_epochs", spec["max_epochs"], 2)
    return epochs
