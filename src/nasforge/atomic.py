"""Files of a run written whole or not at all: a reader (a resume, a browser mid-run) never finds half of one."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasforge.exceptions import cannot_write

__all__ = ["torch_bytes", "write_atomic"]


def write_atomic(path: Path, write: Callable[[str], Any]) -> Any:
    """Run ``write(tmp)`` on a temporary file next to ``path``, then rename it over ``path``, and return what
    ``write`` returned. A file system that refuses (full, read-only) raises one line
    (:func:`~nasforge.exceptions.cannot_write`), and the half-written temporary file goes; a SIGKILL mid-write
    leaves it behind under a name starting with a dot, never under ``path``."""
    tmp = str(path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"))
    try:
        Path(tmp).touch(exist_ok=False)  # with the mode a plain open gives (the umask's), unlike mkstemp's 0600
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        result = write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return result


def torch_bytes(obj: Any) -> bytes:
    """``obj`` as ``torch.save`` writes it, in memory: written by :func:`write_atomic` with plain file I/O, a full
    disk is then an ``OSError`` with its errno (torch's own writer reports it as a bare RuntimeError)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()
