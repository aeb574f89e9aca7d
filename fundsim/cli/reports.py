"""``fundsim report``: the HTML report, figures and tables of a results folder."""

from __future__ import annotations

from pathlib import Path

import click

from fundsim.cli.common import write_report


@click.command()
@click.argument("results_dir", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", "out_file", type=click.Path(path_type=Path), help="HTML file [default: RESULTS_DIR/report.html]."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--accept-changed",
    is_flag=True,
    help="Report the files as they are even if they changed since fundsim wrote them (checksums differ).",
)
def report(results_dir: Path, out_file: Path | None, quiet: bool, accept_changed: bool) -> None:
    """Write the HTML report, figures and tables of RESULTS_DIR (a `run` or `compare` results folder)."""
    write_report(results_dir, out_file, quiet, accept_changed)
