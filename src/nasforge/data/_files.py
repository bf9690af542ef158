"""User data from ``.npz`` and CSV files, and :func:`load`, which resolves a config's ``data:`` block.

Every problem is a :class:`DataError` with a one-line message that names the file, the column or the config
field, because these are the errors a user meets first and fixes by editing a file.
"""

from __future__ import annotations

import csv
import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nasforge.data._builtin import DATASETS
from nasforge.data._dataset import Dataset
from nasforge.exceptions import DataError

__all__ = ["load", "load_csv", "load_npz"]

_MISSING = {"", "na", "nan", "null", "none", "?"}


def encode_labels(values: Sequence[Any] | np.ndarray, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map raw labels to ids ``0..K-1`` keeping their names; numbers sort numerically, text alphabetically."""
    raw = np.asarray(values)
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)):
            raise DataError(f"{where}: labels have {int(np.count_nonzero(~np.isfinite(raw)))} missing values")
        if not np.all(raw == np.round(raw)):
            raise DataError(f"{where}: labels are not whole numbers; only classification targets are supported")
        raw = raw.astype(np.int64)
    if raw.dtype.kind in "iub":
        names, y = np.unique(raw, return_inverse=True)
        return y.astype(np.int64), tuple(str(v) for v in names)
    text = [str(v).strip() for v in raw.tolist()]
    missing = sum(t.lower() in _MISSING for t in text)
    if missing:
        raise DataError(f"{where}: labels have {missing} missing values")
    numbers = [_number(t) for t in text]
    if all(v is not None and v == int(v) for v in numbers):
        return encode_labels(np.asarray(numbers, dtype=np.int64), where)
    labels = sorted(set(text))
    index = {name: i for i, name in enumerate(labels)}
    return np.asarray([index[t] for t in text], dtype=np.int64), tuple(labels)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_npz(path: str | Path) -> Dataset:
    """Arrays ``X`` and ``y`` from an ``.npz``; the shape of ``X`` says flat, sequence or image input."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.path: file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path.name}: not a readable .npz file ({exc})") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"{path.name}: missing array {key!r} (found: {', '.join(sorted(arrays)) or 'none'})")
    X, raw_y = arrays["X"], arrays["y"]
    if X.dtype.kind not in "fiub":
        raise DataError(f"{path.name}: X must be numeric, got dtype {X.dtype}")
    if raw_y.ndim != 1 or len(raw_y) != len(X):
        raise DataError(f"{path.name}: y must be 1-d with one label per sample of X ({len(X)}), got {raw_y.shape}")
    nan = int(np.count_nonzero(~np.isfinite(X)))
    if nan:
        raise DataError(f"{path.name}: X has {nan} NaN or infinite values")
    y, classes = encode_labels(raw_y, f"{path.name}: y")
    return Dataset(path.stem, X, y, classes)


def load_csv(path: str | Path, target: str) -> Dataset:
    """A CSV with a header row: column ``target`` holds the labels, every other column a numeric feature."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.path: file not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if len(rows) < 2:
        raise DataError(f"{path.name}: needs a header row and at least one data row")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise DataError(f"data.target: column {target!r} not in {path.name} (columns: {', '.join(header)})")
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path.name}: line {lineno} has {len(row)} fields, the header has {len(header)}")
    columns = list(zip(*rows[1:], strict=True))
    t = header.index(target)
    y, classes = encode_labels(columns[t], f"{path.name}: column {target!r}")
    features = [_feature(path.name, header[j], col) for j, col in enumerate(columns) if j != t]
    if not features:
        raise DataError(f"{path.name}: no feature columns besides the target {target!r}")
    return Dataset(path.stem, np.stack(features, axis=1), y, classes)


def _feature(file: str, name: str, values: Sequence[str]) -> np.ndarray:
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
                f"{file}: column {name!r} is not numeric (e.g. {text!r} on line {i + 2}); "
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
    target = spec.pop("target", None)
    if spec:
        raise DataError(f"data: unexpected option(s) {', '.join(sorted(spec))} for a file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if target is not None:
            raise DataError("data.target: only CSV files take a target column; an .npz holds arrays X and y")
        return load_npz(path)
    if suffix == ".csv":
        if target is None:
            raise DataError(f"data.target: name the label column of {path.name}")
        return load_csv(path, str(target))
    raise DataError(f"data.path: unsupported file type {path.suffix or '(none)'!r}; use .npz or .csv")


def _builtin(name: str, options: dict[str, Any]) -> Dataset:
    if name not in DATASETS:
        raise DataError(f"data.builtin: {DATASETS.unknown_message(name)}")
    factory = DATASETS.get(name)
    allowed = set(inspect.signature(factory).parameters)
    unknown = sorted(set(options) - allowed)
    if unknown:
        hint = f" (options: {', '.join(sorted(allowed))})" if allowed else " (it takes no options)"
        raise DataError(f"data: unexpected option(s) {', '.join(unknown)} for builtin {name!r}{hint}")
    return factory(**options)
