"""Where the driver keeps the checkpoints of trials a scheduler may promote: in memory, or in files beside the store.

A promotion continues its parent's training from the parent's checkpoint; without one it trains the
architecture again from the first epoch, to the same weights, only slower. Held in memory (the default, and what
tabular benchmarks use) the checkpoints die with the driver, so after a crash every promotion retrains. Held in a
directory (a run with a run directory) each one is a file written whole before it counts (a temporary file
renamed into place), so a SIGKILL at any moment leaves either the complete file or none, and a resumed run goes on
from the checkpoints its trials left: the promotion that was training when the driver died, and every later one.
A file also keeps the driver's memory free of them (a chain's checkpoint is 0.1-4 MB; a CNN's can be far more).
"""

from __future__ import annotations

import contextlib
import shutil
import warnings
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasforge.atomic import torch_bytes, write_atomic
from nasforge.exceptions import StoreError
from nasforge.trial import Trial, TrialState, epochs_reached, rank_key

__all__ = ["MAX_CHECKPOINTS", "CheckpointShelf"]

MAX_CHECKPOINTS = 256
"""Checkpoints a shelf holds for promotions (a small chain's is 0.1-4 MB: weights, Adam's moments and the
weights' average, each the size of the weights)."""


class CheckpointShelf:
    """The checkpoints of finished trials that may still be promoted, at most ``limit`` of them.

    :meth:`hold` keeps one, :meth:`take` hands it to the trial that continues it, :meth:`release` lets it go once
    that trial has ended. In memory a taken checkpoint is gone at once; in ``directory`` its file stays until the
    release, so that a promotion cut by a crash is redone from it. Beyond ``limit`` the one that stands lowest
    among those held at its own rung goes: its rung, not the run, since a rung's top trials are the ones
    promoted, and ranked across rungs every deeper checkpoint, promoted or not, would outlast every first-rung
    one.
    """

    def __init__(self, directory: str | Path | None = None, limit: int | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.limit = MAX_CHECKPOINTS if limit is None else limit
        self._held: dict[int, Trial] = {}  # trial id -> the trial whose checkpoint is held
        self._memory: dict[int, Any] = {}  # trial id -> its checkpoint, when there is no directory

    def __len__(self) -> int:
        return len(self._held)

    def recover(self, trials: Sequence[Trial]) -> None:
        """Hold again the files an earlier driver of this run left (a resume), those of finished trials no
        promotion has ended from yet; remove the rest, and any file a crash left half-written."""
        if self.directory is None or not self.directory.is_dir():
            return
        by_id = {t.id: t for t in trials}
        spent = {t.parent for t in trials if t.parent is not None and t.state is not TrialState.INTERRUPTED}
        for path in self.directory.iterdir():
            trial = by_id.get(int(path.stem)) if path.suffix == ".pt" and path.stem.isdigit() else None
            if trial is not None and trial.state is TrialState.FINISHED and trial.id not in spent:
                self._held[trial.id] = trial
            else:
                _remove(path)
        self._evict()

    def hold(self, trial: Trial, checkpoint: Any) -> None:
        """Keep ``checkpoint``, where ``trial`` (finished, recorded) stopped training."""
        if self.directory is None:
            self._memory[trial.id] = checkpoint
        elif not self._write(trial, checkpoint):
            return
        self._held[trial.id] = trial
        self._evict()

    def take(self, trial_id: int) -> Any:
        """The checkpoint held for ``trial_id``, no longer held, or None (never held, dropped, or unreadable)."""
        trial = self._held.pop(trial_id, None)
        if trial is None:
            return None
        if self.directory is None:
            return self._memory.pop(trial_id)
        import torch

        from nasforge.evaluators import Checkpoint

        path = self._file(trial_id)
        try:
            with torch.serialization.safe_globals([Checkpoint]):  # tensors, plain values and this record only
                saved = torch.load(path, weights_only=True)
        except Exception:  # damaged, or lost: whatever torch.load raises, it only costs the retraining
            return None
        same = isinstance(saved, dict) and (saved.get("arch"), saved.get("seed")) == (trial.arch, trial.seed)
        return saved["checkpoint"] if same else None

    def release(self, trial_id: int) -> None:
        """The trial that continued ``trial_id``'s checkpoint has ended: its file is not needed again."""
        self._held.pop(trial_id, None)
        self._memory.pop(trial_id, None)
        if self.directory is not None:
            _remove(self._file(trial_id))

    def clear(self) -> None:
        """Let every checkpoint go (a search that has ended); its directory too."""
        self._held.clear()
        self._memory.clear()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _write(self, trial: Trial, checkpoint: Any) -> bool:
        """Write ``trial``'s checkpoint whole, or not at all. A full disk or a lost directory costs its promotion
        the retraining, with a warning, not the search: the trial itself is stored already."""
        assert self.directory is not None
        data = torch_bytes({"arch": trial.arch, "seed": trial.seed, "checkpoint": checkpoint})
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(self._file(trial.id), lambda tmp: Path(tmp).write_bytes(data))
        except (OSError, StoreError) as exc:
            warnings.warn(
                f"{self.directory}: cannot keep trial {trial.id}'s checkpoint ({exc}); a promotion of it "
                "trains from the first epoch",
                RuntimeWarning,
                stacklevel=3,
            )
            return False
        return True

    def _file(self, trial_id: int) -> Path:
        assert self.directory is not None
        return self.directory / f"{trial_id}.pt"

    def _evict(self) -> None:
        while len(self._held) > self.limit:
            rungs: dict[float, list[Trial]] = defaultdict(list)
            for held in self._held.values():
                rungs[epochs_reached(held)].append(held)
            standing = {}
            for rung in rungs.values():
                for place, held in enumerate(sorted(rung, key=rank_key)):
                    standing[held.id] = place / len(rung)  # 0 for its rung's best, alone or not
            self.release(max(standing, key=lambda i: (standing[i], -i)))


def _remove(path: Path) -> None:
    """Delete ``path`` if it is there; a file that cannot be removed only takes its room on the disk."""
    with contextlib.suppress(OSError):
        path.unlink()
