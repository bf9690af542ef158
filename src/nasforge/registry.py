"""Name -> factory registries, so that configs name components and unknown names get close-match hints."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from nasforge.exceptions import ConfigError

__all__ = ["Registry", "shown"]

T = TypeVar("T")
_PLAIN = re.compile(r"[\w-]+")


def shown(name: object) -> str:
    """A name or key the user wrote, as a one-line message shows it: as written when it is a plain word (``depth``,
    ``max-epochs``, ``0``), else as Python writes it (``'a\\nb'``, ``'my key'``, ``''``), so that a newline in a key
    cannot break the line and a space or a dot cannot hide where the key ends."""
    return name if isinstance(name, str) and _PLAIN.fullmatch(name) else repr(name)


class Registry(Generic[T]):
    """A named table of factories.

    >>> colours = Registry[int]("colour")
    >>> @colours.register("red")
    ... def red() -> int: return 1
    >>> colours.get("red")()
    1
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = factory
            return factory

        return decorator

    def get(self, name: str) -> Callable[..., T]:
        """The factory called ``name``; any other name, or a value that is not a name at all (the Python API
        passes what it is given: ``{"type": 5}``, ``{"name": None}``), raises a one-line ``ConfigError``."""
        if name not in self:
            raise ConfigError(self.unknown_message(name))
        return self._entries[name]

    def unknown_message(self, name: object) -> str:
        """``unknown <kind> 'x'; did you mean ...? (choose from ...)``, or for a value that is not a string, what
        a name is: a number or a list is never close to a name, and difflib cannot compare them anyway."""
        allowed = f"(choose from {', '.join(sorted(self._entries))})"
        if not isinstance(name, str):
            return f"{self.kind} must be a name (a string), got {name!r} {allowed}"
        close = difflib.get_close_matches(name, self._entries, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} {allowed}"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        """Only strings are names; a list (unhashable) or a number is simply not one."""
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
