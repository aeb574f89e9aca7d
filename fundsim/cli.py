"""The ``fundsim`` command line. Thin: parse arguments, call the public API, print.

Every command runs inside :class:`fundsim.exits.FundsimGroup`: user mistakes (bad files, bad
options, an output folder fundsim will not write to) end with a one-line message on stderr and
exit status 2, an unexpected error with one line and a crash file; never a traceback. The exit
statuses are listed in :mod:`fundsim.exits`. Paths and text from files are printed literally
(never as Rich markup) and safely in any terminal encoding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from fundsim.errors import FundsimError
from fundsim.exits import EXIT_BUG, EXIT_USAGE, FundsimGroup, NotWrittenError, say
from fundsim.safeio import printable
from fundsim.version import __version__

__all__ = ["EXIT_BUG", "EXIT_USAGE", "main"]

INCIDENCE_HELP = (
    "Also simulate each replication as the reference service and with the passive provider, to say who "
    "absorbs the activity the contract does not pay for."
)
YES_LONG_HELP = "Start even when the estimate is above the limits (6 hours, or 80% of the machine's memory)."
OVERSUBSCRIBE_HELP = "Allow more worker processes than the CPUs this process may use."


#: What a writer returns (the files it wrote).
Written = TypeVar("Written")


@click.group(cls=FundsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fundsim")
def main() -> None:
    """fundsim: simulate a community nursing service under different funding contracts."""


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
def validate(scenario_file: Path) -> None:
    """Check SCENARIO_FILE and report every problem with its line and field."""
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    say(
        f"{printable(scenario_file)}: valid scenario '{scenario.name}' ({len(scenario.localities)} localities, "
        f"population {scenario.total_population:,}, {len(scenario.tiers)} tiers, "
        f"{len(scenario.workforce.grades)} grades)",
        err=False,
    )
    _print_sizing(scenario)


def _print_sizing(scenario: Any) -> None:
    """The sizing check's warnings on standard error (they never stop a command)."""
    from fundsim.scenario.sizing import size_scenario

    for warning in size_scenario(scenario).warnings:
        say(f"warning: sizing: {warning}", err=True)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor autocompletion)."""
    from fundsim.scenario import Scenario

    # default=str: older pydantic leaves date defaults as date objects in the schema.
    click.echo(json.dumps(Scenario.model_json_schema(), indent=2, default=str))


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
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 1024), default=1, show_default=True, help="Replications run in parallel."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--report", "make_report", is_flag=True, help="Also write the HTML report into the output folder.")
@click.option("--check", is_flag=True, help="Verify the model's invariants every simulated day (slower; for testing).")
@click.option("--incidence/--no-incidence", default=True, show_default=True, help=INCIDENCE_HELP)
@click.option("--yes-long", is_flag=True, help=YES_LONG_HELP)
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
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
    from fundsim.api import default_output_dir, run_scenario, write_run
    from fundsim.experiment.estimate import estimate_job
    from fundsim.experiment.preflight import check_output_dir
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    out_dir = out_dir or default_output_dir(scenario.name)
    n = replications or scenario.simulation.replications
    jobs = _bounded_workers(jobs, "-j", oversubscribe)
    # Each replication, its reference service and (responsive policy) its passive bracket.
    simulations = n * ((2 if scenario.provider_policy.mode == "passive" else 3) if incidence else 1)
    _print_sizing(scenario)
    estimate = estimate_job(scenario, simulations, jobs)
    _check_estimate(estimate, yes_long, quiet)
    # Refuse before hours of work, not after.
    check_output_dir(out_dir, "run", overwrite, inputs=_inputs(scenario_file), bytes_needed=estimate.output_bytes)
    _on_interrupt(f"stopped before writing; {printable(out_dir)} was not changed")
    started = time.perf_counter()
    with _progress_bar(quiet) as bar:
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
    _write_or_rescue(
        lambda folder, replace: write_run(
            results, folder, scenario_file=scenario_file, wall_time_s=wall, overwrite=replace
        ),
        out_dir,
        overwrite,
    )
    _on_interrupt(f"the results were already written to {printable(out_dir)}")
    _print_summary(results, out_dir, wall)
    _print_run_warnings(results)
    if check:
        _console().print(f"Model invariants: {results.checks_run:,} checks passed.")
    if make_report:
        _write_report(out_dir, None, quiet)


def _print_run_warnings(results: Any) -> None:
    """After-run warnings (fundsim.experiment.diagnostics) on standard error."""
    from fundsim.experiment.diagnostics import run_warnings

    for warning in run_warnings(results.scenario, results.ledger, results.provider, results.per_replication):
        say(f"warning: {warning}", err=True)


def _on_interrupt(message: str) -> None:
    """What to say if Ctrl-C, SIGTERM or SIGHUP stops the command from now on (fundsim.exits)."""
    click.get_current_context().meta["fundsim.interrupted"] = message


def _inputs(path: Path) -> list[Path]:
    """The input files a command reads, for the preflight (standard input is no file)."""
    from fundsim.safeio import is_stdin

    return [] if is_stdin(path) else [Path(path)]


def _console(stderr: bool = False) -> Console:
    """A Rich console for fundsim's own tables; text from files is escaped or printed with markup off."""
    return Console(stderr=stderr, highlight=False)


def _bounded_workers(requested: int, option: str, oversubscribe: bool) -> int:
    """``requested`` workers, at most the CPUs this process may use unless ``oversubscribe``."""
    from fundsim.experiment.estimate import cpu_count

    cpus = cpu_count()
    if requested <= cpus or oversubscribe:
        return requested
    say(
        f"note: {option} {requested} is more than the {cpus} CPU(s) this process may use, which would only slow "
        f"the job down and use more memory; using {cpus} (pass --oversubscribe to use {requested})"
    )
    return cpus


def _check_estimate(estimate: Any, confirmed: bool, quiet: bool) -> None:
    """Print the job's estimate (on standard error) and refuse it above the limits unless confirmed.

    With ``--quiet`` the estimate is printed only for jobs of a minute or more.
    """
    from fundsim.experiment.estimate import check_limits

    if not quiet or estimate.seconds >= 60:
        say(estimate.describe())
    check_limits(estimate, confirmed)


def _write_or_rescue(write: Callable[[Path, bool], Written], out_dir: Path, overwrite: bool) -> Written:
    """Write the results into ``out_dir``; if that fails after the compute, into a fallback folder.

    The fallback's path is printed and the command ends with exit status 4 (:class:`NotWrittenError`).
    """
    from fundsim.experiment.rescue import rescue

    try:
        return write(out_dir, overwrite)
    except (OSError, FundsimError) as exc:
        why = f"{exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
        folder, failures = rescue(lambda target: write(target, False), out_dir)
    where = printable(out_dir)
    if folder is None:
        raise NotWrittenError(
            f"could not write {where} ({printable(why)}), nor save the results anywhere else "
            f"({'; '.join(printable(f) for f in failures)}); the results are lost"
        )
    raise NotWrittenError(
        f"could not write {where} ({printable(why)}); the results were saved to {printable(folder)} "
        "instead: move that folder where you want it"
    )


def _progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )


def _parse_contracts(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("give at least one contract name, e.g. block,capitation", param_hint="--contracts")
    return names


@main.command()
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
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--report", "make_report", is_flag=True, help="Also write the HTML report into the output folder.")
@click.option("--check", is_flag=True, help="Verify the model's invariants every simulated day (slower; for testing).")
@click.option("--incidence/--no-incidence", default=True, show_default=True, help=INCIDENCE_HELP)
@click.option("--yes-long", is_flag=True, help=YES_LONG_HELP)
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
def compare(
    scenario_file: Path,
    contracts: str | None,
    replications: int | None,
    seed: int | None,
    jobs: int | None,
    out_dir: Path | None,
    overwrite: bool,
    risk: bool,
    quiet: bool,
    make_report: bool,
    check: bool,
    incidence: bool,
    yes_long: bool,
    oversubscribe: bool,
) -> None:
    """Run SCENARIO_FILE under every funding model with common random numbers and compare them."""
    from fundsim.api import compare_scenario, default_output_dir, write_comparison
    from fundsim.experiment.compare import configured_contracts
    from fundsim.experiment.estimate import estimate_job
    from fundsim.experiment.executor import default_jobs
    from fundsim.experiment.preflight import check_output_dir
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    names = _parse_contracts(contracts)
    available = configured_contracts(scenario)
    unknown = [c for c in names or [] if c not in available]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not configured in {printable(scenario_file)}; configured: {', '.join(available)}",
            param_hint="--contracts",
        )
    out_dir = out_dir or default_output_dir(scenario.name, "-compare")
    jobs = _bounded_workers(jobs, "-j", oversubscribe) if jobs else default_jobs()
    n = replications or scenario.simulation.replications
    per_point = 1 if scenario.provider_policy.mode == "passive" else len(names or available)
    # ... plus, per replication, the reference service and (responsive policy) the passive bracket.
    simulations = per_point * n + (n * (1 if scenario.provider_policy.mode == "passive" else 2) if incidence else 0)
    if risk and scenario.risk_view is not None:
        simulations += per_point * len(scenario.risk_view.demand_growth_per_year) * scenario.risk_view.replications
    estimate = estimate_job(scenario, simulations, jobs)
    _check_estimate(estimate, yes_long, quiet)
    check_output_dir(out_dir, "compare", overwrite, inputs=_inputs(scenario_file), bytes_needed=estimate.output_bytes)
    _print_sizing(scenario)
    _on_interrupt(f"stopped before writing; {printable(out_dir)} was not changed")
    started = time.perf_counter()
    with _progress_bar(quiet) as bar:
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
        )
    wall = time.perf_counter() - started
    files = _write_or_rescue(
        lambda folder, replace: write_comparison(
            result, folder, scenario_file=scenario_file, wall_time_s=wall, jobs=jobs, overwrite=replace
        ),
        out_dir,
        overwrite,
    )
    _on_interrupt(f"the results were already written to {printable(out_dir)}")
    _print_comparison(result)
    if result.incidence is not None:
        _print_incidence(_console(), result.incidence, list(result.contracts), scenario.provider_policy.mode)
    _console().print(
        f"Wrote {printable(out_dir)}/ ({', '.join(files)}) in {wall:.1f} s; {result.simulations} simulation(s).",
        markup=False,
    )
    if check:
        _console().print(f"Model invariants: {result.checks_run:,} checks passed.")
    if make_report:
        _write_report(out_dir, None, quiet)


@main.command()
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
    _write_report(results_dir, out_file, quiet, accept_changed)


def _write_report(results_dir: Path, out_file: Path | None, quiet: bool, accept_changed: bool = False) -> None:
    """Build the report of ``results_dir`` with a progress bar; say what was written."""
    from fundsim.report import build_report

    if _is_sweep_folder(results_dir):
        if out_file is not None:
            raise click.UsageError("--out is for run and compare folders; a sweep's report.html goes into its folder")
        _write_sweep_report(results_dir)
        return
    started = time.perf_counter()
    with _progress_bar(quiet) as bar:
        task = bar.add_task("report", total=None)
        outputs = build_report(
            results_dir,
            out_file,
            progress=lambda done, total, what: bar.update(task, completed=done, total=total, description=escape(what)),
            warn=lambda warning: say(f"warning: {printable(results_dir)}: {warning}"),
            accept_changed=accept_changed,
        )
    figures = len(outputs.figures) // 2
    where = printable(results_dir)
    _console().print(
        f"Wrote {printable(outputs.html)} ({figures} figure(s)), {where}/figures/ (PNG and SVG), "
        f"{where}/tables/ and {printable(outputs.workbook.name)} ({len(outputs.tables)} table(s)) "
        f"in {time.perf_counter() - started:.1f} s.",
        markup=False,  # paths and scenario text are printed as they are
    )
    for item in outputs.skipped:
        _console().print(f"Not shown: {printable(item)}.", markup=False)


def _is_sweep_folder(folder: Path) -> bool:
    from fundsim.experiment.manifest import folder_kind

    return folder_kind(Path(folder)) == "sweep"


def _write_sweep_report(sweep_dir: Path) -> None:
    from fundsim.report.sweep_report import build_sweep_report

    html = build_sweep_report(sweep_dir)
    message = f"Wrote {printable(html)} and {printable(sweep_dir)}/figures/ (tornado and scatter charts)."
    _console().print(message, markup=False)


#: Measures of the comparison table, in the order analysts read them.
COMPARE_ROWS = (
    "income_gbp_per_year",
    "cost_gbp_per_year",
    "surplus_gbp_per_year",
    "absorbed_gbp_per_year",
    "over_performance_activity_per_year",
    "over_performance_cost_gbp_per_year",
    "delivered_activity_per_year",
    "paid_hours_per_year",
    "unpaid_overtime_hours_per_year",
    "wait_mean_days",
    "wait_p90_days",
    "visits_missed_per_year",
    "referrals_declined_per_year",
    "admissions_per_year",
    "admissions_avoided_per_year",
    "hospital_cost_gbp_per_year",
    "commissioner_spend_gbp_per_year",
)

#: The "who bears the risk" view in three small tables: (title, [(measure, column header)]).
#: Every measure of fundsim.experiment.compare.RISK_MEASURES is in one of them.
RISK_TABLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "provider and commissioner, £ a year",
        (
            ("income_gbp_per_year", "income"),
            ("surplus_gbp_per_year", "surplus"),
            ("absorbed_gbp_per_year", "absorbed"),
            ("commissioner_spend_gbp_per_year", "spend"),
        ),
    ),
    (
        "activity and staff, a year",
        (("delivered_activity_per_year", "delivered"), ("unpaid_overtime_hours_per_year", "unpaid hours")),
    ),
    (
        "patients",
        (
            ("referrals_declined_per_year", "declined"),
            ("wait_mean_days", "wait days"),
            ("visits_missed_per_year", "missed"),
            ("visit_deferrals_per_year", "deferred"),
            ("visit_minutes_cut_per_year", "minutes cut"),
        ),
    ),
)

#: What the short column headers of the risk tables mean.
RISK_CAPTIONS = (
    "income, surplus (deficit < 0), absorbed (cost its income does not cover): the provider's; "
    "spend: the commissioner's (contract payments plus hospital cost)",
    "delivered: activity delivered a year; unpaid hours: staff overtime not paid for, hours a year",
    "a year: referrals declined, visits missed, visits deferred, visit minutes cut by rationing; "
    "wait days: mean wait for assessment",
)


def _table(title: str, caption: str | None = None, **options: Any) -> Table:
    """A table of fundsim's: title and caption on the left, wrapped at word boundaries."""
    return Table(title=title, title_justify="left", caption=caption, caption_justify="left", **options)


def _label_column(table: Table, header: str) -> None:
    """A text column: wraps at word boundaries (a word too long for it is folded, never cut)."""
    table.add_column(header, overflow="fold")


def _number_column(table: Table, header: str) -> None:
    """A number column: never wrapped (the label columns give way instead)."""
    table.add_column(header, justify="right", no_wrap=True)


def _fits(console: Console, table: Table) -> bool:
    """Whether ``table`` fits ``console`` at its natural width (without wrapping any cell)."""
    from rich.measure import Measurement

    unbounded = console.options.update(width=10_000, max_width=10_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def _value(value: float, unit: str) -> str:
    """``value`` in ``unit``, formatted as the HTML report formats it (£1.2m, 12,041, 9.3%, 1.8)."""
    from fundsim.report.style import by_unit

    return by_unit(value, unit)


def _pm(mean: float, lo: float, hi: float, unit: str, signed: bool = False) -> str:
    """``mean ± half-width`` of a 95% CI, in the report's number formats; the mean alone without a CI."""
    text = _value(mean, unit)
    if signed and text[0] not in "−–" and any(ch in "123456789" for ch in text):
        text = "+" + text
    if lo != lo:  # NaN: a single replication has no interval
        return text
    return f"{text} ± {_value((hi - lo) / 2.0, unit)}"


def _ci(lo: float, hi: float, unit: str) -> str:
    """A 95% CI as ``low – high`` (``–`` when there is none)."""
    return "–" if lo != lo else f"{_value(lo, unit)} – {_value(hi, unit)}"


def _unit(unit: str) -> str:
    from fundsim.report.style import unit_text

    return unit_text(unit)


def _contract(name: str) -> str:
    from fundsim.report.style import contract_label

    return escape(contract_label(name))


def _print_comparison(result: Any, console: Console | None = None) -> None:
    """The contracts compared: one group of rows per measure, one row per contract (fits 80 columns)."""
    console = console or _console()
    summary = result.summary.set_index(["measure", "contract"])
    contracts = list(result.contracts)
    paired = len(contracts) > 1
    baseline = _contract(result.baseline)
    table = _table(
        escape(
            f"{result.scenario.name}: {len(contracts)} contract(s) × {result.replications} replication(s), "
            f"provider policy {result.scenario.provider_policy.mode}"
        ),
        "mean ± the half-width of its 95% CI"
        + (f"; Δ: paired difference from {baseline} ± the half-width of its 95% CI" if paired else ""),
    )
    _label_column(table, "measure / contract")
    _number_column(table, "mean ± 95% CI")
    if paired:
        _number_column(table, f"Δ {baseline} ± 95% CI")
    for measure in COMPARE_ROWS:
        first = summary.loc[(measure, contracts[0])]
        unit = str(first["unit"])
        table.add_row(f"[bold]{escape(str(first['label']))}[/bold] [dim]({escape(_unit(unit))})[/dim]")
        for i, contract in enumerate(contracts):
            row = summary.loc[(measure, contract)]
            cells = [f"  {_contract(contract)}", _pm(row["mean"], row["ci_low"], row["ci_high"], unit)]
            if paired:
                diff = (
                    ""
                    if contract == result.baseline
                    else _pm(row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"], unit, signed=True)
                )
                cells.append(diff)
            table.add_row(*cells, end_section=i == len(contracts) - 1)
    console.print(table)
    if result.risk is not None:
        _print_risk(console, result.risk, contracts, result.scenario.risk_view)
    if result.outcomes is not None:
        _print_observability(console, result.outcomes, result.wrong_way)


def _print_risk(console: Console, risk: Any, contracts: Sequence[str], risk_view: Any) -> None:
    """Who bears the risk of demand growth: a small table per bearer, a group of rows per growth rate."""
    from fundsim.experiment.runner import MEASURES
    from fundsim.report.style import percent

    units = {col: unit for col, _label, unit in MEASURES}
    means = risk.set_index(["demand_growth_per_year", "contract", "measure"])["mean"]
    growths = list(dict.fromkeys(risk["demand_growth_per_year"]))
    n = getattr(risk_view, "replications", None)
    reps = f", mean of {n} replication(s)" if n else ", means"
    for (part, columns), caption in zip(RISK_TABLES, RISK_CAPTIONS, strict=True):
        table = _table(f"Who bears the risk of demand growth: {part}{reps}", caption)
        _label_column(table, "growth / contract")
        for _col, header in columns:
            _number_column(table, header)
        for growth in growths:
            table.add_row(f"[bold]{percent(100.0 * float(growth))} a year[/bold]")
            for i, contract in enumerate(contracts):
                cells = [
                    _value(means.get((growth, contract, col), float("nan")), units.get(col, "")) for col, _ in columns
                ]
                table.add_row(f"  {_contract(contract)}", *cells, end_section=i == len(contracts) - 1)
        console.print(table)


def _print_observability(console: Console, years: Any, wrong_way: Any) -> None:
    from fundsim.experiment.stats import mean_ci
    from fundsim.report.style import count, percent

    table = _table(
        "Outcomes contract: what it can observe vs what the simulation knows (per contract year)",
        "95% CI over replication-years",
    )
    _label_column(table, "quantity")
    _number_column(table, "mean")
    _number_column(table, "95% CI")
    for col, label in (
        ("expected", "Expected admissions (risk model, E)"),
        ("observed", "Observed admissions (O)"),
        ("oe_ratio", "O/E"),
        ("true_avoided", "True admissions avoided (vs no care)"),
    ):
        m, lo, hi = mean_ci(years[col].to_numpy())

        def fmt(value: float, ratio: bool = col == "oe_ratio") -> str:
            return f"{value:,.3f}" if ratio else count(value)

        table.add_row(label, fmt(m), "" if lo != lo else f"{fmt(lo)} – {fmt(hi)}")
    table.add_row("Years rewarded", percent(100.0 * float(years["rewarded"].mean()), 0), "")
    console.print(table)
    ww = _table("Probability the outcomes contract pays the wrong way round, by population")
    for col in ("population", "E per year", "P(wrong way)", "seen in runs"):
        _number_column(ww, col)
    for row in wrong_way.itertuples():
        seen = (
            ""
            if row.observed_wrong_way_share != row.observed_wrong_way_share
            else percent(100.0 * row.observed_wrong_way_share, 0)
        )
        ww.add_row(count(row.population), count(row.expected_per_year), percent(100.0 * row.p_wrong_way, 0), seen)
    console.print(ww)


def _print_summary(results: Any, out_dir: Path, wall_s: float, console: Console | None = None) -> None:
    """The run's headline measures: a unit column when the terminal is wide enough, else under the label."""
    console = console or _console()
    n = int(results.per_replication.shape[0])
    title = escape(f"{results.scenario.name} under a {results.contract} contract — {n} replication(s)")
    rows = [
        (escape(str(r.label)), escape(_unit(str(r.unit))), _value(r.mean, r.unit), _ci(r.ci_low, r.ci_high, r.unit))
        for r in results.summary.itertuples()
    ]
    table = _table(title)
    _label_column(table, "measure")
    _label_column(table, "unit")
    _number_column(table, "mean")
    _number_column(table, "95% CI")
    for row in rows:
        table.add_row(*row)
    if not _fits(console, table):
        table = _table(title)
        _label_column(table, "measure (unit)")
        _number_column(table, "mean")
        _number_column(table, "95% CI")
        for label, unit, mean, ci in rows:
            table.add_row(f"{label} [dim]({unit})[/dim]", mean, ci)
    console.print(table)
    if results.incidence is not None:
        _print_incidence(console, results.incidence, [results.contract], results.scenario.provider_policy.mode)
    files = "ledger.parquet, provider.parquet, replications.csv, summary.csv"
    files += ", incidence.csv" if results.incidence is not None else ""
    files += ", decisions.csv" if results.decisions is not None else ""
    console.print(f"Wrote {printable(out_dir)}/ ({files}, manifest.json) in {wall_s:.1f} s.", markup=False)


def _print_incidence(console: Console, incidence: Any, contracts: Sequence[str], policy: str) -> None:
    """Who absorbs the unfunded activity: a group of rows per measure, a row per contract (run: per policy)."""
    from fundsim.experiment.incidence import MEASURES as INCIDENCE_MEASURES
    from fundsim.report.incidence_text import incidence_sentences, policy_bracket_sentence

    frame = incidence.set_index(["policy", "contract", "measure"])
    one = len(contracts) == 1
    keys = [(p, contracts[0]) for p in incidence["policy"].unique()] if one else [(policy, c) for c in contracts]
    table = _table(
        "Who absorbs the activity the contract does not pay for",
        "mean ± the half-width of its 95% CI; 'extra' = beyond the same service funded to meet its demand"
        + ("" if one else f"; provider policy {policy}"),
    )
    _label_column(table, "bearer: measure / " + ("provider policy" if one else "contract"))
    _number_column(table, "mean ± 95% CI")
    for m in INCIDENCE_MEASURES:
        table.add_row(f"[bold]{escape(f'{m.bearer}: {m.label}')}[/bold] [dim]({escape(_unit(m.unit))})[/dim]")
        for i, (p, c) in enumerate(keys):
            row = frame.loc[(p, c, m.column)]
            name = escape(f"{p} provider") if one else _contract(c)
            table.add_row(
                f"  {name}", _pm(row["mean"], row["ci_low"], row["ci_high"], m.unit), end_section=i == len(keys) - 1
            )
    console.print(table)
    for contract in contracts[:1]:
        for sentence in incidence_sentences(incidence[incidence["policy"] == policy], contract, policy):
            console.print(sentence, markup=False)
        if policy != "passive" and "passive" in set(incidence["policy"]):
            bracket = policy_bracket_sentence(
                incidence[incidence["policy"] == policy], incidence[incidence["policy"] == "passive"], contract
            )
            if bracket:
                console.print(bracket, markup=False)


@main.command()
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
    from fundsim.experiment.advice import advise as run_advice
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    jobs = _bounded_workers(jobs, "-j", oversubscribe)
    _print_sizing(scenario)
    _on_interrupt("stopped; nothing was written")
    with _progress_bar(False) as bar:
        task = bar.add_task(f"{scenario.name}: advice", total=None)
        result = run_advice(
            scenario,
            precision=precision,
            max_replications=max_replications,
            jobs=jobs,
            progress=lambda stage, done, total: bar.update(task, description=f"{scenario.name}: {stage} {done}"),
        )
    _print_advice(_console(), result, precision, max_replications, scenario.simulation.warmup_days)


def _print_advice(console: Console, result: Any, precision: float, max_replications: int, warmup_days: int) -> None:
    """How many replications each headline measure needs, and the warm-up."""
    from fundsim.experiment.runner import MEASURES

    labels = {col: (label, unit) for col, label, unit in MEASURES}
    table = _table(
        f"Replications for ±{100 * precision:.0f}% (95% CI half-width ÷ mean), "
        f"{result.replications.replications_run} run"
    )
    _label_column(table, "measure")
    for col in ("mean", "± % now", "replications needed"):
        _number_column(table, col)
    for row in result.replications.table.itertuples():
        label, unit = labels.get(str(row.measure), (str(row.measure), ""))
        needed = (
            "more than run" if row.replications_needed != row.replications_needed else f"{row.replications_needed:,.0f}"
        )
        table.add_row(escape(label), _value(row.mean, unit), f"{100 * row.relative_half_width:.1f}%", needed)
    console.print(table)
    recommended = result.replications.recommended
    console.print(
        f"Set simulation.replications to {recommended}."
        if recommended is not None
        else f"Some measures were not precise enough in {max_replications} replications: raise --max-replications "
        "or accept a wider interval.",
        markup=False,
    )
    months = result.warmup.truncation_months
    console.print(
        f"Warm-up (MSER on runs started empty): caseload settles after {months['caseload']} month(s), waiting "
        f"list after {months['waiting_list']}; set simulation.warmup_days to at least {result.warmup.recommended_days} "
        f"(now {warmup_days}).",
        markup=False,
    )


@main.command("expected-rates")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("-r", "--replications", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(1, 1024), default=1, show_default=True, help="Parallel simulations.")
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
def expected_rates(scenario_file: Path, replications: int, jobs: int, oversubscribe: bool) -> None:
    """Print the outcomes contract's expected admissions per referral by tier, made from SCENARIO_FILE.

    The service is run as the reference (passive, staffed to meet its demand), one tier at a time;
    the YAML printed goes under contracts.outcomes.
    """
    from fundsim.experiment.expected_rates import as_yaml, expected_admissions_per_referral
    from fundsim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    jobs = _bounded_workers(jobs, "-j", oversubscribe)
    _on_interrupt("stopped; nothing was written")
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


# --------------------------------------------------------------------------- sweeps


@main.command()
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option(
    "-o", "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder [default: results/<sweep name>]."
)
@click.option("-j", "--jobs", type=click.IntRange(1, 1024), help="Local worker processes [default: CPUs available].")
@click.option("--scheduler", metavar="ADDRESS", help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786.")
@click.option("--dask-local", type=click.IntRange(1, 1024), metavar="N", help="Start a local Dask cluster, N workers.")
@click.option("--overwrite", is_flag=True, help="Start afresh in an output folder of another sweep.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--yes-long", is_flag=True, help=YES_LONG_HELP)
@click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP)
def sweep(
    sweep_file: Path,
    out_dir: Path | None,
    jobs: int | None,
    scheduler: str | None,
    dask_local: int | None,
    overwrite: bool,
    quiet: bool,
    yes_long: bool,
    oversubscribe: bool,
) -> None:
    """Run the sensitivity sweep SWEEP_FILE; rerun the same command to resume an interrupted one."""
    from fundsim.experiment.estimate import estimate_job
    from fundsim.experiment.executor import default_jobs
    from fundsim.scenario.loader import load_model
    from fundsim.sweep.executors import ExecutorChoice
    from fundsim.sweep.run import SweepPlan, run_sweep
    from fundsim.sweep.spec import SweepSpec

    if scheduler and dask_local:
        raise click.UsageError("give --scheduler or --dask-local, not both")
    spec = load_model(sweep_file, SweepSpec)
    out_dir = out_dir or Path("results") / spec.name
    jobs = _bounded_workers(jobs, "-j", oversubscribe) if jobs else default_jobs()
    if dask_local:
        dask_local = _bounded_workers(dask_local, "--dask-local", oversubscribe)
    choice = ExecutorChoice(jobs=jobs, scheduler=scheduler, dask_local=dask_local)
    ctx = click.get_current_context()
    ctx.meta["fundsim.interrupted"] = f"stopped before anything was written to {printable(out_dir)}"

    def check_job(plan: SweepPlan, todo: int) -> None:
        workers = choice.dask_local or (1 if choice.scheduler else choice.jobs)
        _check_estimate(estimate_job(plan.base, todo, workers), yes_long, quiet)
        ctx.meta["fundsim.interrupted"] = (
            f"finished runs are kept in {printable(out_dir)}; rerun the same command to resume"
        )

    with _progress_bar(quiet) as bar:
        task = bar.add_task(escape(f"{spec.name}: runs"), total=None)

        def started(total: int, reused: int) -> None:
            bar.update(task, total=total, completed=reused)
            if reused:
                bar.console.print(f"Resuming: {reused} of {total} runs already in {printable(out_dir)}.", markup=False)

        try:
            outcome = run_sweep(
                sweep_file,
                out_dir,
                choice,
                overwrite=overwrite,
                on_start=started,
                progress=lambda done, _total: bar.update(task, completed=done),
                before_running=check_job,
                warn=lambda note: say(f"warning: {note}"),
            )
        except KeyboardInterrupt:
            bar.stop()
            raise
    _print_sweep(outcome, choice.name)
    _write_sweep_report(outcome.out_dir)


@main.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
def analyse(sweep_dir: Path) -> None:
    """Redo the tables and sensitivity analysis of the sweep folder SWEEP_DIR (no simulation)."""
    from fundsim.sweep.run import analyse as analyse_sweep

    _print_sweep(analyse_sweep(sweep_dir), None)
    _write_sweep_report(sweep_dir)


def _print_sweep(outcome: Any, executor: str | None, console: Console | None = None) -> None:
    console = console or _console()
    sens = outcome.sensitivity
    if not sens.empty:
        main_index = sens[sens["index"].isin(["ST", "mu_star", "PRCC"])]
        for output, rows in main_index.groupby("output", sort=False):
            table = _table(escape(f"{output}: {rows['index'].iloc[0]} (95% CI)"))
            _label_column(table, "parameter")
            _number_column(table, "index")
            _number_column(table, "95% CI")
            order = rows.reindex(rows["value"].abs().sort_values(ascending=False).index)
            for row in order.itertuples():
                ci = "–" if row.ci_low != row.ci_low else f"{row.ci_low:.2f} – {row.ci_high:.2f}"
                table.add_row(escape(row.parameter), f"{row.value:.3f}", ci)
            console.print(table)
    for note in outcome.notes:
        console.print(f"[yellow]note:[/yellow] {escape(printable(note))}")
    if len(outcome.failed):
        console.print(f"[red]{len(outcome.failed)} run(s) failed[/red] (see failures.csv):")
        for row in outcome.failed.head(10).itertuples():
            line = f"  point {row.point}, replication {row.replication}, {row.contract}: {row.error}"
            console.print(escape(printable(line)))
    ran = f", ran {outcome.ran} and reused {outcome.reused} of {outcome.total_tasks} runs" if executor else ""
    where = f" on {executor}" if executor else ""
    console.print(escape(f"Wrote {printable(outcome.out_dir)}/ (results, outputs.csv, sensitivity.csv){where}{ran}."))


# Calibration lives in its own package; its commands join the group here.
from fundsim.calibrate.commands import calibrate as calibrate_command  # noqa: E402
from fundsim.calibrate.commands import synth_extract  # noqa: E402

main.add_command(calibrate_command)
main.add_command(synth_extract)


if __name__ == "__main__":  # pragma: no cover
    main()
