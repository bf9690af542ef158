"""Warm starts: a new search that begins from what an earlier run found (``warm_start: runs/old``).

The earlier run's best architectures are trained first, on this run's data, before the strategy proposes
anything: on other data they are the best guesses there are, and on the same data they give this run trials
of its own that can win (a winner is trained, tested once and exported from its own run). When the two runs
are the same search but for its strategy and seed (the space, the objective, the training recipe, any
fidelity, constraints and latency batch: :func:`nasforge.api.search_identity`) on the same data (the digest
of the train and validation samples), every earlier result is also told to the new strategy before it asks: a
replay, so that its population, model or policy starts where the old one ended instead of from random draws.
Elsewhere that replay would mislead (scores from another task, training or rung), so only the re-evaluated
architectures teach the strategy, through their new results.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasforge.exceptions import ConfigError, InvalidArchitecture, integer_at_least
from nasforge.trial import DONE, Trial, TrialState, end_order, rank_key

if TYPE_CHECKING:
    from nasforge.spaces import SearchSpace

__all__ = ["Warm", "WarmStart"]


@dataclass(frozen=True)
class Warm:
    """What a run starts from: architectures to train first, earlier trials whose results its strategy is told
    (as the run tells its own: a score, or an objective vector to a multi-objective strategy), and the record."""

    first: tuple[Hashable, ...] = ()
    replay: tuple[tuple[Hashable, Trial], ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WarmStart:
    """Start from the run in ``run`` (its directory): its ``top`` best architectures first, and its results
    replayed into the strategy where the search (but for its strategy and seed) and the data are the same.

    >>> WarmStart.parse({"run": "runs/old", "top": 5})
    WarmStart(run=PosixPath('runs/old'), top=5)
    """

    run: Path
    top: int = 10

    def __post_init__(self) -> None:
        integer_at_least("warm_start.top", self.top)

    @classmethod
    def parse(cls, spec: WarmStart | str | Path | Mapping[str, Any] | None) -> WarmStart | None:
        """From the config's ``warm_start``: a run directory, or ``{run: DIR, top: K}``."""
        if spec is None or isinstance(spec, WarmStart):
            return spec
        if isinstance(spec, (str, Path)):
            return cls(Path(spec))
        if not isinstance(spec, Mapping) or "run" not in spec or set(spec) - {"run", "top"}:
            raise ConfigError(f"warm_start: give a run directory, or {{run: DIR, top: K}}; got {spec!r}")
        return cls(Path(str(spec["run"])), spec.get("top", 10))

    def load(self, space: SearchSpace, identity: Mapping[str, Any], data_digest: str | None) -> Warm:
        """Read the earlier run (it is not changed) and decide what this one starts from; ``identity`` is this
        search's (:func:`nasforge.api.search_identity`)."""
        from nasforge.api import STORE_FILE
        from nasforge.store import SQLiteStore

        path = self.run / STORE_FILE
        if not path.is_file():
            raise ConfigError(f"warm_start: {self.run}: no nasforge run here ({STORE_FILE} is missing)")
        store = SQLiteStore(path)
        try:
            trials, search, digest = store.trials(), store.get_meta("search") or {}, store.get_meta("data_digest")
        finally:
            store.close()
        same = digest is not None and digest == data_digest and _comparable(search) == _comparable(identity)
        searched = [t for t in trials if t.state in DONE and t.parent is None and t.repeat_of is None]
        first: list[Hashable] = []
        for trial in sorted((t for t in searched if t.state is TrialState.FINISHED), key=rank_key):
            arch = _parsed(space, trial.arch)
            if arch is not None and arch not in first:
                first.append(arch)
            if len(first) == self.top:
                break
        replay = []
        if same:
            # in the order the earlier run told them, as a resume of it would (an aging population is the last N)
            replay = [
                (arch, t) for t in sorted(searched, key=end_order) if (arch := _parsed(space, t.arch)) is not None
            ]
        record = {"run": str(self.run), "same_data": same, "first": [space.to_string(a) for a in first]}
        record["replayed"] = len(replay)
        return Warm(tuple(first), tuple(replay), record)


def _comparable(identity: Mapping[str, Any]) -> dict[str, Any]:
    """What decides whether two searches' scores rank together: a search's identity without how it searched
    (strategy, seed), in the JSON form the store keeps. A training of other epochs or learning rate, a rung of a
    scheduler, other constraints: their scores are not this run's, and are not replayed."""
    return {k: v for k, v in json.loads(json.dumps(dict(identity))).items() if k not in ("strategy", "seed")}


def _parsed(space: SearchSpace, text: str) -> Hashable | None:
    """``text`` as an architecture of ``space``, or None where this space has no such architecture."""
    try:
        return space.from_string(text)
    except (InvalidArchitecture, ValueError):
        return None
