"""``fundsim sweep`` and ``fundsim analyse``: sensitivity sweeps, resumable, on processes or Dask."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from fundsim.cli.common import (
    OVERSUBSCRIBE_HELP,
    YES_LONG_HELP,
    bounded_workers,
    check_estimate,
    progress_bar,
    write_sweep_report,
)
from fundsim.exits import say
from fundsim.report import terminal
from fundsim.safeio import printable


@click.command()
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
    from fundsim.api import ExecutorChoice, SweepPlan, default_jobs, estimate_job, load_sweep, run_sweep

    if scheduler and dask_local:
        raise click.UsageError("give --scheduler or --dask-local, not both")
    spec = load_sweep(sweep_file)
    out_dir = out_dir or Path("results") / spec.name
    jobs = bounded_workers(jobs, "-j", oversubscribe) if jobs else default_jobs()
    if dask_local:
        dask_local = bounded_workers(dask_local, "--dask-local", oversubscribe)
    choice = ExecutorChoice(jobs=jobs, scheduler=scheduler, dask_local=dask_local)
    ctx = click.get_current_context()
    ctx.meta["fundsim.interrupted"] = f"stopped before anything was written to {printable(out_dir)}"

    def check_job(plan: SweepPlan, todo: int) -> None:
        workers = choice.dask_local or (1 if choice.scheduler else choice.jobs)
        check_estimate(estimate_job(plan.base, todo, workers), yes_long, quiet)
        ctx.meta["fundsim.interrupted"] = (
            f"finished runs are kept in {printable(out_dir)}; rerun the same command to resume"
        )

    with progress_bar(quiet) as bar:
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
    terminal.print_sweep(outcome, choice.name)
    write_sweep_report(outcome.out_dir)


@click.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
def analyse(sweep_dir: Path) -> None:
    """Redo the tables and sensitivity analysis of the sweep folder SWEEP_DIR (no simulation)."""
    from fundsim.api import analyse_sweep

    terminal.print_sweep(analyse_sweep(sweep_dir), None)
    write_sweep_report(sweep_dir)
