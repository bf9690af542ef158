"""Reports of a run: a self-contained HTML report, its figures as PNGs, and runs compared."""

from nasforge.report._compare import compare_runs
from nasforge.report._html import REPORT_FILE, ReportCallback, write_report
from nasforge.report._plots import plot_curves, plot_pareto, plot_progress

__all__ = [
    "REPORT_FILE",
    "ReportCallback",
    "compare_runs",
    "plot_curves",
    "plot_pareto",
    "plot_progress",
    "write_report",
]
