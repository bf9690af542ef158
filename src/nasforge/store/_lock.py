"""One writer per run: an exclusive lock on ``<run>/lock`` held while a search, resume or export writes the run.

The lock is ``flock(2)`` on an open file, so the kernel releases it when its process ends, however it ends: a
SIGKILLed search leaves no stale lock for the next ``resume`` to detect or clean up. The file itself stays and
holds who took the lock (pid, host, since when, the command), which is what a refused second writer is told.
Readers (``nasforge show``, ``pareto``) take no lock: SQLite's WAL journal lets them read a run that is being
written without blocking its writer.

The file descriptor is not inherited by worker processes started with ``spawn`` or ``exec`` (Python opens files
non-inheritable), so workers that outlive a killed driver for a moment do not hold the run.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from nasforge.exceptions import StoreError, cannot_write

__all__ = ["LOCK_FILE", "RunLock"]

LOCK_FILE = "lock"


class RunLock:
    """``with RunLock(run_dir):`` holds ``run_dir`` for this process, or raises :class:`StoreError` naming the
    process that holds it.

    >>> import tempfile
    >>> with RunLock(tempfile.mkdtemp(), "nasforge search") as lock:
    ...     lock.holder()["pid"] == os.getpid()
    True
    """

    def __init__(self, run_dir: str | Path, command: str = "a search") -> None:
        self.path = Path(run_dir) / LOCK_FILE
        self.command = command
        self._file: IO[str] | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cannot_write(self.path.parent, exc) from None
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        except OSError as exc:
            raise cannot_write(self.path, exc) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            handle.close()
            raise StoreError(f"{self.path.parent}: in use by {_who(holder)}; wait for it to end or stop it") from None
        handle.seek(0)
        handle.truncate()
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "command": self.command}
        handle.write(json.dumps(record))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the run back (closing the file releases the lock); a no-op when not held."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def holder(self) -> dict[str, Any]:
        """Who took the lock last (empty when unknown): ``pid``, ``host``, ``since`` (epoch seconds), ``command``."""
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8") or "{}"))
        except (OSError, ValueError):
            return {}


def _who(holder: dict[str, Any]) -> str:
    if not holder:
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("since", 0)))
    return f"{holder.get('command', 'a search')} (pid {holder.get('pid')} on {holder.get('host')}, since {since})"
