"""Reports of a run: plots now, a self-contained HTML report later."""

from nasforge.report._plots import plot_curves, plot_pareto, plot_progress

__all__ = ["plot_curves", "plot_pareto", "plot_progress"]
