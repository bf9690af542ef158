"""The ``nasforge`` command: a thin layer over the Python API. Importing it must not import torch."""

from __future__ import annotations

import sys

import typer

from nasforge.cli._bench import bench_app
from nasforge.cli._commands import compare, export, pareto, report, resume, search, show
from nasforge.exceptions import NasforgeError

__all__ = ["app", "main"]

app = typer.Typer(
    help="Neural architecture search on your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(search)
app.command()(resume)
app.command()(show)
app.command()(pareto)
app.command()(export)
app.command()(report)
app.command()(compare)
app.add_typer(bench_app, name="bench", help="Measure strategies on tabular benchmarks (NAS-Bench-201).")


def main() -> None:
    """Run the CLI: a NasforgeError is one line on stderr and exit code 2; ``--debug`` shows tracebacks."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except NasforgeError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
