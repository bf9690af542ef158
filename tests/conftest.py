"""Fixtures shared across test packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasforge.tabular import default_nb201_dir


@pytest.fixture(scope="session")
def nb201_12ep() -> Path:
    """The shared NAS-Bench-201 12-epoch table; tests that need it skip with the reason when it is absent."""
    path = default_nb201_dir() / "nb201_12ep.csv.gz"
    if not path.is_file():
        pytest.skip(f"NAS-Bench-201 table not found at {path} (set NASFORGE_NB201_DIR to its folder)")
    return path
