"""Where sweep tasks run: this process, a local process pool, or a Dask cluster.

All three yield ``(task, result, error)`` as tasks finish. Results are stored by task key, never
by finishing order, so the tables are the same on every executor and for any number of workers.
At most a few tasks per worker are in flight, so memory stays bounded on long sweeps.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import traceback
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fundsim.errors import FundsimError
from fundsim.experiment.executor import AHEAD_PER_WORKER, pool_map_unordered


class DaskUnavailableError(FundsimError):
    """Dask was asked for but ``dask.distributed`` is not installed."""


@dataclass(frozen=True)
class ExecutorChoice:
    """Which executor to use: serial (jobs 1), a local pool (jobs > 1), or Dask."""

    jobs: int = 1
    scheduler: str | None = None  # address of an existing dask.distributed scheduler
    dask_local: int | None = None  # start a LocalCluster with this many workers

    @property
    def name(self) -> str:
        """A short description for manifests and progress."""
        if self.scheduler:
            return f"dask scheduler {self.scheduler}"
        if self.dask_local:
            return f"dask LocalCluster ({self.dask_local} workers)"
        return "serial" if self.jobs <= 1 else f"process pool ({self.jobs} workers)"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FundsimError):
        return str(exc)
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


Outcome = tuple[Any, Any, str | None]


def run(fn: Callable[[Any], Any], tasks: Sequence[Any], choice: ExecutorChoice) -> Generator[Outcome, None, None]:
    """Run ``fn`` on every task; yield ``(task, result, None)`` or ``(task, None, error message)``."""
    if not tasks:
        return  # nothing to do: do not start a pool or connect to a cluster
    if choice.scheduler or choice.dask_local:
        yield from _run_dask(fn, tasks, choice)
    elif choice.jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            try:
                yield task, fn(task), None
            except Exception as exc:  # a failing point is recorded, not fatal
                yield task, None, _describe(exc)
    else:
        yield from _run_pool(fn, tasks, choice.jobs)


def _run_pool(fn: Callable[[Any], Any], tasks: Sequence[Any], jobs: int) -> Iterator[Outcome]:
    for task, future in pool_map_unordered(fn, tasks, jobs):
        exc = future.exception()
        yield (task, None, _describe(exc)) if exc is not None else (task, future.result(), None)


def _run_dask(fn: Callable[[Any], Any], tasks: Sequence[Any], choice: ExecutorChoice) -> Iterator[Outcome]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise DaskUnavailableError("running on Dask needs dask.distributed: pip install 'fundsim[dask]'") from None
    cluster = None
    # The local cluster's scratch space, removed whatever happens (Ctrl-C and SIGTERM included).
    scratch = None if choice.scheduler else tempfile.mkdtemp(prefix="fundsim-dask-")
    try:
        if choice.scheduler:
            client = Client(choice.scheduler, timeout="20s")
        else:
            # Processes, one thread each: the simulation holds the GIL.
            cluster = LocalCluster(
                n_workers=choice.dask_local,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                local_directory=scratch,
            )
            client = Client(cluster)
    except OSError as exc:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise FundsimError(f"cannot reach the Dask scheduler {choice.scheduler}: {exc}") from None
    except BaseException:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        queue = list(reversed(tasks))
        owner: dict[Any, Any] = {}
        flight = as_completed()
        while queue and len(owner) < AHEAD_PER_WORKER * workers:
            task = queue.pop()
            future = client.submit(fn, task, pure=False)
            owner[future.key] = task
            flight.add(future)
        for future in flight:
            task = owner.pop(future.key)
            if future.status == "error":
                yield task, None, _describe(future.exception())
            else:
                yield task, future.result(), None
            future.release()
            if queue:
                nxt = queue.pop()
                new = client.submit(fn, nxt, pure=False)
                owner[new.key] = nxt
                flight.add(new)
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
