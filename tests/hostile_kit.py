"""The judge of the hostile suite (tests/test_hostile_*.py): run a command, then check the five promises.

Every hostile case runs one ``fundsim`` command (in-process through click's runner, or as a real
process where signals or terminals matter) against a hostile input, place or folder, and is
judged on:

1. **exit status**: one of the statuses the case allows (see ``fundsim.exits``);
2. **no traceback**: neither ``Traceback`` nor an escaped exception in the output;
3. **no hang**: the command ends within its time limit (SIGALRM in-process, a timeout outside);
4. **nothing saved altered**: every protected tree (inputs, saved results, a user's own files,
   devices) hashes the same before and after, down to file types, sizes, contents and link targets;
5. **nothing left behind**: no temporary sibling, probe folder or set-aside folder in the work
   folder, and no process started by the command still running.

Each case records its category and exit status on the test item; conftest.py prints the counts
per category and outcome at the end of the session.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from fundsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
TINY_TEXT = TINY.read_text(encoding="utf-8")

#: Names fundsim gives its temporary things; none may survive a command.
LEFTOVER_MARKS = (".tmp-", ".old-", ".fundsim-probe-", "fundsim-dask-")


def long_mode(*values: object) -> object:
    """A ``pytest.param`` of a case run only in the long mode (``--hostile-long``)."""
    return pytest.param(*values, marks=pytest.mark.hostile_long)


class Hang(BaseException):
    """A command ran past its time limit (a BaseException, so no handler in fundsim can swallow it)."""


@dataclass
class Outcome:
    """What a command did: its exit status and output."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None
    seconds: float = 0.0

    @property
    def output(self) -> str:
        """Standard output and error together."""
        return self.stdout + self.stderr


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in this (main) thread after ``seconds``."""

    def _hang(_signum: int, _frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _hang)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def invoke(
    args: Sequence[str],
    *,
    stdin: bytes | str | None = None,
    charset: str = "utf-8",
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Outcome:
    """Run ``fundsim ARGS`` in this process (click's runner) within ``timeout`` seconds."""
    runner = CliRunner(charset=charset, env=env)
    started = time.perf_counter()
    with time_limit(timeout):
        result = runner.invoke(main, [str(a) for a in args], input=stdin, catch_exceptions=True)
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, exception, time.perf_counter() - started)


def run_process(args: Sequence[str], *, cwd: Path, timeout: float = 120.0, env: dict | None = None) -> Outcome:
    """Run ``python -m fundsim.cli ARGS`` as a real process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "fundsim.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return Outcome(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        None,
        time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- trees


def tree(root: Path) -> dict[str, tuple]:
    """A fingerprint of everything under ``root`` (itself included): type, size, content hash, link target.

    Never follows links and never opens anything but regular files (a FIFO or device is recorded
    by its type and device number).
    """
    out: dict[str, tuple] = {}
    root = Path(root)
    if not os.path.lexists(root):
        return out
    stack = [root]
    while stack:
        path = stack.pop()
        rel = os.path.relpath(path, root)
        info = os.lstat(path)
        mode = info.st_mode
        if stat.S_ISLNK(mode):
            out[rel] = ("link", os.readlink(path))
        elif stat.S_ISDIR(mode):
            out[rel] = ("dir", stat.S_IMODE(mode))
            with os.scandir(path) as entries:
                stack.extend(Path(e.path) for e in entries)
        elif stat.S_ISREG(mode):
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            out[rel] = ("file", info.st_size, digest)
        else:
            out[rel] = ("special", stat.S_IFMT(mode), info.st_rdev)
    return out


@dataclass
class Guard:
    """Trees that must come out of a case as they went in."""

    roots: list[Path]
    before: dict[str, dict[str, tuple]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.before = {str(r): tree(r) for r in self.roots}

    def changed(self) -> list[str]:
        """Paths under the guarded roots that differ now (added, removed or changed)."""
        out = []
        for root, was in self.before.items():
            now = tree(Path(root))
            for rel in sorted(set(was) | set(now)):
                if was.get(rel) != now.get(rel):
                    out.append(os.path.join(root, rel))
        return out


def leftovers(folder: Path) -> list[str]:
    """fundsim's temporary things left anywhere under ``folder``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in (*dirnames, *filenames):
            if any(mark in name for mark in LEFTOVER_MARKS):
                found.append(os.path.join(dirpath, name))
    return found


def child_processes() -> set[int]:
    """Live processes started by this one (multiprocessing's resource tracker excepted)."""
    out = set()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            if "resource_tracker" in " ".join(child.cmdline()):
                continue
            out.add(child.pid)
    return out


# --------------------------------------------------------------------------- the judge


def judge(
    request: pytest.FixtureRequest,
    outcome: Outcome,
    allowed: Iterable[int],
    *,
    guard: Guard | None = None,
    workdir: Path | None = None,
    says: Iterable[str] = (),
    children_before: set[int] | None = None,
) -> None:
    """Check a case's outcome against the five promises (module docstring); record its exit status."""
    request.node.user_properties.append(("hostile_exit", outcome.code))
    allowed = tuple(allowed)
    assert outcome.exception is None, f"an exception escaped: {outcome.exception!r}\n{outcome.output[-2000:]}"
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    assert outcome.code in allowed, f"exit {outcome.code}, allowed {allowed}:\n{outcome.output[-2000:]}"
    for needle in says:
        assert needle in " ".join(outcome.output.split()), f"{needle!r} not in:\n{outcome.output[-2000:]}"
    if guard is not None:
        changed = guard.changed()
        assert not changed, f"saved things were altered: {changed[:10]}"
    if workdir is not None:
        left = leftovers(workdir)
        assert not left, f"left behind: {left[:10]}"
    if children_before is not None:
        deadline = time.monotonic() + 10
        while (extra := child_processes() - children_before) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not extra, f"processes left running: {sorted(extra)}"


def tiny_text(**replace: str) -> str:
    """scenarios/tiny.yaml with each ``old=new`` text replacement made once (the old text must be there)."""
    text = TINY_TEXT
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def write_tiny(path: Path, text: str | None = None) -> Path:
    """Write a scenario file (tiny.yaml by default) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TINY_TEXT if text is None else text, encoding="utf-8")
    return path


def can_mount() -> str | None:
    """Why tmpfs mounts cannot be used here (None when they can)."""
    if not sys.platform.startswith("linux"):
        return "tmpfs mounts need Linux"
    if os.geteuid() != 0:
        return "tmpfs mounts need root"
    return None


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m", readonly: bool = False) -> Iterator[Path]:
    """Mount a small tmpfs on ``folder`` for the block (skips the test if that is not possible); always unmounts."""
    why = can_mount()
    if why is not None:
        pytest.skip(why)
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if readonly else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.2)
        else:  # pragma: no cover - a busy mount: detach it so nothing is left mounted
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


# --------------------------------------------------------------------------- saved folders

SWEEP_TEXT = """\
name: hostile
base: base.yaml
design: lhs
points: 3
replications: 1
seed: 5
contracts: [block, cost_and_volume]
parameters:
  - path: demand.growth_per_year
    uniform: [0.0, 0.08]
  - path: workforce.grades[1].fte
    uniform: [1.0, 2.0]
outputs:
  - measure: absorbed_gbp_per_year
    contract: block
"""


def write_sweep(folder: Path, text: str = SWEEP_TEXT, base: str | None = None) -> Path:
    """A small sweep over tiny.yaml (``base.yaml`` beside it): 3 points × 1 replication × 2 contracts."""
    folder.mkdir(parents=True, exist_ok=True)
    write_tiny(folder / "base.yaml", base)
    path = folder / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def make_saved(root: Path) -> dict[str, Path]:
    """A run folder, a compare folder and a sweep folder of tiny.yaml, written once for the session."""
    scenario = write_tiny(root / "inputs" / "tiny.yaml")
    run, compare = root / "run", root / "compare"
    sweep_file = write_sweep(root / "inputs" / "sweep")
    for args in (
        ["run", scenario, "-r", "2", "-q", "-o", run],
        ["compare", scenario, "-r", "2", "-q", "--no-risk", "-c", "block,cost_and_volume", "-o", compare],
        ["sweep", sweep_file, "-q", "-j", "1", "-o", root / "sweep"],
    ):
        outcome = invoke(args, timeout=300)
        assert outcome.code == 0, outcome.output
    return {"scenario": scenario, "run": run, "compare": compare, "sweep": root / "sweep", "sweep_file": sweep_file}


def copy_folder(source: Path, target: Path) -> Path:
    """A copy of a saved folder (links and all) at ``target``."""
    import shutil

    shutil.copytree(source, target, symlinks=True)
    return target
