"""NAS-Bench-201 results tables: one row per cell architecture, ``<dataset>_valid`` / ``<dataset>_test`` columns.

The format (documented in ``shared/benchmarks/nb201/README.md``) is a CSV, optionally gzip'd, with an ``index``
column, an ``arch`` column holding the canonical NAS-Bench-201 string, and one ``<name>_valid`` /
``<name>_test`` pair of accuracies (%) per dataset. Rows are kept in numpy arrays and found through a dict
keyed by the parsed :class:`~nasforge.spaces.Cell`, so a query costs one hash lookup. The table itself does
not enforce the search protocol; :class:`~nasforge.evaluators.TabularEvaluator` does.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import math
import os
import zlib
from collections.abc import Hashable
from functools import lru_cache
from pathlib import Path

import numpy as np

from nasforge.exceptions import DataError, InvalidArchitecture
from nasforge.spaces import CellSpace

__all__ = ["NB201Table", "default_nb201_dir", "load_nb201", "read_columns", "read_latency"]

_REQUIRED = ("index", "arch")


def default_nb201_dir() -> Path:
    """Where the shared NB201 tables live: ``$NASFORGE_NB201_DIR`` or ``<repo>/../shared/benchmarks/nb201``."""
    env = os.environ.get("NASFORGE_NB201_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "benchmarks" / "nb201"


class NB201Table:
    """A results table of the NAS-Bench-201 cell space, read once into arrays.

    The cell space is the 4-node NB201 one unless the strings describe another size (or ``space`` is given).

    >>> table = NB201Table("tests/assets/nb201_tiny.csv")
    >>> table.datasets
    ('cifar10', 'cifar100')
    """

    def __init__(self, path: str | os.PathLike[str], space: CellSpace | None = None) -> None:
        self.path = Path(path)
        header, rows = _read_rows(self.path)
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise DataError(f"{self.path}: missing column(s) {', '.join(missing)} (found {', '.join(header)})")
        self.datasets = _datasets(self.path, header)
        col = {name: i for i, name in enumerate(header)}
        # the cell size follows the strings (NB201 is 4 nodes; smaller cells make complete test tables)
        self.space = space if space is not None else CellSpace(nodes=rows[0][col["arch"]].count("+") + 2)
        self.archs: list[Hashable] = []
        self._row: dict[Hashable, int] = {}
        values = np.empty((len(rows), 2 * len(self.datasets)), dtype=np.float64)
        for n, row in enumerate(rows):
            line = n + 2
            try:
                arch = self.space.from_string(row[col["arch"]])
            except InvalidArchitecture as exc:
                raise DataError(f"{self.path}:{line}: {exc}") from None
            if arch in self._row:
                raise DataError(f"{self.path}:{line}: architecture {row[col['arch']]} appears twice")
            self._row[arch] = n
            self.archs.append(arch)
            for k, ds in enumerate(self.datasets):
                values[n, 2 * k] = _number(self.path, line, f"{ds}_valid", row[col[f"{ds}_valid"]])
                values[n, 2 * k + 1] = _number(self.path, line, f"{ds}_test", row[col[f"{ds}_test"]])
        self._values = values
        self._has_test = True

    def __len__(self) -> int:
        return len(self.archs)

    def __contains__(self, arch: object) -> bool:
        return arch in self._row

    def row(self, arch: Hashable) -> int:
        """The row of ``arch`` (an architecture value or its string); the order the table was written in."""
        key = self.space.parse(arch)
        try:
            return self._row[key]
        except KeyError:
            raise DataError(f"{self.path}: no row for architecture {self.space.to_string(key)}") from None

    def check_dataset(self, dataset: str) -> int:
        """The column pair of ``dataset``; an unknown name is a :class:`DataError` listing the known ones."""
        if dataset not in self.datasets:
            raise DataError(
                f"{self.path}: no dataset {dataset!r} (columns {dataset}_valid/{dataset}_test); "
                f"has {', '.join(self.datasets)}"
            )
        return self.datasets.index(dataset)

    def valid(self, dataset: str) -> np.ndarray:
        """Every row's validation accuracy (%) of ``dataset``, in row order (a read-only view)."""
        return self._column(dataset, 0)

    def test(self, dataset: str) -> np.ndarray:
        """Every row's test accuracy (%) of ``dataset``; a search must not read this (see the evaluator)."""
        if not self._has_test:
            raise DataError(f"{self.path}: this copy of the table has no test columns (a search worker's copy)")
        return self._column(dataset, 1)

    def without_test(self) -> NB201Table:
        """A copy whose test columns are gone: what worker processes receive, so no search can read them."""
        clone = copy.copy(self)
        clone._values = self._values.copy()
        clone._values[:, 1::2] = np.nan
        clone._has_test = False
        return clone

    def best_valid_row(self, dataset: str) -> int:
        """The row a search that queried every architecture returns: highest validation, ties by row order."""
        return int(np.argmax(self.valid(dataset)))

    def oracle(self, dataset: str) -> float:
        """Test accuracy (%) of the best-validation architecture: the best a search can report."""
        return float(self.test(dataset)[self.best_valid_row(dataset)])

    def _column(self, dataset: str, offset: int) -> np.ndarray:
        view = self._values[:, 2 * self.check_dataset(dataset) + offset]
        view.flags.writeable = False
        return view


@lru_cache(maxsize=4)
def load_nb201(path: str) -> NB201Table:
    """A table loaded once per process (benchmark workers query the same file thousands of times)."""
    return NB201Table(path)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise DataError(f"{path}: no such table file")
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        header = [h.strip() for h in next(reader, [])]
        rows = []
        for row in reader:
            if row and len(row) != len(header):  # a short row would index past its end, a long one misalign
                raise DataError(f"{path}:{reader.line_num}: expected {len(header)} fields, got {len(row)}")
            rows += [row] if row else []
    except (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error) as exc:
        raise DataError(f"{path}: cannot read as a csv or csv.gz table ({exc})") from None
    if not header:
        raise DataError(f"{path}: empty table, expected a header 'index,arch,<name>_valid,<name>_test'")
    if not rows:
        raise DataError(f"{path}: the table has a header but no rows")
    return header, rows


def _datasets(path: Path, header: list[str]) -> tuple[str, ...]:
    valid = [h[: -len("_valid")] for h in header if h.endswith("_valid")]
    test = [h[: -len("_test")] for h in header if h.endswith("_test")]
    unpaired = sorted(set(valid) ^ set(test))
    if unpaired:
        raise DataError(f"{path}: dataset(s) {', '.join(unpaired)} need both a _valid and a _test column")
    if not valid:
        raise DataError(f"{path}: no '<name>_valid' and '<name>_test' columns in {', '.join(header)}")
    return tuple(valid)


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}:{line}: column {column} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise DataError(f"{path}:{line}: column {column} is not finite: {text!r}")
    return value


def read_columns(path: str | os.PathLike[str], table: NB201Table, suffix: str = "") -> dict[str, np.ndarray]:
    """The numeric columns (those ending in ``suffix``) of a csv(.gz) with an ``arch`` column, aligned to
    ``table``'s rows; every architecture of the table must have a row."""
    path = Path(path)
    header, rows = _read_rows(path)
    if "arch" not in header:
        raise DataError(f"{path}: no arch column (found {', '.join(header)})")
    names = [h for h in header if h not in _REQUIRED and h.endswith(suffix)]
    if not names:
        raise DataError(f"{path}: no '*{suffix}' columns in {', '.join(header)}")
    out = {name: np.full(len(table), np.nan) for name in names}
    col = {name: i for i, name in enumerate(header)}
    for n, row in enumerate(rows):
        try:
            at = table.row(row[col["arch"]])
        except (DataError, InvalidArchitecture) as exc:
            raise DataError(f"{path}:{n + 2}: {exc}") from None
        for name in names:
            out[name][at] = _number(path, n + 2, name, row[col[name]])
    missing = int(np.isnan(next(iter(out.values()))).sum())
    if missing:
        raise DataError(f"{path}: no values for {missing} of the table's {len(table)} architectures")
    return out


def read_latency(path: str | os.PathLike[str], table: NB201Table) -> dict[str, np.ndarray]:
    """Measured latency (ms) per device, aligned to ``table``'s rows: ``{"raspi4": array, "fpga": array}`` from
    a csv(.gz) with an ``arch`` column and ``<device>_latency_ms`` columns (``shared/benchmarks/hwnas/``)."""
    columns = read_columns(path, table, suffix="_latency_ms")
    return {name.removesuffix("_latency_ms"): values for name, values in columns.items()}
