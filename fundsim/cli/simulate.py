"""``fundsim run`` and ``fundsim compare``: simulate a scenario, write its results, print what it found."""

from __future__ import annotations

import time
from pathlib import Path

import click

from fundsim.cli.common import (
    bounded_workers,
    check_estimate,
    inputs,
    on_interrupt,
    parse_contracts,
    print_run_warnings,
    print_sizing,
    progress_bar,
    simulation_options,
    write_or_rescue,
    write_report,
)
from fundsim.report import terminal
from fundsim.safeio import printable


@click.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Replications [default: from the scenario].")
@click.option("-s", "--seed", type=click.IntRange(0, 2**63 - 1), help="Master seed [default: from the scenario].")
@click.option(
    "-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder [default: results/<scenario name>]."
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing output folder (only once the new one is complete)."
)
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 1024), default=1, show_default=True, help="Replications run in parallel."
)
@simulation_options
def run(
    scenario_file: Path,
    replications: int | None,
    seed: int | None,
    out_dir: Path | None,
    overwrite: bool,
    jobs: int,
    quiet: bool,
    make_report: bool,
    check: bool,
    incidence: bool,
    yes_long: bool,
    oversubscribe: bool,
) -> None:
    """Simulate SCENARIO_FILE under its contract and show who absorbs what it does not pay for."""
    from fundsim.api import check_output_dir, default_output_dir, estimate_job, load_scenario, run_scenario, write_run

    scenario = load_scenario(scenario_file)
    out_dir = out_dir or default_output_dir(scenario.name)
    n = replications or scenario.simulation.replications
    jobs = bounded_workers(jobs, "-j", oversubscribe)
    # Each replication, its reference service and (responsive policy) its passive bracket.
    simulations = n * ((2 if scenario.provider_policy.mode == "passive" else 3) if incidence else 1)
    print_sizing(scenario)
    estimate = estimate_job(scenario, simulations, jobs)
    check_estimate(estimate, yes_long, quiet)
    # Refuse before hours of work, not after.
    check_output_dir(out_dir, "run", overwrite, inputs=inputs(scenario_file), bytes_needed=estimate.output_bytes)
    on_interrupt(f"stopped before writing; {printable(out_dir)} was not changed")
    started = time.perf_counter()
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"{scenario.name}: simulations", total=simulations)
        results = run_scenario(
            scenario,
            n,
            seed=seed,
            jobs=jobs,
            progress=lambda _run: bar.advance(task),
            check=check,
            incidence=incidence,
        )
    wall = time.perf_counter() - started
    write_or_rescue(
        lambda folder, replace: write_run(
            results, folder, scenario_file=scenario_file, wall_time_s=wall, overwrite=replace
        ),
        out_dir,
        overwrite,
    )
    on_interrupt(f"the results were already written to {printable(out_dir)}")
    terminal.print_summary(results, out_dir, wall)
    print_run_warnings(results)
    if check:
        terminal.new_console().print(f"Model invariants: {results.checks_run:,} checks passed.")
    if make_report:
        write_report(out_dir, None, quiet)


@click.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-c", "--contracts", help="Comma-separated contracts to compare [default: every contract configured].")
@click.option("-r", "--replications", type=click.IntRange(1, 10_000), help="Replications [default: from the scenario].")
@click.option("-s", "--seed", type=click.IntRange(0, 2**63 - 1), help="Master seed [default: from the scenario].")
@click.option("-j", "--jobs", type=click.IntRange(1, 1024), help="Parallel simulations [default: CPUs available].")
@click.option(
    "-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder [default: results/<name>-compare]."
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing output folder (only once the new one is complete)."
)
@click.option("--risk/--no-risk", default=True, show_default=True, help="Run the scenario's risk_view (demand growth).")
@click.option(
    "--addon-effect/--no-addon-effect",
    default=None,
    help="Also run the service without its add-ons and with the other staffing choice (net admissions "
    "avoided) [default: on when the scenario has addons].",
)
@simulation_options
def compare(
    scenario_file: Path,
    contracts: str | None,
    replications: int | None,
    seed: int | None,
    jobs: int | None,
    out_dir: Path | None,
    overwrite: bool,
    risk: bool,
    addon_effect: bool | None,
    quiet: bool,
    make_report: bool,
    check: bool,
    incidence: bool,
    yes_long: bool,
    oversubscribe: bool,
) -> None:
    """Run SCENARIO_FILE under every funding model with common random numbers and compare them."""
    from fundsim.api import (
        check_output_dir,
        compare_scenario,
        configured_contracts,
        default_jobs,
        default_output_dir,
        estimate_job,
        has_addons,
        load_scenario,
        write_comparison,
    )

    scenario = load_scenario(scenario_file)
    names = parse_contracts(contracts)
    available = configured_contracts(scenario)
    unknown = [c for c in names or [] if c not in available]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not configured in {printable(scenario_file)}; configured: {', '.join(available)}",
            param_hint="--contracts",
        )
    out_dir = out_dir or default_output_dir(scenario.name, "-compare")
    jobs = bounded_workers(jobs, "-j", oversubscribe) if jobs else default_jobs()
    n = replications or scenario.simulation.replications
    per_point = 1 if scenario.provider_policy.mode == "passive" else len(names or available)
    # ... plus, per replication, the reference service and (responsive policy) the passive bracket.
    simulations = per_point * n + (n * (1 if scenario.provider_policy.mode == "passive" else 2) if incidence else 0)
    if risk and scenario.risk_view is not None:
        simulations += per_point * len(scenario.risk_view.demand_growth_per_year) * scenario.risk_view.replications
    if addon_effect and not has_addons(scenario):
        raise click.BadParameter(f"{printable(scenario_file)} has no addons: section", param_hint="--addon-effect")
    addon_effect = has_addons(scenario) if addon_effect is None else addon_effect
    if addon_effect:  # without the add-ons, and with the other staffing choice (at most one more as configured)
        simulations += 2 * n
    estimate = estimate_job(scenario, simulations, jobs)
    check_estimate(estimate, yes_long, quiet)
    check_output_dir(out_dir, "compare", overwrite, inputs=inputs(scenario_file), bytes_needed=estimate.output_bytes)
    print_sizing(scenario)
    on_interrupt(f"stopped before writing; {printable(out_dir)} was not changed")
    started = time.perf_counter()
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"{scenario.name}: simulations", total=simulations)
        result = compare_scenario(
            scenario,
            names,
            replications,
            seed=seed,
            jobs=jobs,
            risk=risk,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            check=check,
            incidence=incidence,
            addon_effect=addon_effect,
        )
    wall = time.perf_counter() - started
    files = write_or_rescue(
        lambda folder, replace: write_comparison(
            result, folder, scenario_file=scenario_file, wall_time_s=wall, jobs=jobs, overwrite=replace
        ),
        out_dir,
        overwrite,
    )
    on_interrupt(f"the results were already written to {printable(out_dir)}")
    terminal.print_comparison(result)
    if result.reserve_outcomes is not None:
        terminal.print_failures(terminal.new_console(), result.reserve_outcomes)
    if result.incidence is not None:
        console = terminal.new_console()
        terminal.print_incidence(console, result.incidence, list(result.contracts), scenario.provider_policy.mode)
    if result.addon_effect is not None:
        terminal.print_addon_effect(terminal.new_console(), result.addon_effect)
    terminal.new_console().print(
        f"Wrote {printable(out_dir)}/ ({', '.join(files)}) in {wall:.1f} s; {result.simulations} simulation(s).",
        markup=False,
    )
    if check:
        terminal.new_console().print(f"Model invariants: {result.checks_run:,} checks passed.")
    if make_report:
        write_report(out_dir, None, quiet)
