"""User data from ``.npz`` and CSV files, and :func:`load`, which resolves a config's ``data:`` block.

Every problem is a :class:`DataError` with a one-line message that names the file, the column or the config
field, because these are the errors a user meets first and fixes by editing a file.

The task: regression when declared (``task: regression``) or when the target holds numbers that are not all
whole; classification otherwise (whole numbers are class ids: declare a count or a year a regression target).
The input: a CSV's ``text`` column is raw text; an ``.npz`` integer ``X`` of shape ``(N, L)`` is token ids
when a ``vocab_size`` is declared (in the config, or as an array ``vocab_size`` in the file) and numeric
features when ``input: numeric`` says so; undeclared, it is refused, because either reading is plausible.
"""

from __future__ import annotations

import csv
import gzip
import inspect
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.data._builtin import DATASETS
from nasforge.data._dataset import TASKS, Dataset, Task
from nasforge.exceptions import DataError
from nasforge.registry import shown

__all__ = ["load", "load_csv", "load_npz"]

_MISSING = {"", "na", "nan", "null", "none", "?"}
_ZIP_MAGIC = b"PK\x03\x04"
"""How every zip file, and so every ``.npz``, begins."""
_FILE_OPTIONS = ("target", "text", "group", "task", "tokenizer", "vocab_size", "input")
_EXACT = 2.0**53
"""Below this, float64 holds every whole number exactly. Whole-number labels this large or larger are kept as their
text: as numbers, two of them could round to one id (``4e280`` does not even fit int64), and two classes merge."""


def _target(
    values: Sequence[Any] | np.ndarray, task: str | None, where: str
) -> tuple[np.ndarray, tuple[str, ...], Task]:
    """Targets, class names and the task (see the module docstring for how an undeclared task is decided)."""
    if task is not None and task not in TASKS:
        raise DataError(f"data.task: must be classification or regression, got {task!r}")
    raw = np.asarray(values)
    numbers = raw.astype(np.float64) if raw.dtype.kind in "fiub" else None
    if numbers is not None and not np.all(np.isfinite(numbers)):  # else a NaN label would make it a regression
        raise DataError(f"{where} has {int(np.count_nonzero(~np.isfinite(numbers)))} NaN or infinite values")
    if numbers is None and raw.dtype.kind in "OUS":
        parsed = [_number(str(v).strip()) for v in raw.tolist()]
        if all(v is not None for v in parsed):
            numbers = np.asarray(parsed, dtype=np.float64)
    whole = numbers is not None and bool(np.all(np.isfinite(numbers) & (numbers == np.round(numbers))))
    if task == "regression" or (task is None and numbers is not None and not whole):
        if numbers is None:
            raise DataError(f"{where}: a regression target must be numeric (task: regression)")
        return numbers, (), "regression"
    y, classes = encode_labels(raw, where)
    return y, classes, "classification"


def encode_labels(values: Sequence[Any] | np.ndarray, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map raw labels to ids ``0..K-1`` keeping their names; numbers sort numerically, text alphabetically (and
    whole numbers from ``_EXACT`` up are kept as text, so that no two of them merge)."""
    raw = np.asarray(values)
    if raw.dtype.kind == "f":  # finite: _target refused NaN and infinite values
        if not np.all(raw == np.round(raw)):
            raise DataError(f"{where}: labels are not whole numbers; for real values set task: regression")
        if np.all(np.abs(raw) < _EXACT):
            raw = raw.astype(np.int64)
    if raw.dtype.kind in "iub":
        names, y = np.unique(raw, return_inverse=True)
        return y.astype(np.int64), tuple(str(v) for v in names)
    text = [str(v).strip() for v in raw.tolist()]
    missing = sum(t.lower() in _MISSING for t in text)
    if missing:
        raise DataError(f"{where}: labels have {missing} missing values")
    numbers = [_number(t) for t in text]
    if all(v is not None and v == int(v) and abs(v) < _EXACT for v in numbers):
        return encode_labels(np.asarray(numbers, dtype=np.int64), where)
    labels = sorted(set(text))
    index = {name: i for i, name in enumerate(labels)}
    return np.asarray([index[t] for t in text], dtype=np.int64), tuple(labels)


def _stem(path: Path) -> str:
    """The file's name without its extensions: ``tickets`` for ``tickets.csv.gz``."""
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if name.lower().endswith((".csv", ".npz")) else path.stem


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_npz(
    path: str | Path,
    task: str | None = None,
    vocab_size: int | None = None,
    input: str | None = None,
) -> Dataset:
    """Arrays ``X`` and ``y`` (and optionally ``groups``, ``vocab_size``) from an ``.npz``; the shape of ``X``
    says flat, sequence or image input, and an integer ``(N, L)`` ``X`` needs its kind declared (module
    docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.path: file not found: {path}")
    arrays = _read_npz(path)
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"{path.name}: missing array {key!r} (found: {', '.join(sorted(arrays)) or 'none'})")
    X, raw_y = arrays["X"], arrays["y"]
    if X.dtype.kind not in "fiub":
        raise DataError(f"{path.name}: X must be numeric, got dtype {X.dtype}")
    if X.ndim == 0:  # before len(X), which a scalar does not have; Dataset checks the other shapes
        raise DataError(f"{path.name}: X must be (N,F), (N,C,L) or (N,C,H,W); got a single value (0 dimensions)")
    if raw_y.ndim != 1 or len(raw_y) != len(X):
        raise DataError(f"{path.name}: y must be 1-d with one label per sample of X ({len(X)}), got {raw_y.shape}")
    nan = int(np.count_nonzero(~np.isfinite(X)))
    if nan:
        raise DataError(f"{path.name}: X has {nan} NaN or infinite values")
    vocab_size = _vocab_size(path.name, X, vocab_size, arrays.get("vocab_size"), input)
    y, classes, task = _target(raw_y, task, f"{path.name}: y")
    groups = arrays.get("groups")
    return Dataset(_stem(path), X, y, classes, task=task, vocab_size=vocab_size, groups=groups)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive. numpy reads a file without the zip header as a pickle, and refuses it with a
    message about pickles, so a CSV or text file renamed ``.npz`` is recognised here first; a corrupt or
    truncated archive raises zip and zlib errors numpy does not wrap (and ``NotImplementedError`` for a
    compression method byte that corruption changed)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_ZIP_MAGIC))
            if head == _ZIP_MAGIC:
                handle.seek(0)
                with np.load(handle, allow_pickle=False) as archive:
                    return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, NotImplementedError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path.name}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    what = "an .npz is a zip archive of arrays X and y, as numpy.savez(path, X=X, y=y) writes"
    if not head:
        raise DataError(f"{path.name}: the file is empty (0 bytes); {what}")
    raise DataError(f"{path.name}: not an .npz archive (it starts with {head!r}, not with a zip header); {what}")


def _vocab_size(file: str, X: np.ndarray, given: Any, stored: np.ndarray | None, input: str | None) -> int | None:
    """The declared vocabulary size of token ids, or None for numeric input; refuses an undeclared int (N, L)."""
    if input not in (None, "tokens", "numeric"):
        raise DataError(f"data.input: must be tokens or numeric, got {input!r}")
    if given is None and stored is not None:
        given = stored.item() if stored.size == 1 else stored
    if input == "numeric":
        if given is not None:
            raise DataError("data.vocab_size: not with input: numeric (token ids have a vocabulary, features do not)")
        return None
    if given is not None:
        if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 2:
            raise DataError(f"data.vocab_size: must be an integer >= 2, got {given!r}")
        return int(given)
    if input == "tokens":
        raise DataError(f"data.vocab_size: token ids in {file} need their vocabulary size (largest id + 1)")
    if X.ndim == 2 and X.dtype.kind in "iu":
        raise DataError(
            f"{file}: X is an integer (N, L) array, which may be token ids or numeric features; "
            "declare data.vocab_size (tokens) or data.input: numeric"
        )
    return None


def load_csv(
    path: str | Path,
    target: str,
    text: str | None = None,
    group: str | Sequence[str] | None = None,
    task: str | None = None,
    tokenizer: Mapping[str, Any] | None = None,
) -> Dataset:
    """A CSV with a header row: column ``target`` holds the targets; the input is the ``text`` column (raw text)
    or else every other column as a numeric feature. ``group`` names the column (or columns, together) whose
    value keeps rows in one part of the split; it is not a feature."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.path: file not found: {path}")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows: list[list[str]] = []
    lines: list[int] = []  # each row's line in the file, for messages: blank lines are skipped
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            start = 1
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(start)
                start = reader.line_num + 1  # where the next row starts (a quoted field may span lines)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as exc:  # EOF, zlib: a damaged .gz
        raise DataError(f"{path.name}: not a readable CSV file ({exc})") from None
    if len(rows) < 2:
        raise DataError(f"{path.name}: needs a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    twice = next((name for name, count in Counter(header).items() if count > 1), None)
    if twice is not None:  # else one column would silently replace the other
        raise DataError(f"{path.name}: column {twice!r} appears more than once in the header; rename or drop one")
    group_names = [group] if isinstance(group, str) else list(group or [])
    for field, name in [("target", target), ("text", text), *(("group", g) for g in group_names)]:
        if name is not None and name not in header:
            raise DataError(f"data.{field}: column {name!r} not in {path.name} (columns: {', '.join(header)})")
    for lineno, row in zip(lines[1:], rows[1:], strict=True):
        if len(row) != len(header):
            raise DataError(f"{path.name}: line {lineno} has {len(row)} fields, the header has {len(header)}")
    columns = dict(zip(header, zip(*rows[1:], strict=True), strict=True))
    y, classes, task = _target(columns[target], task, f"{path.name}: column {target!r}")
    groups = None
    if group_names:
        groups = np.asarray(["\x1f".join(parts) for parts in zip(*(columns[g] for g in group_names), strict=True)])
    if text is not None:
        if text == target:
            raise DataError(f"data.text: the text column {text!r} is also the target")
        return Dataset(
            _stem(path),
            np.asarray(columns[text], dtype=object),
            y,
            classes,
            task=task,
            groups=groups,
            tokenizer=tokenizer,
        )
    if tokenizer is not None:
        raise DataError("data.tokenizer: only for a text column (data.text)")
    skip = {target, *group_names}
    features = [_feature(path.name, name, col, lines[1:]) for name, col in columns.items() if name not in skip]
    if not features:
        raise DataError(f"{path.name}: no feature columns besides the target {target!r}")
    return Dataset(_stem(path), np.stack(features, axis=1), y, classes, task=task, groups=groups)


def _feature(file: str, name: str, values: Sequence[str], lines: Sequence[int]) -> np.ndarray:
    """Column ``name`` as floats; ``lines`` are the values' line numbers in the file, for the message."""
    out = np.empty(len(values), dtype=np.float64)
    missing = 0
    for i, text in enumerate(values):
        text = text.strip()
        if text.lower() in _MISSING:
            missing += 1
            out[i] = np.nan
            continue
        try:
            out[i] = float(text)
        except ValueError:
            raise DataError(
                f"{file}: column {name!r} is not numeric (e.g. {text!r} on line {lines[i]}); "
                "encode it as numbers or drop it"
            ) from None
    if missing or not np.all(np.isfinite(out)):
        count = int(np.count_nonzero(~np.isfinite(out)))
        raise DataError(f"{file}: column {name!r} has {count} missing or non-finite values")
    return out


def load(spec: Mapping[str, Any]) -> Dataset:
    """Resolve a config's ``data:`` block: ``{builtin: digits}``, ``{path: x.npz}`` or ``{path: x.csv, target: y}``.

    Options besides ``builtin`` are passed to the built-in loader (``{builtin: synthetic, kind: sequence}``).
    The dataset keeps ``spec`` as its ``source`` (a path made absolute): worker machines can then load it
    themselves (``executor: {data: load}``).
    """
    source = dict(spec)
    if "path" in source:
        source["path"] = str(Path(str(source["path"])).resolve())
    return replace(_load(dict(spec)), source=source)


def _load(spec: dict[str, Any]) -> Dataset:
    if ("builtin" in spec) == ("path" in spec):
        raise DataError("data: give exactly one of 'builtin' (e.g. digits) or 'path' (a .npz or .csv file)")
    if "builtin" in spec:
        return _builtin(str(spec.pop("builtin")), spec)
    path = Path(str(spec.pop("path")))
    unknown = _unknown(spec, _FILE_OPTIONS)
    if unknown:
        raise DataError(f"data: unexpected option(s) {unknown} for a file (allowed: {', '.join(_FILE_OPTIONS)})")
    suffix = ".csv" if path.name.lower().endswith(".csv.gz") else path.suffix.lower()
    if suffix == ".npz":
        wrong = sorted(set(spec) & {"target", "text", "group", "tokenizer"})
        if wrong:
            raise DataError(
                f"data.{wrong[0]}: only CSV files name columns; an .npz holds arrays X, y and optionally groups"
            )
        return load_npz(path, **spec)
    if suffix == ".csv":
        if "target" not in spec:
            raise DataError(f"data.target: name the label column of {path.name}")
        wrong = sorted(set(spec) & {"vocab_size", "input"})
        if wrong:
            raise DataError(f"data.{wrong[0]}: only for .npz token ids; a CSV's text column is tokenised by nasforge")
        return load_csv(path, **spec)
    raise DataError(f"data.path: unsupported file type {path.suffix or '(none)'!r}; use .npz, .csv or .csv.gz")


def _builtin(name: str, options: dict[str, Any]) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"data.builtin: {DATASETS.unknown_message(name)}")
    factory = DATASETS.get(name)
    allowed = list(inspect.signature(factory).parameters)
    unknown = _unknown(options, allowed)
    if unknown:
        hint = f" (options: {', '.join(sorted(allowed))})" if allowed else " (it takes no options)"
        raise DataError(f"data: unexpected option(s) {unknown} for builtin {name!r}{hint}")
    return factory(**options)


def _unknown(options: Mapping[Any, Any], allowed: Sequence[str]) -> str:
    """The options not in ``allowed``, as a message lists them: sorted as text (the Python API may pass keys that
    are not strings) and quoted where they are not plain words (a newline in a key would break the line)."""
    return ", ".join(shown(key) for key in sorted(set(options) - set(allowed), key=str))
