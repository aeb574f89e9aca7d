"""Hostile suite, signals (issue 15, item 5): SIGTERM and SIGHUP are handled like Ctrl-C.

Category ``signals``. A driver process imports fundsim once and forks one child per case, which
runs a command line (``run -j 2``, ``compare -j 2``, ``sweep -j 2``, …) on scenarios/tiny.yaml; once
the child's pool workers are up, the test sends it a signal. Each case is judged on the exit
status (128 + the signal: 143 SIGTERM, 129 SIGHUP, 130 SIGINT), no traceback, every worker gone
(no process left behind, even after SIGKILL of the parent: workers die with it), no partial
output (a previous results folder intact, no temporary sibling), and, for sweeps, that the same
command resumes and finishes. ``--hostile-long`` adds a Dask LocalCluster stopped by SIGTERM (its
scratch folder must be removed) and kills at seeded random moments.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from hostile_kit import TINY, Guard, Outcome, copy_folder, invoke, judge, leftovers, long_mode, write_sweep

DRIVER = textwrap.dedent(
    """
    import json, os, signal, sys

    # Ctrl-C as a foreground job gets it: a shell starts background jobs (`cmd &`, as CI may run
    # the suite) with SIGINT ignored, and the children would inherit that and never see Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    import pandas, pyarrow.parquet  # noqa: F401  (imported once, before forking)
    import fundsim.api, fundsim.sweep.run  # noqa: F401
    from fundsim.cli import main

    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            os.chdir(cmd["cwd"])
            out = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.setpgid(0, 0)  # its own process group, like a job started from a shell
            try:
                main(cmd["args"], prog_name="fundsim")
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
            os._exit(0)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"pid": pid, "status": code}), flush=True)
    """
)


class Driver:
    """A process that has imported fundsim and forks a command line on request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def start(self, args: list[object], cwd: Path) -> tuple[int, Path]:
        log = cwd / "fundsim.log"
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "cwd": str(cwd), "log": str(log)}) + "\n")
        self.proc.stdin.flush()
        return int(json.loads(self.proc.stdout.readline())["pid"]), log

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        import select

        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                return int(json.loads(self.proc.stdout.readline())["status"])
        raise AssertionError(f"the command did not end within {timeout} s of the signal (a hang)")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()


@pytest.fixture(scope="module")
def driver() -> Iterator[Driver]:
    d = Driver()
    yield d
    d.close()


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _wait_for_workers(pid: int, n: int, timeout: float = 60.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = [
            p for p in _descendants(pid) if "resource_tracker" not in " ".join(_safe(p.cmdline)) and _safe(p.is_running)
        ]
        if len(kids) >= n:
            return kids
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} workers started within {timeout} s")


def _safe(call):  # type: ignore[no-untyped-def]
    try:
        return call()
    except psutil.Error:
        return [] if call.__name__ == "cmdline" else False


def _all_gone(processes: list[psutil.Process], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = processes
    while time.monotonic() < deadline:
        alive = [p for p in alive if _safe(p.is_running) and _safe(p.status) != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.1)
    return [p.pid for p in alive]


SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP, "SIGINT": signal.SIGINT, "SIGKILL": signal.SIGKILL}


def _args(cmd: str, out: Path, jobs: int, sweep: Path | None = None) -> list[object]:
    if cmd == "run":
        return ["run", TINY, "-q", "-r", "400", "-j", str(jobs), "-o", out, "--oversubscribe"]
    if cmd == "compare":
        return ["compare", TINY, "-q", "-r", "80", "-j", str(jobs), "--no-risk", "-o", out, "--oversubscribe"]
    return ["sweep", sweep, "-q", "-j", str(jobs), "-o", out, "--oversubscribe"]


CASES = [
    ("run", 2, "SIGTERM", "fresh"),
    ("run", 2, "SIGHUP", "fresh"),
    ("run", 2, "SIGINT", "fresh"),
    ("run", 2, "SIGTERM", "previous"),
    ("run", 2, "SIGKILL", "previous"),
    ("run", 1, "SIGTERM", "fresh"),
    ("compare", 2, "SIGTERM", "fresh"),
    ("compare", 2, "SIGHUP", "previous"),
    ("compare", 2, "SIGINT", "fresh"),
    ("sweep", 2, "SIGTERM", "fresh"),
    ("sweep", 2, "SIGHUP", "fresh"),
    ("sweep", 1, "SIGTERM", "fresh"),
]


def _sweep_file(folder: Path, points: int = 10) -> Path:
    from hostile_kit import SWEEP_TEXT

    return write_sweep(folder, SWEEP_TEXT.replace("points: 3", f"points: {points}"))


@pytest.mark.hostile("signals")
@pytest.mark.parametrize(("cmd", "jobs", "name", "state"), CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_signals_stop_workers_and_leave_no_partial_output(
    request, tmp_path, driver, hostile_saved, cmd, jobs, name, state
) -> None:
    out = tmp_path / "out"
    sweep = _sweep_file(tmp_path / "in") if cmd == "sweep" else None
    if state == "previous":
        copy_folder(hostile_saved[cmd], out)
    args = _args(cmd, out, jobs, sweep)
    if state == "previous":
        args.append("--overwrite")
    guard = Guard([out]) if state == "previous" else None
    pid, log = driver.start(args, tmp_path)
    workers = _wait_for_workers(pid, jobs if jobs > 1 else 0)
    if jobs == 1:
        time.sleep(1.0)
    else:
        time.sleep(0.5)
        workers = _wait_for_workers(pid, jobs)
    os.kill(pid, SIGNALS[name])
    status = driver.wait()
    expected = -9 if name == "SIGKILL" else 128 + int(SIGNALS[name])
    text = log.read_text(errors="replace")
    outcome = Outcome(status, "", text)
    judge(request, outcome, [expected], guard=guard)
    assert not _all_gone(workers), "pool workers outlived their parent"
    if name != "SIGKILL":
        assert f"interrupted by {'Ctrl-C' if name == 'SIGINT' else name}" in text
        assert not leftovers(tmp_path), leftovers(tmp_path)
    if cmd != "sweep" and state == "fresh":
        assert not out.exists(), "a partial results folder was left"
    if cmd == "sweep":
        assert "rerun the same command to resume" in text
        before = {p.name for p in (out / "runs").glob("*.parquet")} if (out / "runs").is_dir() else set()
        resumed = invoke(["sweep", sweep, "-q", "-j", "1", "-o", out], timeout=300)
        judge(request, resumed, [0], workdir=tmp_path)
        assert f"reused {len(before)} of" in " ".join(resumed.output.split())


@pytest.mark.hostile("signals")
@pytest.mark.parametrize("cmd", ["run", "compare", "sweep"])
def test_ctrl_c_in_process_is_exit_130_with_nothing_partial(request, tmp_path, monkeypatch, cmd) -> None:
    import fundsim.experiment.executor as executor
    import fundsim.sweep.tasks as tasks

    calls = []

    def interrupt(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # after the first simulation finished
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = executor.simulate
    monkeypatch.setattr(executor, "simulate", interrupt)
    monkeypatch.setattr(tasks, "simulate", interrupt)
    out = tmp_path / "out"
    sweep = _sweep_file(tmp_path / "in", points=3) if cmd == "sweep" else None
    args = [a for a in _args(cmd, out, 1, sweep) if a != "--oversubscribe"]
    if cmd == "run":
        args[args.index("400")] = "3"
    if cmd == "compare":
        args[args.index("80")] = "2"
    outcome = invoke(args)
    judge(request, outcome, [130], workdir=tmp_path, says=["interrupted by Ctrl-C"])
    if cmd != "sweep":
        assert not out.exists()
    else:
        assert len(list((out / "runs").glob("*.parquet"))) == 1


@pytest.mark.hostile("signals")
@pytest.mark.parametrize("trial", [0, 1, *(long_mode(t) for t in range(2, 12))])
def test_sigterm_at_random_moments(request, tmp_path, driver, trial) -> None:
    rng = random.Random(1500 + trial)
    cmd = rng.choice(["run", "compare"])
    out = tmp_path / "out"
    args = _args(cmd, out, 2)
    args[args.index("400" if cmd == "run" else "80")] = "6"
    pid, log = driver.start(args, tmp_path)
    time.sleep(rng.uniform(0.0, 3.0))
    kids = _descendants(pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    status = driver.wait()
    outcome = Outcome(status, "", log.read_text(errors="replace"))
    judge(request, outcome, [0, 143], workdir=tmp_path)
    assert not _all_gone([k for k in kids if "resource_tracker" not in " ".join(_safe(k.cmdline))])
    # No temporary sibling is left whenever the signal lands.
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    if status == 143 and out.exists():
        # The signal landed after the results folder was swapped into place (the write is atomic), so
        # it is complete: stopped, but nothing half-written.
        assert (out / "manifest.json").is_file()
    elif status != 143:
        assert (out / "manifest.json").is_file()


@pytest.mark.hostile("signals")
@pytest.mark.hostile_long
def test_a_dask_local_cluster_stopped_by_sigterm(request, tmp_path, driver) -> None:
    """Long mode only: starting a Dask cluster takes a while."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    sweep = _sweep_file(tmp_path / "in", points=60)
    pid, log = driver.start(["sweep", sweep, "-q", "--dask-local", "2", "-o", out, "--oversubscribe"], tmp_path)
    runs = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (runs.is_dir() and list(runs.glob("*.parquet"))):
        time.sleep(0.2)
    kids = _descendants(pid)
    scratch = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("fundsim-dask-*")]
    os.kill(pid, signal.SIGTERM)
    status = driver.wait(timeout=120)
    outcome = Outcome(status, "", log.read_text(errors="replace"))
    judge(request, outcome, [143], workdir=tmp_path)
    assert not _all_gone(kids, timeout=30)
    assert not [p for p in scratch if p.exists()], "Dask scratch left behind"
