"""Running independent simulations: in this process, or on a local process pool.

Results are keyed by their task, never by the order they finish in, so the numbers are the same
for any number of workers: every simulation draws from streams keyed by (seed, replication,
purpose, locality), and nothing depends on which worker ran it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult, simulate


@dataclass(frozen=True)
class SimTask:
    """One simulation: ``scenario`` (its contract and policy included) for ``replication``."""

    key: Hashable
    scenario: Scenario
    replication: int
    check: bool = False  # verify the model's invariants every simulated day


def default_jobs() -> int:
    """Workers to use by default: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _run_task(task: SimTask) -> tuple[Hashable, RunResult]:
    return task.key, simulate(task.scenario, task.replication, check=task.check)


def run_tasks(
    tasks: Sequence[SimTask],
    jobs: int = 1,
    progress: Callable[[Hashable, RunResult], None] | None = None,
) -> dict[Hashable, RunResult]:
    """Simulate every task, ``jobs`` at a time; return the results by task key.

    ``jobs=1`` runs in this process (no pool: simplest to debug and profile). Larger values use a
    :class:`~concurrent.futures.ProcessPoolExecutor` with at most ``jobs`` workers, submitting
    no more than two tasks per worker ahead so that memory stays bounded on long lists.
    """
    results: dict[Hashable, RunResult] = {}
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            key, run = _run_task(task)
            results[key] = run
            if progress is not None:
                progress(key, run)
        return results
    pending: set[Future[Any]] = set()
    queue = list(tasks)
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        try:
            while queue or pending:
                while queue and len(pending) < 2 * jobs:
                    pending.add(pool.submit(_run_task, queue.pop(0)))
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key, run = future.result()
                    results[key] = run
                    if progress is not None:
                        progress(key, run)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return results
