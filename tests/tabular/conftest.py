"""Where the benchmark tests find their tables: the tiny asset always, the shared NB201 tables if present."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from nasforge.tabular import NB201Table

ASSETS = Path(__file__).parents[1] / "assets"
TINY = ASSETS / "nb201_tiny.csv"
MISSING = 10
"""Architectures a partial table lacks: the first of the space's canonical order, an unshuffled grid's first asks."""
WEIGHTS = {"none": -6.0, "skip_connect": 1.0, "nor_conv_1x1": 2.5, "nor_conv_3x3": 4.0, "avg_pool_3x3": 0.0}


@pytest.fixture
def tiny() -> Path:
    return TINY


@pytest.fixture
def complete_table(tmp_path: Path) -> Path:
    """Every 3-node cell (125 rows), synthetic accuracies: a complete space for end-to-end harness runs."""
    ops = list(WEIGHTS)
    lines = ["index,arch,toy_valid,toy_test"]
    for n, (a, b, c) in enumerate(itertools.product(ops, repeat=3)):
        valid = 50 + WEIGHTS[a] + 1.5 * WEIGHTS[b] + 2 * WEIGHTS[c] + (n % 7) * 0.1
        lines.append(f"{n},|{a}~0|+|{b}~0|{c}~1|,{valid:.2f},{valid + 3 - (n % 5) * 0.2:.2f}")
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def fidelity_tables(tmp_path: Path) -> tuple[Path, Path]:
    """Two fidelities of every 3-node cell: a 10-epoch table and a 100-epoch one that ranks differently."""
    ops = list(WEIGHTS)
    low, high = ["index,arch,toy_valid,toy_test"], ["index,arch,toy_valid,toy_test"]
    for n, (a, b, c) in enumerate(itertools.product(ops, repeat=3)):
        arch = f"|{a}~0|+|{b}~0|{c}~1|"
        quick = 40 + WEIGHTS[a] + 1.5 * WEIGHTS[b] + 2 * WEIGHTS[c] + (n % 7) * 0.1
        full = quick + 10 + (n % 11) * 0.4  # more training helps every cell, some more than others
        low.append(f"{n},{arch},{quick:.2f},{quick + 1:.2f}")
        high.append(f"{n},{arch},{full:.2f},{full + 2 - (n % 5) * 0.3:.2f}")
    paths = tmp_path / "toy_10ep.csv", tmp_path / "toy_100ep.csv"
    for path, lines in zip(paths, (low, high), strict=True):
        path.write_text("\n".join(lines) + "\n")
    return paths


@pytest.fixture
def without_first(tmp_path: Path) -> Callable[[Path], Path]:
    """Writes a copy of a toy table without its first ``MISSING`` architectures (a partial table)."""

    def write(path: Path) -> Path:
        table = NB201Table(path)
        first = set(list(table.space.enumerate())[:MISSING])
        lines = path.read_text().splitlines()
        kept = [line for arch, line in zip(table.archs, lines[1:], strict=True) if arch not in first]
        out = tmp_path / f"partial_{path.name}"
        out.write_text("\n".join([lines[0], *kept]) + "\n")
        return out

    return write


@pytest.fixture
def partial_table(complete_table: Path, without_first: Callable[[Path], Path]) -> Path:
    """The complete toy table without its first ``MISSING`` architectures."""
    return without_first(complete_table)
