"""What every command shares: option help, the progress bar, the estimate and the preflight, rescue."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from fundsim.errors import FundsimError
from fundsim.exits import NotWrittenError, say
from fundsim.report import terminal
from fundsim.safeio import printable

INCIDENCE_HELP = (
    "Also simulate each replication as the reference service and with the passive provider, to say who "
    "absorbs the activity the contract does not pay for."
)
YES_LONG_HELP = "Start even when the estimate is above the limits (6 hours, or 80% of the machine's memory)."
OVERSUBSCRIBE_HELP = "Allow more worker processes than the CPUs this process may use."

F = TypeVar("F", bound=Callable[..., Any])

#: The options ``run`` and ``compare`` share, top to bottom as ``--help`` lists them.
_SIMULATION_OPTIONS = (
    click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    click.option("--report", "make_report", is_flag=True, help="Also write the HTML report into the output folder."),
    click.option(
        "--check", is_flag=True, help="Verify the model's invariants every simulated day (slower; for testing)."
    ),
    click.option("--incidence/--no-incidence", default=True, show_default=True, help=INCIDENCE_HELP),
    click.option("--yes-long", is_flag=True, help=YES_LONG_HELP),
    click.option("--oversubscribe", is_flag=True, help=OVERSUBSCRIBE_HELP),
)


def simulation_options(command: F) -> F:
    """Add the options every simulating command takes (as if each were written above it, in order)."""
    for option in reversed(_SIMULATION_OPTIONS):
        command = option(command)
    return command


#: What a writer returns (the files it wrote).
Written = TypeVar("Written")


def print_sizing(scenario: Any) -> None:
    """The sizing check's warnings on standard error (they never stop a command)."""
    from fundsim.api import sizing_warnings

    for warning in sizing_warnings(scenario):
        say(f"warning: sizing: {warning}", err=True)


def print_run_warnings(results: Any) -> None:
    """After-run warnings (fundsim.experiment.diagnostics) on standard error."""
    from fundsim.api import run_warnings

    for warning in run_warnings(results.scenario, results.ledger, results.provider, results.per_replication):
        say(f"warning: {warning}", err=True)


def on_interrupt(message: str) -> None:
    """What to say if Ctrl-C, SIGTERM or SIGHUP stops the command from now on (fundsim.exits)."""
    click.get_current_context().meta["fundsim.interrupted"] = message


def inputs(path: Path) -> list[Path]:
    """The input files a command reads, for the preflight (standard input is no file)."""
    from fundsim.safeio import is_stdin

    return [] if is_stdin(path) else [Path(path)]


def bounded_workers(requested: int, option: str, oversubscribe: bool) -> int:
    """``requested`` workers, at most the CPUs this process may use unless ``oversubscribe``."""
    from fundsim.api import cpu_count

    cpus = cpu_count()
    if requested <= cpus or oversubscribe:
        return requested
    say(
        f"note: {option} {requested} is more than the {cpus} CPU(s) this process may use, which would only slow "
        f"the job down and use more memory; using {cpus} (pass --oversubscribe to use {requested})"
    )
    return cpus


def check_estimate(estimate: Any, confirmed: bool, quiet: bool) -> None:
    """Print the job's estimate (on standard error) and refuse it above the limits unless confirmed.

    With ``--quiet`` the estimate is printed only for jobs of a minute or more.
    """
    from fundsim.api import check_limits

    if not quiet or estimate.seconds >= 60:
        say(estimate.describe())
    check_limits(estimate, confirmed)


def write_or_rescue(write: Callable[[Path, bool], Written], out_dir: Path, overwrite: bool) -> Written:
    """Write the results into ``out_dir``; if that fails after the compute, into a fallback folder.

    The fallback's path is printed and the command ends with exit status 4 (:class:`NotWrittenError`).
    """
    from fundsim.api import rescue

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


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on standard error with the time elapsed and an estimate of the time left."""
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


def parse_contracts(value: str | None) -> list[str] | None:
    """The names of ``--contracts a,b``; ``None`` when the option is not given (every contract)."""
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise click.BadParameter("give at least one contract name, e.g. block,capitation", param_hint="--contracts")
    return names


def write_report(results_dir: Path, out_file: Path | None, quiet: bool, accept_changed: bool = False) -> None:
    """Build the report of ``results_dir`` with a progress bar; say what was written."""
    from fundsim.report import build_report

    if is_sweep_folder(results_dir):
        if out_file is not None:
            raise click.UsageError("--out is for run and compare folders; a sweep's report.html goes into its folder")
        write_sweep_report(results_dir)
        return
    started = time.perf_counter()
    with progress_bar(quiet) as bar:
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
    terminal.new_console().print(
        f"Wrote {printable(outputs.html)} ({figures} figure(s)), {where}/figures/ (PNG and SVG), "
        f"{where}/tables/ and {printable(outputs.workbook.name)} ({len(outputs.tables)} table(s)) "
        f"in {time.perf_counter() - started:.1f} s.",
        markup=False,  # paths and scenario text are printed as they are
    )
    for item in outputs.skipped:
        terminal.new_console().print(f"Not shown: {printable(item)}.", markup=False)


def is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder``'s manifest says it is a sweep's (its report is the sweep report)."""
    from fundsim.api import folder_kind

    return folder_kind(Path(folder)) == "sweep"


def write_sweep_report(sweep_dir: Path) -> None:
    """Write the sweep folder's report and say where."""
    from fundsim.report import build_sweep_report

    html = build_sweep_report(sweep_dir)
    message = (
        f"Wrote {printable(html)}, {printable(sweep_dir)}/sweep.xlsx and {printable(sweep_dir)}/figures/ "
        "(tornado charts, responses with a smoother, heat maps)."
    )
    terminal.new_console().print(message, markup=False)
