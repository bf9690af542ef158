"""A drawing of one architecture: the cell's DAG with an op on every edge, or the chain's layers with the shape
of the data after each; any other space gets its string form."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from nasforge.report._plots import figure
from nasforge.spaces import CellSpace, ChainSpace, SearchSpace

__all__ = ["architecture_figure"]

_OP_COLOURS = {"none": "0.75", "skip_connect": "C2", "nor_conv_1x1": "C0", "nor_conv_3x3": "C3", "avg_pool_3x3": "C1"}


def architecture_figure(space: SearchSpace, arch: Hashable, title: str = "The winner") -> Any:
    """A figure of ``arch`` (a value or its string) in ``space``."""
    arch = space.parse(arch)
    if isinstance(space, CellSpace):
        return _cell(space, arch, title)
    if isinstance(space, ChainSpace):
        return _chain(space, arch, title)
    fig, ax = figure(7, 1.5)
    ax.text(0.5, 0.5, space.to_string(arch), ha="center", va="center", family="monospace", wrap=True)
    ax.set_title(title)
    ax.axis("off")
    return fig


def _cell(space: CellSpace, cell: Any, title: str) -> Any:
    """Nodes on a line, input to output; neighbours joined straight, longer edges arched above (even spans) or
    below (odd ones) so that labels do not collide; ``none`` edges (no connection) are left out."""
    fig, ax = figure(7, 3.6)
    n = cell.nodes
    for node in range(n):
        name = "in" if node == 0 else "out" if node == n - 1 else str(node)
        ax.scatter([node], [0], s=700, color="white", edgecolor="k", zorder=3)
        ax.text(node, 0, name, ha="center", va="center", zorder=4, fontsize=9)
    dropped = 0
    for (i, j), op in zip(cell.edges, cell.ops, strict=True):
        if op == "none":
            dropped += 1
            continue
        span = j - i
        rad = 0.0 if span == 1 else (-0.45 if span % 2 == 0 else 0.45)
        colour = _OP_COLOURS.get(op, "C4")
        ax.annotate(
            "",
            xy=(j, 0),
            xytext=(i, 0),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "linewidth": 1.6,
                "shrinkA": 13,
                "shrinkB": 13,
                "connectionstyle": f"arc3,rad={rad}",
            },
        )
        height = -rad * span / 2  # the arc's midpoint lies half the control point's offset from the chord
        ax.text(
            (i + j) / 2,
            height + (0.08 if span == 1 else 0.0),
            op,
            ha="center",
            va="center",
            fontsize=8,
            color=colour,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": colour},
        )
    reach = 0.45 * (n - 1) / 2 + 0.3
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-reach, reach)
    ax.axis("off")
    skeleton = f"cell repeated {space.stages} stages x {space.cells_per_stage}, stem {space.stem_channels} channels" + (
        f"; {dropped} 'none' edge{'s' * (dropped > 1)} not drawn" if dropped else ""
    )
    ax.set_title(f"{title}: {skeleton}", fontsize=9)
    return fig


def _chain(space: ChainSpace, chain: Any, title: str) -> Any:
    """One box per layer, top to bottom, each with the shape of one sample after it."""
    rows = [("input", tuple(space.input_shape))]
    if chain.embed is not None:
        rows.append((f"embed({chain.embed})", (chain.embed, *space.input_shape)))
    rows += space.layer_shapes(chain)
    rows.append((f"readout ({chain.readout or 'mean'}) + linear head", ()))
    fig, ax = figure(7, 0.9 + 0.55 * len(rows))
    for k, (label, shape) in enumerate(rows):
        y = len(rows) - 1 - k
        text = label + (f"   ->  {' x '.join(map(str, shape))}" if shape else "")
        ax.text(
            0.5,
            y,
            text,
            ha="center",
            va="center",
            family="monospace",
            fontsize=9,
            bbox={
                "boxstyle": "round,pad=0.35",
                "facecolor": "C0" if 0 < k < len(rows) - 1 else "0.9",
                "alpha": 0.25 if 0 < k < len(rows) - 1 else 1.0,
                "edgecolor": "k",
            },
        )
        if k:
            ax.annotate("", xy=(0.5, y + 0.28), xytext=(0.5, y + 0.72), arrowprops={"arrowstyle": "-|>"})
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.axis("off")
    ax.set_title(f"{title}: {len(chain.layers)} layers (shape of one sample after each)", fontsize=9)
    return fig
