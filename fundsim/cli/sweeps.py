"""``fundsim sweep`` and ``fundsim analyse``: sensitivity sweeps, resumable, on processes or Dask."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from fundsim.cli.common import (
    OVERSUBSCRIBE_HELP,
    YES_LONG_HELP,
    bounded_workers,
    check_estimate,
    write_sweep_report,
)
from fundsim.exits import say
from fundsim.report import terminal
from fundsim.safeio import printable


def time_left_s(elapsed_s: float, finished: int, remaining: int, workers: int) -> float | None:
    """Seconds left, estimated from the runs finished so far in this session (``None`` before the first).

    ``workers`` runs go at once, so when the first one finishes the others are about as far on:
    the rate is taken as ``max(finished, workers)`` runs per ``elapsed_s`` until more than
    ``workers`` have finished, then ``finished`` per ``elapsed_s``.
    """
    if finished <= 0 or elapsed_s <= 0:
        return None
    in_parallel = max(finished, min(max(workers, 1), finished + remaining))
    return elapsed_s * remaining / in_parallel


class TimeLeftColumn(ProgressColumn):
    """The time left ("about 3:20 left") from the first run finished (rich's own estimate waits for two)."""

    def render(self, task: Task) -> Text:
        """The estimate, or "estimating…" until a run has finished."""
        started = task.fields.get("run_started")
        if started is None or task.total is None:
            return Text("")
        finished = int(task.completed) - int(task.fields.get("reused", 0))
        left = time_left_s(
            time.monotonic() - started, finished, int(task.total - task.completed), int(task.fields.get("workers", 1))
        )
        if left is None:
            return Text("estimating…", style="progress.remaining")
        minutes, seconds = divmod(round(left), 60)
        hours, minutes = divmod(minutes, 60)
        shown = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        return Text(f"about {shown} left", style="progress.remaining")


def sweep_progress(quiet: bool) -> Progress:
    """The sweep's progress bar: runs done of the total, time elapsed, and an estimate of the time left."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeLeftColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )


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

    workers = choice.dask_local or (choice.jobs if not choice.scheduler else 1)
    with sweep_progress(quiet) as bar:
        task = bar.add_task(escape(f"{spec.name}: runs"), total=None)

        def started(total: int, reused: int) -> None:
            # Called before any scenario is built or run: the total is shown from the start.
            bar.update(task, total=total, completed=reused, reused=reused, workers=workers,
                       run_started=time.monotonic())  # fmt: skip
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
