"""The ``fundsim`` command line. Thin: parse arguments, call the public API, print.

User mistakes (bad files, bad options, an occupied output folder) end with a one-line message
on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from fundsim import __version__
from fundsim.errors import FundsimError

F = TypeVar("F", bound=Callable[..., Any])

#: Exit status for errors in the user's input (as click uses for usage errors).
EXIT_USAGE = 2


def _friendly_errors(func: F) -> F:
    """Turn :class:`FundsimError` into a message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FundsimError as exc:
            click.echo(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", err=True)
            sys.exit(EXIT_USAGE)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fundsim")
def main() -> None:
    """fundsim: simulate a community nursing service under different funding contracts."""


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@_friendly_errors
def validate(scenario_file: Path) -> None:
    """Check SCENARIO_FILE and report every problem with its line and field."""
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    click.echo(
        f"{scenario_file}: valid scenario '{scenario.name}' ({len(scenario.localities)} localities, "
        f"population {scenario.total_population:,}, {len(scenario.tiers)} tiers, "
        f"{len(scenario.workforce.grades)} grades)"
    )


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from fundsim.scenario import Scenario

    click.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Replications [default: from the scenario].")
@click.option("-s", "--seed", type=click.IntRange(0, 2**63 - 1), help="Master seed [default: from the scenario].")
@click.option(
    "-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder [default: results/<scenario name>]."
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing output folder (only once the new one is complete)."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@_friendly_errors
def run(
    scenario_file: Path, replications: int | None, seed: int | None, out_dir: Path | None, overwrite: bool, quiet: bool
) -> None:
    """Simulate SCENARIO_FILE under its contract and show what the provider absorbs."""
    from fundsim.api import run_scenario, write_run
    from fundsim.experiment.store import check_output_dir
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    out_dir = out_dir or Path("results") / scenario.name
    check_output_dir(out_dir, overwrite)  # refuse before hours of work, not after
    n = replications or scenario.simulation.replications
    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{scenario.name}: replications", total=n)
        results = run_scenario(scenario, n, seed=seed, progress=lambda _run: bar.advance(task))
    wall = time.perf_counter() - started
    write_run(results, out_dir, scenario_file=scenario_file, wall_time_s=wall, overwrite=overwrite)
    _print_summary(results, out_dir, wall)


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    if "GBP" in unit:
        return f"£{value / 1e6:,.2f}m" if abs(value) >= 1e6 else f"£{value:,.0f}"
    if unit == "days":
        return f"{value:,.1f}"
    if "%" in unit:
        return f"{value:,.1f}%"
    return f"{value:,.0f}"


def _print_summary(results: Any, out_dir: Path, wall_s: float) -> None:
    console = Console()
    n = int(results.per_replication.shape[0])
    table = Table(
        title=f"{results.scenario.name} under a {results.contract} contract — {n} replication(s), mean and 95% CI",
        title_justify="left",
    )
    table.add_column("measure")
    table.add_column("unit", style="dim")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for row in results.summary.itertuples():
        ci = "–" if row.ci_low != row.ci_low else f"{_fmt(row.ci_low, row.unit)} – {_fmt(row.ci_high, row.unit)}"
        table.add_row(row.label, row.unit.replace("GBP", "£"), _fmt(row.mean, row.unit), ci)
    console.print(table)
    files = "ledger.parquet, provider.parquet, replications.csv, summary.csv, manifest.json"
    console.print(f"Wrote {out_dir}/ ({files}) in {wall_s:.1f} s.")


if __name__ == "__main__":  # pragma: no cover
    main()
