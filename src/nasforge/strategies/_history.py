"""What every strategy remembers: told scores, outstanding asks, and config checks with one-line errors.

Duplicates are avoided at the source: a strategy proposes through :meth:`History.fresh`, which redraws a
proposal that was already told or is still pending, so a repeated evaluation (free under
:func:`~nasforge.strategies.ask_new`, but a wasted step of the search) is rare.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import ConfigError

if TYPE_CHECKING:
    from nasforge.spaces import SearchSpace

__all__ = ["Drawn", "History", "check", "check_count", "worst"]

_FRESH_TRIES = 50


def check(ok: bool, field: str, rule: str, value: Any) -> None:
    """Raise ``ConfigError('strategy.<field>: must be <rule>, got <value>')`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"strategy.{field}: must be {rule}, got {value!r}")


def check_count(
    value: Any, field: str, least: int, most: int | None = None, rule: str | None = None, optional: bool = False
) -> None:
    """Like :func:`check` for a whole number in ``[least, most]`` (``None`` too when ``optional``): a float or
    a bool passes a range check but fails later, inside numpy or a deque, far from the config key that caused it."""
    if optional and value is None:
        return
    rule = rule or f">= {least}" + (" or None" if optional else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"strategy.{field}: must be an integer {rule}, got {value!r}")
    check(least <= value and (most is None or value <= most), field, rule, value)


def worst(score: float | None, floor: float) -> float:
    """A failed trial (``None``) counts as the worst score seen so far (``floor``)."""
    return floor if score is None else float(score)


class History:
    """Told scores in arrival order (``None`` for failed trials) and the architectures still being evaluated."""

    def __init__(self) -> None:
        self.scores: dict[Hashable, float | None] = {}
        self.pending: dict[Hashable, int] = {}  # each outstanding ask -> how many tells had come before it
        self.low = float("inf")
        self.tells = 0
        self.lag = 0  # the most tells that came between an ask and its own tell

    def __len__(self) -> int:
        return len(self.scores)

    def known(self, arch: Hashable) -> bool:
        return arch in self.scores or arch in self.pending

    def asked(self, arch: Hashable) -> Hashable:
        self.pending[arch] = self.tells
        return arch

    def waiting(self, arch: Hashable) -> bool:
        """Pending, and not yet kept waiting longer than any told ask was. A run may drop a proposal for good (a
        prefilter trains one of several and never tells the others), and such a proposal must not hold up a
        search for ever; past the longest wait seen, in-flight evaluations (parallel workers) have come back."""
        return arch in self.pending and self.tells - self.pending[arch] <= self.lag

    def told(self, arch: Hashable, score: float | None) -> bool:
        """Record a result; ``True`` if this architecture was not told before (a replay may repeat one)."""
        asked_at = self.pending.pop(arch, None)
        if asked_at is not None:
            self.lag = max(self.lag, self.tells - asked_at)
        self.tells += 1
        first = arch not in self.scores
        if first or score is not None:
            self.scores[arch] = score
        if score is not None:
            self.low = min(self.low, float(score))
        return first

    def value(self, score: float | None) -> float:
        """The score a strategy ranks by: failed trials rank below every successful one."""
        if score is None:
            return self.low - 1.0 if self.low != float("inf") else float("-inf")
        return float(score)

    def best(self, k: int) -> list[Hashable]:
        """The ``k`` best told architectures, best first (ties keep arrival order)."""
        ranked = sorted(self.scores, key=lambda a: -self.value(self.scores[a]))
        return ranked[:k]

    def fresh(self, propose: Callable[[], Hashable], tries: int = _FRESH_TRIES) -> Hashable:
        """The first proposal neither told nor pending (the last one if all ``tries`` were known)."""
        arch = propose()
        for _ in range(tries - 1):
            if not self.known(arch):
                break
            arch = propose()
        return self.asked(arch)


class Drawn:
    """The decision vector each outstanding ask was drawn from, for learners that credit the actions they took.

    On a space where several vectors build one network (a chain's slots beyond its depth), the canonical
    vector of the architecture holds choices that were never made; crediting those teaches the policy nothing
    it did. The sampler sets :attr:`last` for the proposal it returns (``None`` when no policy draw made it).
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.last: tuple[int, ...] | None = None
        self._of: dict[Hashable, tuple[int, ...]] = {}

    def keep(self, arch: Hashable) -> Hashable:
        """Remember the last draw as ``arch``'s (called with what ``ask`` returns)."""
        if self.last is not None:
            self._of[arch] = self.last
        return arch

    def pop(self, arch: Hashable) -> tuple[int, ...]:
        """What ``arch`` was drawn from, forgotten once told; its canonical vector if this instance never drew it
        (a replay, a warm start)."""
        values = self._of.pop(arch, None)
        return tuple(self.space.to_decisions(arch)) if values is None else values
