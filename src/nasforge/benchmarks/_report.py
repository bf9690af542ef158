"""Show benchmark results: a rich table of mean ± std per budget, and regret curves as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["markdown_table", "plot_regret", "render_table"]


def _budgets(result: dict[str, Any]) -> list[str]:
    first = next(iter(result["results"].values()), {})
    return sorted(first, key=int)


def render_table(result: dict[str, Any]) -> Table:
    """Mean ± std of the returned architecture's test accuracy (%) per budget, and regret at the largest."""
    from rich.table import Table

    budgets = _budgets(result)
    seeds = max((r[budgets[-1]]["seeds"] for r in result["results"].values()), default=0)
    table = Table(
        title=f"NAS-Bench-201 {result['table']} {result['dataset']}: test accuracy (%) of the returned "
        f"architecture, {seeds} seeds; oracle {result['oracle']:.2f}"
    )
    table.add_column("strategy")
    for b in budgets:
        table.add_column(f"{b} queries", justify="right")
    table.add_column(f"regret@{budgets[-1]}", justify="right")
    for label, per_budget in result["results"].items():
        cells = [f"{per_budget[b]['mean']:.2f} ± {per_budget[b]['std']:.2f}" for b in budgets]
        table.add_row(label, *cells, f"{result['oracle'] - per_budget[budgets[-1]]['mean']:.2f}")
    return table


def markdown_table(result: dict[str, Any]) -> str:
    """The same table in Markdown, for ``docs/benchmarks.md``."""
    budgets = _budgets(result)
    lines = [
        "| strategy | " + " | ".join(f"{b} queries" for b in budgets) + f" | regret@{budgets[-1]} |",
        "|---|" + "---:|" * (len(budgets) + 1),
    ]
    for label, per_budget in result["results"].items():
        cells = [f"{per_budget[b]['mean']:.2f} ± {per_budget[b]['std']:.2f}" for b in budgets]
        regret = result["oracle"] - per_budget[budgets[-1]]["mean"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {regret:.2f} |")
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
