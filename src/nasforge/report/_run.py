"""What a report reads of a run directory: its trials and what the store and ``best.json`` say about them.

Only reads: a report of a run that is still going opens its store beside the search (SQLite allows readers
next to one writer) and never takes the run's lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from nasforge.exceptions import NasforgeError, StoreError
from nasforge.objective import Objective
from nasforge.spaces import SPACES, SearchSpace
from nasforge.trial import Trial, TrialState

__all__ = ["RunView"]


@dataclass(frozen=True)
class RunView:
    """A run directory as read at one moment."""

    path: Path
    trials: tuple[Trial, ...]
    meta: dict[str, Any]
    best: dict[str, Any] | None

    @classmethod
    def load(cls, run_dir: str | Path) -> RunView:
        from nasforge.api import STORE_FILE
        from nasforge.store import SQLiteStore

        path = Path(run_dir)
        if not (path / STORE_FILE).is_file():
            raise StoreError(f"{path}: no nasforge run here ({STORE_FILE} is missing)")
        store = SQLiteStore(path / STORE_FILE)
        try:
            trials = tuple(store.trials())
            meta = {k: store.get_meta(k) for k in ("search", "config", "final", "data", "warm_start", "supernet")}
        finally:
            store.close()
        best_file = path / "best.json"
        best = json.loads(best_file.read_text()) if best_file.is_file() else None
        return cls(path, trials, meta, best)

    @property
    def name(self) -> str:
        return str((self.meta.get("config") or {}).get("name") or self.path.name)

    @property
    def search(self) -> dict[str, Any]:
        return self.meta.get("search") or {}

    @cached_property
    def objective(self) -> Objective:
        return Objective(**self.search.get("objective", {}))

    @cached_property
    def space(self) -> SearchSpace | None:
        """The searched space, rebuilt from its stored configuration (None for a space no longer registered)."""
        params = dict(self.search.get("space") or {})
        kind = params.pop("type", None)
        try:
            return SPACES.get(kind)(**params) if kind else None
        except (NasforgeError, TypeError, ValueError):  # a report draws what it can; the table needs no space
            return None

    def count(self, state: TrialState) -> int:
        return sum(t.state is state for t in self.trials)

    @property
    def elapsed(self) -> float:
        """Seconds of search so far: the search's clock at its last recorded trial end."""
        return max((t.elapsed or 0.0 for t in self.trials), default=0.0)

    @property
    def finished(self) -> bool:
        """Whether the run ended with a winner retrained and tested (``best.json`` written)."""
        return self.best is not None
