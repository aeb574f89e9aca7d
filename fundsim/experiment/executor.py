"""Running independent simulations: in this process, or on a local process pool.

Results are keyed by their task, never by the order they finish in, so the numbers are the same
for any number of workers: every simulation draws from streams keyed by (seed, replication,
purpose, locality), and nothing depends on which worker ran it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Generator, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from fundsim.experiment.guards import check_ledger
from fundsim.interrupts import deferred_signals, reset_in_child
from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult, simulate

T = TypeVar("T")
R = TypeVar("R")


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
    result = simulate(task.scenario, task.replication, check=task.check)
    check_ledger(result.ledger)  # cheap invariants of the published numbers, on every run
    return task.key, result


_PR_SET_PDEATHSIG = 1


def _worker_init(parent: int) -> None:
    """In each pool worker: leave signals to the parent, and die with it.

    Ctrl-C reaches the whole process group; the parent stops its workers itself, so they ignore
    it (no traceback from every worker). On Linux a worker is also sent SIGTERM when its parent
    dies, however it dies (even ``kill -9``), so no worker is ever left running alone.
    """
    reset_in_child()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl: nobody to work for
        os._exit(1)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started, terminate the workers, wait for them to go."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + 5.0
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)


#: How long the parent waits for a task to finish before looking again (the most an interrupt waits).
POLL_S = 0.2

#: Tasks submitted ahead per worker: enough to keep workers busy, few enough to bound memory.
AHEAD_PER_WORKER = 2


def pool_map_unordered(
    fn: Callable[[T], R], tasks: Sequence[T], jobs: int
) -> Generator[tuple[T, Future[R]], None, None]:
    """Run ``fn`` on every task on a local process pool of at most ``jobs`` workers.

    Yields ``(task, future)`` as each finishes (the future is done: ``result()`` returns or raises).
    At most :data:`AHEAD_PER_WORKER` tasks per worker are in flight, so memory stays bounded on long
    lists. If the caller stops early or raises, or the process is interrupted (Ctrl-C, SIGTERM,
    SIGHUP), tasks not yet started are cancelled and the workers are terminated at once
    (:func:`stop_pool`); workers also die with their parent (:func:`_worker_init`).
    """
    queue = list(reversed(tasks))
    pending: dict[Future[R], T] = {}
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(jobs, len(tasks))), initializer=_worker_init, initargs=(os.getpid(),)
    )
    try:
        while queue or pending:
            # Submitting and polling take the pool's and the futures' locks: a signal is held until
            # they are released (an interrupt inside them could leave one held, and stop_pool would
            # then wait on it for ever). Polling every POLL_S keeps an interrupt's delay that short.
            with deferred_signals():
                while queue and len(pending) < AHEAD_PER_WORKER * jobs:
                    task = queue.pop()
                    pending[pool.submit(fn, task)] = task
                done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future
    except BaseException:
        # Ctrl-C, SIGTERM (fundsim.interrupts), an error, or the caller closing the generator
        # early: stop now rather than wait for the simulations that are running to finish.
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def run_tasks(
    tasks: Sequence[SimTask],
    jobs: int = 1,
    progress: Callable[[Hashable, RunResult], None] | None = None,
) -> dict[Hashable, RunResult]:
    """Simulate every task, ``jobs`` at a time; return the results by task key.

    ``jobs=1`` runs in this process (no pool: simplest to debug and profile). Larger values use a
    local process pool (:func:`pool_map_unordered`); the first failing task's error is raised.
    """
    results: dict[Hashable, RunResult] = {}

    def record(key: Hashable, run: RunResult) -> None:
        results[key] = run
        if progress is not None:
            progress(key, run)

    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            record(*_run_task(task))
        return results
    finished = pool_map_unordered(_run_task, tasks, jobs)
    try:
        for _task, future in finished:
            record(*future.result())
    finally:
        finished.close()  # on an error: cancel what has not started and shut the pool down now
    return results
