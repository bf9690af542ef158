"""Where the benchmark tests find their tables: the tiny asset always, the shared NB201 tables if present."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

ASSETS = Path(__file__).parents[1] / "assets"
TINY = ASSETS / "nb201_tiny.csv"
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
