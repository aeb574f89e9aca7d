"""Commands about a scenario rather than its results: validate, schema, advise, expected-rates."""

from __future__ import annotations

import json
from pathlib import Path

import click

from fundsim.cli.common import OVERSUBSCRIBE_HELP, bounded_workers, on_interrupt, print_sizing, progress_bar
from fundsim.exits import say
from fundsim.report import terminal
from fundsim.safeio import printable


@click.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
def validate(scenario_file: Path) -> None:
    """Check SCENARIO_FILE and report every problem with its line and field."""
    from fundsim.api import load_scenario

    scenario = load_scenario(scenario_file)
    say(
        f"{printable(scenario_file)}: valid scenario '{scenario.name}' ({len(scenario.localities)} localities, "
        f"population {scenario.total_population:,}, {len(scenario.tiers)} tiers, "
        f"{len(scenario.workforce.grades)} grades)",
        err=False,
    )
    print_sizing(scenario)


@click.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from fundsim.api import scenario_schema

    # default=str: older pydantic leaves date defaults as date objects in the schema.
    click.echo(json.dumps(scenario_schema(), indent=2, default=str))


@click.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option(
    "--precision",
    type=click.FloatRange(0.001, 0.5),
    default=0.05,
    show_default=True,
    help="Target half-width of each headline measure's 95% CI, as a share of its mean.",
)
@click.option("--max-replications", type=click.IntRange(3, 1000), default=40, show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(1, 1024), default=1, show_default=True, help="Parallel simulations.")
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
def advise(scenario_file: Path, precision: float, max_replications: int, jobs: int, oversubscribe: bool) -> None:
    """Say how many replications and how long a warm-up SCENARIO_FILE needs.

    Replications: the sequential replications algorithm (Hoad, Robinson and Davies, 2010) on the
    headline measures. Warm-up: MSER on the monthly caseload and waiting list of runs started empty.
    """
    from fundsim.api import advise as run_advice
    from fundsim.api import load_scenario

    scenario = load_scenario(scenario_file)
    jobs = bounded_workers(jobs, "-j", oversubscribe)
    print_sizing(scenario)
    on_interrupt("stopped; nothing was written")
    with progress_bar(False) as bar:
        task = bar.add_task(f"{scenario.name}: advice", total=None)
        result = run_advice(
            scenario,
            precision=precision,
            max_replications=max_replications,
            jobs=jobs,
            progress=lambda stage, done, total: bar.update(task, description=f"{scenario.name}: {stage} {done}"),
        )
    terminal.print_advice(terminal.new_console(), result, precision, max_replications, scenario.simulation.warmup_days)


@click.command("expected-rates")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-r", "--replications", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(1, 1024), default=1, show_default=True, help="Parallel simulations.")
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
def expected_rates(scenario_file: Path, replications: int, jobs: int, oversubscribe: bool) -> None:
    """Print the outcomes contract's expected admissions per referral by tier, made from SCENARIO_FILE.

    The service is run as the reference (passive, staffed to meet its demand), one tier at a time;
    the YAML printed goes under contracts.outcomes.
    """
    from fundsim.api import expected_admissions_per_referral, load_scenario
    from fundsim.api import expected_rates_yaml as as_yaml

    scenario = load_scenario(scenario_file)
    jobs = bounded_workers(jobs, "-j", oversubscribe)
    on_interrupt("stopped; nothing was written")
    rates = expected_admissions_per_referral(scenario, replications, jobs)
    for tier, mean, low, high in zip(
        rates["tier"],
        rates["mean"].to_numpy(float),
        rates["ci_low"].to_numpy(float),
        rates["ci_high"].to_numpy(float),
        strict=True,
    ):
        ci = "" if low != low else f" (95% CI {low:.3f} to {high:.3f})"  # NaN: one replication, no interval
        say(f"{tier}: {mean:.3f} admissions per referral{ci}", err=True)
    click.echo(as_yaml(rates, scenario.name), nl=False)
