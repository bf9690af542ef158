"""The examples in docstrings run: a docstring's ``>>>`` lines are a claim about the code, and one that is never
run goes stale in silence. Examples that need a run directory, a table or minutes say so with ``+SKIP``."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import nasforge

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.walk_packages(nasforge.__path__, "nasforge.") if m.name != "nasforge.__main__")
BENCHMARKS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py"))


def run_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed (printed above)"


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name files relative to the repository, as a reader runs them
    run_examples(importlib.import_module(name))


@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_examples(name, monkeypatch):
    # the scripts run from their own folder and import their siblings; importing one runs nothing (main is
    # behind ``__name__ == "__main__"``), and optuna or the tables are imported where a run needs them
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    run_examples(importlib.import_module(name))
