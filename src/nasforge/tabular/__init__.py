"""Tabular benchmarks: NAS-Bench-201 tables and the harness that runs strategies on them."""

from nasforge.tabular._costs import NB201_SKELETON, cell_costs, write_nb201_costs
from nasforge.tabular._fidelity import (
    FidelityRun,
    FidelitySetup,
    fidelity_setups,
    run_fidelity_benchmark,
    run_fidelity_search,
)
from nasforge.tabular._harness import (
    BUDGETS,
    checkpoints,
    curve_marks,
    resolve_strategies,
    run_benchmark,
    run_search,
)
from nasforge.tabular._nb201 import NB201Table, default_nb201_dir, load_nb201, read_columns, read_latency
from nasforge.tabular._pareto import cost_column, run_pareto_benchmark, run_pareto_search

__all__ = [
    "BUDGETS",
    "NB201_SKELETON",
    "FidelityRun",
    "FidelitySetup",
    "NB201Table",
    "cell_costs",
    "checkpoints",
    "cost_column",
    "curve_marks",
    "default_nb201_dir",
    "fidelity_setups",
    "load_nb201",
    "read_columns",
    "read_latency",
    "resolve_strategies",
    "run_benchmark",
    "run_fidelity_benchmark",
    "run_fidelity_search",
    "run_pareto_benchmark",
    "run_pareto_search",
    "run_search",
    "write_nb201_costs",
]
