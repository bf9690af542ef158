"""Parameters and FLOPs of every NAS-Bench-201 architecture, computed by nasforge itself into a cache file.

Each architecture is built with :meth:`~nasforge.spaces.CellSpace.build` on NAS-Bench-201's skeleton (16 stem
channels, 3 stages of 5 cells, residual reductions between them, input 3x32x32, 10 classes: CIFAR-10's head)
and measured with :func:`~nasforge.costs.count_params` and :func:`~nasforge.costs.count_flops`, the functions
every real search uses. FLOPs follow nasforge's convention (2 per multiply-add, convolutions and linear
layers); NAS-Bench-201 publishes multiply-adds in millions, so its ``flops`` are ours / 2e6, and its ``params``
ours / 1e6 (e.g. its architecture 0: 0.129306 M parameters, 15.64737 M multiply-adds).

One difference is deliberate: nasforge leaves out ``none`` edges and edges into nodes that never reach the
cell's output (they add exactly zero), so an architecture with such a dead convolution has fewer parameters
here than in NAS-Bench-201, which builds every edge.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from nasforge.exceptions import ConfigError
from nasforge.spaces import CellSpace

__all__ = ["NB201_SKELETON", "cell_costs", "write_nb201_costs"]

NB201_SKELETON = {"stem_channels": 16, "stages": 3, "cells_per_stage": 5}
_INPUT = (3, 32, 32)
_CLASSES = 10
_CHUNK = 250


def cell_costs(archs: Sequence[str], nodes: int = 4) -> list[tuple[str, int, int]]:
    """``(arch, params, flops)`` of each cell string, built on the NB201 skeleton (one thread)."""
    import torch

    from nasforge.costs import count_flops, count_params

    torch.set_num_threads(1)
    space = CellSpace(nodes=nodes, **NB201_SKELETON)
    out = []
    for text in archs:
        model = space.build(space.from_string(text), _INPUT, _CLASSES)
        out.append((text, count_params(model), count_flops(model, _INPUT)))
    return out


def write_nb201_costs(
    table: str | Path, out: str | Path, jobs: int = 2, progress: Callable[[str], None] | None = None
) -> Path:
    """Compute the costs of every architecture of ``table`` and write ``arch,params,flops`` to ``out``
    (gzip'd when it ends in ``.gz``), in the table's row order."""
    from nasforge.tabular._nb201 import load_nb201

    if jobs < 1:
        raise ConfigError(f"bench: jobs must be >= 1, got {jobs}")
    nb201 = load_nb201(str(table))
    archs = [nb201.space.to_string(a) for a in nb201.archs]
    chunks = [archs[i : i + _CHUNK] for i in range(0, len(archs), _CHUNK)]
    nodes = [nb201.space.nodes] * len(chunks)
    rows: list[tuple[str, int, int]] = []
    with ProcessPoolExecutor(jobs) if jobs > 1 else contextlib.nullcontext() as pool:
        parts = pool.map(cell_costs, chunks, nodes) if pool is not None else map(cell_costs, chunks, nodes)
        for part in parts:
            rows += part
            if progress:
                progress(f"{len(rows)} / {len(archs)} architectures")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["arch", "params", "flops"])
    writer.writerows(rows)
    path = Path(out)
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path
