"""Show benchmark results: a rich table of mean ± std per budget, and regret curves as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.table import Table

__all__ = ["markdown_table", "plot_regret", "regret_figure", "render_table"]


def _budgets(result: dict[str, Any]) -> list[str]:
    return sorted({b for r in result["results"].values() for b in r}, key=int)


def _cell(per_budget: dict[str, Any], budget: str, digits: int = 2) -> str:
    if budget not in per_budget:
        return "-"
    return f"{per_budget[budget]['mean']:.{digits}f} ± {per_budget[budget]['std']:.{digits}f}"


def _regret(result: dict[str, Any], per_budget: dict[str, Any]) -> str:
    last = max(per_budget, key=int)
    return f"{result['oracle'] - per_budget[last]['mean']:.{result.get('digits', 2)}f}" + (
        "" if last == _budgets(result)[-1] else f" (@{last})"
    )


def _rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: mean ± std per budget, regret at the largest, and where the result has them the
    answers' validation accuracy at the largest, the architectures seen, or the test hypervolume of the
    returned points."""
    budgets = _budgets(result)
    unit, digits = result.get("unit", "queries"), result.get("digits", 2)
    valid, counts, test = result.get("valid"), result.get("architectures"), result.get("test_hypervolume")
    header = ["strategy", *(f"{b} {unit}" for b in budgets), f"regret@{budgets[-1]}"]
    header += [f"valid@{budgets[-1]}"] if valid else []
    header += ["architectures"] if counts else []
    header += [f"test hypervolume@{budgets[-1]}"] if test else []
    rows = []
    for label, per_budget in result["results"].items():
        row = [label, *(_cell(per_budget, b, digits) for b in budgets), _regret(result, per_budget)]
        row += [_cell(valid[label], budgets[-1], digits)] if valid else []
        row += [f"{counts[label]:.0f}"] if counts else []
        row += [_cell({"end": test[label]}, "end", digits)] if test else []
        rows.append(row)
    return header, rows


def render_table(result: dict[str, Any]) -> Table:
    """Mean ± std of the returned architecture's test accuracy (%) per budget, and regret at the largest."""
    from rich.table import Table

    seeds = max((c["seeds"] for r in result["results"].values() for c in r.values()), default=0)
    table = Table(
        title=f"NAS-Bench-201 {result['table']} {result['dataset']}: "
        f"{result.get('measure', 'test accuracy (%) of the returned architecture')}, {seeds} seeds; "
        f"oracle {result['oracle']:.{result.get('digits', 2)}f}",
        caption=(
            f"valid: the answers' validation accuracy (%) in the high-fidelity table, read after the search "
            f"(the table's best: {result['valid_oracle']:.2f})"
            if "valid" in result
            else None
        ),
    )
    header, rows = _rows(result)
    for n, name in enumerate(header):
        table.add_column(name, justify="right" if n else "left")
    for row in rows:
        table.add_row(*row)
    return table


def markdown_table(result: dict[str, Any]) -> str:
    """The same table in Markdown, for ``docs/benchmarks.md``."""
    header, rows = _rows(result)
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def plot_regret(result: dict[str, Any], path: str | Path) -> Path:
    """Mean regret (oracle minus test accuracy of the returned architecture) against queries, symmetric log
    scale: see :func:`regret_figure`."""
    path = Path(path)
    regret_figure(result).savefig(path, dpi=120)
    return path


def regret_figure(result: dict[str, Any]) -> Figure:
    """The figure :func:`plot_regret` writes (a plain ``Figure``: no pyplot state, no backend switched).

    Regret spans orders of magnitude, so the scale is logarithmic, but symmetric: it is negative where the
    returned architecture tests better than the oracle (the best by validation), and a log scale would drop
    those points. It is linear within the table's last digit of zero (``10**-digits``), and a line marks 0.
    """
    from matplotlib.figure import Figure

    digits = result.get("digits", 2)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for label, curve in result["curves"].items():
        ax.plot(curve["budgets"], curve["mean_regret"], label=label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_yscale("symlog", linthresh=10.0**-digits)
    ax.set_xlabel(result.get("unit", "queries"))
    ax.set_ylabel("mean regret" + (" (hypervolume)" if "measure" in result else " (test accuracy, %)"))
    ax.set_title(f"NAS-Bench-201 {result['table']} {result['dataset']} (oracle {result['oracle']:.{digits}f})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
