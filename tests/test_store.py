from __future__ import annotations

import math
import sqlite3

import pytest

from nasforge.exceptions import StoreError
from nasforge.store import SCHEMA_VERSION, SQLiteStore
from nasforge.trial import TrialState

ARCH = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_trial_lifecycle_survives_reopening(tmp_path):
    path = tmp_path / "store.sqlite"
    store = SQLiteStore(path)
    a = store.create_trial(ARCH, seed=11)
    b = store.create_trial(ARCH.replace("none~2", "skip_connect~2"), seed=12)
    c = store.create_trial(ARCH.replace("none~1|+", "nor_conv_1x1~1|+"), seed=13)
    store.finish_trial(a.id, 0.9, {"accuracy": 0.9, "loss": 0.3}, {"params": 100, "flops": 2000}, elapsed=4.0)
    store.fail_trial(b.id, "RuntimeError: out of memory", elapsed=5.0)
    store.close()

    store = SQLiteStore(path)
    assert store.interrupt_running() == 1
    trials = store.trials()
    assert [t.state for t in trials] == [TrialState.FINISHED, TrialState.FAILED, TrialState.INTERRUPTED]
    assert trials[0].metrics == {"accuracy": 0.9, "loss": 0.3} and trials[0].costs["params"] == 100
    assert trials[0].seed == 11 and trials[0].elapsed == 4.0 and trials[1].error.startswith("RuntimeError")
    assert trials[2].id == c.id
    assert [t.id for t in store.trials(states=(TrialState.FINISHED,))] == [a.id]


def test_plain_sqlite3_reads_a_run(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    t = store.create_trial(ARCH, seed=1)
    store.finish_trial(t.id, 0.5, {"accuracy": 0.5, "f1": 0.4, "loss": 1.0}, {"params": 7})
    store.close()
    db = sqlite3.connect(tmp_path / "s.sqlite")
    assert db.execute("SELECT id, arch, status FROM trials").fetchall() == [(1, ARCH, "finished")]
    assert db.execute("SELECT accuracy, f1, params FROM trials_flat").fetchone() == (0.5, 0.4, 7)


def test_non_finite_metrics_are_stored_as_null(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    t = store.create_trial(ARCH, seed=1)
    store.finish_trial(t.id, 0.1, {"accuracy": 0.1, "loss": float("nan")}, {})
    assert math.isnan(store.trials()[0].metrics["loss"])


def test_meta_round_trips_json(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.set_meta("config", {"name": "x", "budget": {"trials": 3}})
    assert store.get_meta("config") == {"name": "x", "budget": {"trials": 3}}
    assert store.get_meta("missing", 5) == 5


def test_garbage_file_is_a_store_error(tmp_path):
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a readable nasforge store"):
        SQLiteStore(path)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "store.sqlite"
    SQLiteStore(path).set_meta("schema_version", 99)
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore(path)


def written_by_an_older_nasforge(path, schema: str):
    """``path``, a store file made by ``schema`` (an older version's tables and rows)."""
    db = sqlite3.connect(path)
    db.executescript(schema)
    db.close()
    return path


V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, arch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    seed INTEGER NOT NULL, score REAL, metrics TEXT NOT NULL DEFAULT '{}', costs TEXT NOT NULL DEFAULT '{}',
    started_at REAL, finished_at REAL, elapsed REAL, error TEXT
);
CREATE VIEW trials_flat AS SELECT id, arch, status, score FROM trials;
INSERT INTO meta VALUES ('schema_version', '1'), ('search', '{"seed": 3}');
INSERT INTO trials (arch, status, seed, score, metrics, elapsed)
    VALUES ('a', 'finished', 1, 0.9, '{"accuracy": 0.9}', 2);
INSERT INTO trials (arch, status, seed, error) VALUES ('b', 'failed', 2, 'boom');
"""


def test_a_version_1_store_is_migrated_on_open_and_keeps_every_trial(tmp_path):
    path = written_by_an_older_nasforge(tmp_path / "store.sqlite", V1_SCHEMA)
    store = SQLiteStore(path)
    assert store.get_meta("schema_version") == SCHEMA_VERSION and store.get_meta("search") == {"seed": 3}
    a, b = store.trials()
    assert (a.state, a.metrics, a.elapsed, a.curve) == (TrialState.FINISHED, {"accuracy": 0.9}, 2.0, ())
    assert (b.state, b.error) == (TrialState.FAILED, "boom")
    c = store.create_trial("c", seed=3)  # the new status and column work on the migrated table
    store.finish_trial(c.id, 0.5, {"accuracy": 0.5}, {}, curve=[{"epoch": 1, "accuracy": 0.5}], pruned="stopped")
    store.close()
    reopened = SQLiteStore(path)
    assert reopened.trials()[2].state is TrialState.PRUNED and reopened.trials()[2].curve[0]["epoch"] == 1
    view = sqlite3.connect(path).execute("SELECT count(*) FROM trials_flat").fetchone()
    assert view == (3,)


def test_a_migration_decided_on_a_stale_version_leaves_the_migrated_store_alone(tmp_path):
    """Two readers open an old run at once: the second migrates after the first, and a trial written between."""
    path = written_by_an_older_nasforge(tmp_path / "store.sqlite", V1_SCHEMA)
    first, second = SQLiteStore(path), SQLiteStore(path)
    c = first.create_trial("c", seed=3, parent=1)
    first.finish_trial(c.id, 0.5, {"accuracy": 0.5}, {}, curve=[{"epoch": 1, "accuracy": 0.5}])
    second._migrate(1)  # what the second reader does when it read version 1 before the first migrated
    trial = SQLiteStore(path).trials()[2]
    assert (trial.parent, trial.curve) == (1, ({"epoch": 1.0, "accuracy": 0.5},))


V2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, arch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'pruned', 'failed', 'interrupted')),
    seed INTEGER NOT NULL, score REAL, metrics TEXT NOT NULL DEFAULT '{}', costs TEXT NOT NULL DEFAULT '{}',
    started_at REAL, finished_at REAL, elapsed REAL, error TEXT, curve TEXT NOT NULL DEFAULT '[]',
    parent INTEGER REFERENCES trials (id)
);
CREATE VIEW trials_flat AS SELECT id, arch, status, score FROM trials;
INSERT INTO meta VALUES ('schema_version', '2');
INSERT INTO trials (arch, status, seed, score, curve) VALUES ('a', 'finished', 1, 0.9, '[{"epoch": 1}]');
INSERT INTO trials (arch, status, seed, score, parent) VALUES ('a', 'pruned', 1, 0.8, 1);
"""


def test_a_version_2_store_is_migrated_and_takes_rejected_trials(tmp_path):
    path = written_by_an_older_nasforge(tmp_path / "store.sqlite", V2_SCHEMA)
    store = SQLiteStore(path)
    assert store.get_meta("schema_version") == SCHEMA_VERSION
    a, b = store.trials()
    assert (a.curve, b.state, b.parent) == (({"epoch": 1.0},), TrialState.PRUNED, 1)
    c = store.create_trial("c", seed=3)
    rejected = store.fail_trial(c.id, "params 9000 > max_params 5000", {"params": 9000}, state=TrialState.REJECTED)
    assert (rejected.state, rejected.costs) == (TrialState.REJECTED, {"params": 9000.0})


def test_a_version_3_store_is_migrated_and_takes_repeats(tmp_path):
    v3 = V2_SCHEMA.replace("'interrupted')", "'interrupted', 'rejected')")
    path = written_by_an_older_nasforge(
        tmp_path / "store.sqlite", v3.replace("'schema_version', '2'", "'schema_version', '3'")
    )
    store = SQLiteStore(path)
    assert store.get_meta("schema_version") == SCHEMA_VERSION
    a, b = store.trials()
    assert (a.repeat_of, b.parent) == (None, 1)
    repeat = store.create_trial("a", seed=7, repeat_of=a.id)
    assert (repeat.repeat_of, repeat.state, repeat.seed) == (a.id, TrialState.RUNNING, 7)
    assert sqlite3.connect(path).execute("SELECT repeat_of FROM trials_flat WHERE id = 3").fetchone() == (1,)


V4_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, arch TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'pruned', 'failed', 'interrupted', 'rejected')),
    seed INTEGER NOT NULL, score REAL, metrics TEXT NOT NULL DEFAULT '{}', costs TEXT NOT NULL DEFAULT '{}',
    started_at REAL, finished_at REAL, elapsed REAL, error TEXT, curve TEXT NOT NULL DEFAULT '[]',
    parent INTEGER REFERENCES trials (id), repeat_of INTEGER REFERENCES trials (id)
);
INSERT INTO meta VALUES ('schema_version', '4');
INSERT INTO trials (arch, status, seed, finished_at) VALUES ('a', 'finished', 1, 30.0);
INSERT INTO trials (arch, status, seed, finished_at) VALUES ('b', 'interrupted', 1, NULL);
INSERT INTO trials (arch, status, seed, finished_at) VALUES ('c', 'failed', 1, 10.0);
INSERT INTO trials (arch, status, seed, finished_at) VALUES ('d', 'finished', 1, 30.0);
"""


def test_a_version_4_store_takes_the_order_its_trials_ended_from_their_end_times(tmp_path):
    store = SQLiteStore(written_by_an_older_nasforge(tmp_path / "store.sqlite", V4_SCHEMA))
    # equal end times keep the start order; a trial that never ended has no place
    assert [(t.arch, t.ended) for t in store.trials()] == [("a", 2), ("b", None), ("c", 1), ("d", 3)]
    e = store.create_trial("e", seed=1)
    assert store.finish_trial(e.id, 0.5, {}, {}).ended == 4
    assert store.trials()[1].state is TrialState.INTERRUPTED
