"""The ``fidelity:`` block (or ``nf.search(fidelity=...)``) as a stopper or a scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasforge.exceptions import ConfigError
from nasforge.fidelity._asha import Asha
from nasforge.fidelity._stoppers import Stopper, make_stopper
from nasforge.objective import Objective

__all__ = ["make_fidelity"]

_SCHEDULERS = ("none", "asha")
_ASHA_OPTIONS = ("min_epochs", "eta")


def make_fidelity(
    spec: Stopper | Asha | Mapping[str, Any] | None, objective: Objective | None, epochs: int | None
) -> tuple[Stopper | None, Asha | None]:
    """``(stopper, scheduler)``, at most one of them; ``epochs`` is the trainer's, ASHA's last rung.

    With ``epochs=None`` only the keys are checked (a config section is validated before the trainer is known).
    """
    if spec is None or isinstance(spec, Stopper):
        return spec, None
    if isinstance(spec, Asha):
        return None, spec
    options = dict(spec)
    scheduler = options.pop("scheduler", "none")
    if scheduler not in _SCHEDULERS:
        raise ConfigError(f"fidelity.scheduler: must be one of {', '.join(_SCHEDULERS)}, got {scheduler!r}")
    if scheduler == "none":
        return make_stopper(options or None, objective), None
    if options.pop("stopper", "none") != "none":
        raise ConfigError("fidelity: give a stopper or a scheduler, not both")
    unknown = sorted(set(options) - set(_ASHA_OPTIONS))
    if unknown:
        raise ConfigError(f"fidelity: {', '.join(unknown)} does not apply to scheduler asha (it takes min_epochs, eta)")
    if epochs is None:
        return None, None
    return None, Asha(max_epochs=epochs, **options)
