"""Show benchmark results: a rich table of mean ± std per budget, and regret curves as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["markdown_table", "plot_regret", "render_table"]


def _budgets(result: dict[str, Any]) -> list[str]:
    return sorted({b for r in result["results"].values() for b in r}, key=int)


def _cell(per_budget: dict[str, Any], budget: str) -> str:
    return f"{per_budget[budget]['mean']:.2f} ± {per_budget[budget]['std']:.2f}" if budget in per_budget else "-"


def _regret(result: dict[str, Any], per_budget: dict[str, Any]) -> str:
    last = max(per_budget, key=int)
    return f"{result['oracle'] - per_budget[last]['mean']:.2f}" + (
        "" if last == _budgets(result)[-1] else f" (@{last})"
    )


def render_table(result: dict[str, Any]) -> Table:
    """Mean ± std of the returned architecture's test accuracy (%) per budget, and regret at the largest."""
    from rich.table import Table

    budgets = _budgets(result)
    seeds = max((c["seeds"] for r in result["results"].values() for c in r.values()), default=0)
    table = Table(
        title=f"NAS-Bench-201 {result['table']} {result['dataset']}: test accuracy (%) of the returned "
        f"architecture, {seeds} seeds; oracle {result['oracle']:.2f}"
    )
    table.add_column("strategy")
    for b in budgets:
        table.add_column(f"{b} queries", justify="right")
    table.add_column(f"regret@{budgets[-1]}", justify="right")
    for label, per_budget in result["results"].items():
        table.add_row(label, *[_cell(per_budget, b) for b in budgets], _regret(result, per_budget))
    return table


def markdown_table(result: dict[str, Any]) -> str:
    """The same table in Markdown, for ``docs/benchmarks.md``."""
    budgets = _budgets(result)
    lines = [
        "| strategy | " + " | ".join(f"{b} queries" for b in budgets) + f" | regret@{budgets[-1]} |",
        "|---|" + "---:|" * (len(budgets) + 1),
    ]
    for label, per_budget in result["results"].items():
        cells = [_cell(per_budget, b) for b in budgets]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {_regret(result, per_budget)} |")
    return "\n".join(lines)


def plot_regret(result: dict[str, Any], path: str | Path) -> Path:
    """Mean regret (oracle minus test accuracy of the returned architecture) against queries, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, curve in result["curves"].items():
        regret = [max(r, 1e-3) for r in curve["mean_regret"]]
        ax.plot(curve["budgets"], regret, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("queries")
    ax.set_ylabel("mean regret (test accuracy, %)")
    ax.set_title(f"NAS-Bench-201 {result['table']} {result['dataset']} (oracle {result['oracle']:.2f})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
