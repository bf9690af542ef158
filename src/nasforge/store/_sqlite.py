"""One SQLite file per run, readable with plain ``sqlite3`` (see the ``trials`` table and ``trials_flat`` view)."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nasforge.exceptions import StoreError
from nasforge.store._base import Store
from nasforge.trial import Trial, TrialState

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

SCHEMA_VERSION = 5
"""1: the first; 2: a ``pruned`` status, the ``curve`` and ``parent`` columns; 3: a ``rejected`` status; 4: the
``repeat_of`` column; 5: the ``ended`` column. Older versions are migrated on open."""

_ENVIRONMENT_ERRORS = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR}
"""Primary SQLite result codes that say the file system refused, not that the file is not a store."""

_COLUMNS_V1 = "id, arch, status, seed, score, metrics, costs, started_at, finished_at, elapsed, error"
_COLUMNS_V2 = _COLUMNS_V1 + ", curve, parent"
_COLUMNS_V4 = _COLUMNS_V2 + ", repeat_of"
_COLUMNS = _COLUMNS_V4 + ", ended"
_COLUMNS_OF = {1: _COLUMNS_V1, 2: _COLUMNS_V2, 3: _COLUMNS_V2, 4: _COLUMNS_V4}

_ENDED = "ended = (SELECT COALESCE(MAX(ended), 0) + 1 FROM trials)"
"""The next place in the order trials end, taken in the transaction that records the end, so never shared."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    arch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'pruned', 'failed', 'interrupted', 'rejected')),
    seed INTEGER NOT NULL,
    score REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    costs TEXT NOT NULL DEFAULT '{}',
    started_at REAL,
    finished_at REAL,
    elapsed REAL,
    error TEXT,
    curve TEXT NOT NULL DEFAULT '[]',
    parent INTEGER REFERENCES trials (id),
    repeat_of INTEGER REFERENCES trials (id),
    ended INTEGER
);
CREATE VIEW IF NOT EXISTS trials_flat AS
SELECT id, arch, status, score,
       json_extract(metrics, '$.accuracy') AS accuracy,
       json_extract(metrics, '$.f1') AS f1,
       json_extract(metrics, '$.loss') AS loss,
       json_extract(metrics, '$.mse') AS mse,
       json_extract(metrics, '$.mae') AS mae,
       json_extract(metrics, '$.r2') AS r2,
       json_extract(costs, '$.params') AS params,
       json_extract(costs, '$.flops') AS flops,
       json_extract(costs, '$.epochs') AS epochs,
       parent,
       repeat_of,
       finished_at - started_at AS seconds,
       elapsed,
       error
FROM trials;
"""


def _finite(values: Mapping[str, float]) -> str:
    """JSON of a metrics/costs mapping; NaN and inf become null so that the JSON stays standard."""
    return json.dumps({k: (float(v) if math.isfinite(float(v)) else None) for k, v in values.items()})


def _curve(points: Sequence[Mapping[str, float]]) -> str:
    """JSON of a learning curve: one metrics mapping per epoch."""
    return "[" + ",".join(_finite(point) for point in points) + "]"


class SQLiteStore(Store):
    """A run's trials in SQLite (WAL journal, one transaction per state change).

    ``synchronous=NORMAL``: in WAL mode a commit is appended to the log without an fsync, which stays durable
    against a crash or SIGKILL of the process (the log is in the OS cache); only an OS crash or power loss can
    lose the last few trials (never corrupt the file), and a resumed run re-evaluates them. ``FULL`` fsync'd
    every state change, two per trial: about 13 ms of a 60 ms trial on small models, for protection against
    a failure that costs a few trials to redo.

    >>> store = SQLiteStore(":memory:")
    >>> trial = store.create_trial("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", seed=1)
    >>> store.finish_trial(trial.id, 0.5, {"accuracy": 0.5}, {"params": 10}).state.value
    'finished'
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._version()
            if version in _COLUMNS_OF:
                self._migrate(version)
            elif version not in (None, SCHEMA_VERSION):
                raise StoreError(
                    f"{self.path}: store schema version {version}, this nasforge reads {SCHEMA_VERSION}; "
                    "upgrade nasforge to open it"
                )
            self._db.executescript(_SCHEMA)
            if version is None:
                self.set_meta("schema_version", SCHEMA_VERSION)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _ENVIRONMENT_ERRORS:
                raise StoreError(f"{self.path}: not a readable nasforge store ({exc})") from None
            # the file may be fine: the folder or the disk refuses (SQLite writes even to open a WAL store)
            raise StoreError(f"{self.path}: cannot open it ({exc}); the run directory must be writable") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a readable nasforge store ({exc})") from None

    def _version(self) -> int | None:
        has_meta = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        return self.get_meta("schema_version") if has_meta else None

    def _migrate(self, version: int) -> None:
        """Version ``version`` -> this one in one transaction: SQLite cannot widen a CHECK constraint, so the table
        is rebuilt and the old rows (the columns that version had) copied over.

        The version is read again under the write lock: readers open a run without its lock, so two of them can
        both find an old store, and the second to get the write lock must not rebuild the table again from the old
        columns (a resumed search may have written curves and parents in between)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        if self._version() != version:
            db.execute("COMMIT")
            return
        columns = _COLUMNS_OF[version]
        try:
            db.execute("DROP VIEW IF EXISTS trials_flat")
            db.execute("ALTER TABLE trials RENAME TO trials_old")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"INSERT INTO trials ({columns}) SELECT {columns} FROM trials_old")
            db.execute("DROP TABLE trials_old")
            self._order_ended()
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (json.dumps(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except sqlite3.Error:
            db.execute("ROLLBACK")
            raise

    def _order_ended(self) -> None:
        """Number the ended trials of a store older than the ``ended`` column by their end time, ties by id: the
        order their results were told (unless the wall clock stepped back), the closest record such a store has."""
        ended = self._db.execute("SELECT id FROM trials WHERE finished_at IS NOT NULL ORDER BY finished_at, id")
        self._db.executemany("UPDATE trials SET ended = ? WHERE id = ?", [(n, i) for n, (i,) in enumerate(ended, 1)])

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(sql, params)
            self._db.execute("COMMIT")
            return cursor
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"{self.path}: write failed ({exc}); what was stored before is kept") from None

    def set_meta(self, key: str, value: Any) -> None:
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def create_trial(self, arch: str, seed: int, parent: int | None = None, repeat_of: int | None = None) -> Trial:
        now = time.time()
        cursor = self._write(
            "INSERT INTO trials (arch, status, seed, started_at, parent, repeat_of) VALUES (?, 'running', ?, ?, ?, ?)",
            (arch, seed, now, parent, repeat_of),
        )
        return self._trial(int(cursor.lastrowid or 0))

    def finish_trial(
        self,
        trial_id: int,
        score: float,
        metrics: Mapping[str, float],
        costs: Mapping[str, float],
        elapsed: float | None = None,
        curve: Sequence[Mapping[str, float]] = (),
        pruned: str | None = None,
    ) -> Trial:
        self._write(
            "UPDATE trials SET status = ?, score = ?, metrics = ?, costs = ?, finished_at = ?, elapsed = ?, "
            f"curve = ?, error = ?, {_ENDED} WHERE id = ?",
            (
                "finished" if pruned is None else "pruned",
                score,
                _finite(metrics),
                _finite(costs),
                time.time(),
                elapsed,
                _curve(curve),
                pruned,
                trial_id,
            ),
        )
        return self._trial(trial_id)

    def fail_trial(
        self,
        trial_id: int,
        error: str,
        costs: Mapping[str, float] | None = None,
        elapsed: float | None = None,
        curve: Sequence[Mapping[str, float]] = (),
        state: TrialState = TrialState.FAILED,
    ) -> Trial:
        self._write(
            f"UPDATE trials SET status = ?, error = ?, costs = ?, finished_at = ?, elapsed = ?, curve = ?, {_ENDED} "
            "WHERE id = ?",
            (state.value, error, _finite(costs or {}), time.time(), elapsed, _curve(curve), trial_id),
        )
        return self._trial(trial_id)

    def interrupt_running(self) -> int:
        cursor = self._write(
            "UPDATE trials SET status = 'interrupted', error = 'the process stopped before this trial finished' "
            "WHERE status = 'running'",
            (),
        )
        return cursor.rowcount

    def trials(self, states: tuple[TrialState, ...] | None = None) -> list[Trial]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM trials ORDER BY id").fetchall()
        found = [self._from_row(row) for row in rows]
        return found if states is None else [t for t in found if t.state in states]

    def _trial(self, trial_id: int) -> Trial:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no trial with id {trial_id}")
        return self._from_row(row)

    @staticmethod
    def _from_row(row: tuple[Any, ...]) -> Trial:
        def floats(values: dict[str, Any]) -> dict[str, float]:
            return {k: (math.nan if v is None else float(v)) for k, v in values.items()}

        return Trial(
            id=row[0],
            arch=row[1],
            state=TrialState(row[2]),
            seed=row[3],
            score=row[4],
            metrics=floats(json.loads(row[5])),
            costs=floats(json.loads(row[6])),
            started_at=row[7],
            finished_at=row[8],
            elapsed=row[9],
            error=row[10],
            curve=tuple(floats(point) for point in json.loads(row[11])),
            parent=row[12],
            repeat_of=row[13],
            ended=row[14],
        )

    def close(self) -> None:
        self._db.close()
