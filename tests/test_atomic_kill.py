"""Kill ``fundsim run`` and ``fundsim compare`` with SIGKILL at many moments and check that the
results folder is never partial.

A driver process imports fundsim once and then forks one child per trial; the child runs the
command line (``run`` or ``compare`` on ``scenarios/tiny.yaml``, one replication, a seed of its
own) and the driver sends it SIGKILL at the trial's moment. Two kinds of moment are used:

- *time*: a delay drawn (seeded) between 0 and 1.2 times the command's measured duration, so the
  kill lands anywhere in loading, simulating, pricing and writing;
- *line*: the child counts the lines executed in ``fundsim/experiment/store.py`` while writing
  and kills itself at the k-th: for a seeded sample of k over the whole write (temporary folder,
  clean-up of stale siblings, every file, the manifest), and, for ``run``, at every line of the
  commit (``_move_into_place``: the rename, or the exchange and the deletion of the old folder),
  once with ``renameat2`` and once with the fallback that renames the old folder aside and the new
  one in.

Before each trial the output folder is either absent or holds a previous complete result (then
``--overwrite`` is passed). After each kill the invariant is checked: the folder is absent, or it
is complete and is either the previous result or the new one (told apart by the seed in the
manifest); complete means a manifest whose listed files are exactly the files present, each of
the recorded size and SHA-256 and readable (Parquet, CSV). A previous result may only be absent
after a kill in the fallback's window, and then the next write puts it back. At the end an
uninterrupted run leaves no temporary sibling behind.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from fundsim.experiment.store import clean_stale_siblings, file_record

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
TIME_KILLS_PER_COMMAND = 10
LINE_KILLS_PER_COMMAND = 4
#: The functions of store.py that move a complete folder into place (renames, exchange, deletion
#: of the old folder); every line they execute is a kill point of the `run` trials.
COMMIT_FUNCTIONS = frozenset({"_move_into_place", "_exchange", "_fsync_dir", "_remove"})
#: How the output folder is written: new; replacing one by renameat2 exchange; replacing one by
#: the rename-aside fallback.
MODES = ("fresh", "exchange", "fallback")
TRIAL_TIMEOUT_S = 60.0

DRIVER = textwrap.dedent(
    """
    import json, os, signal, sys, time

    import pandas, pyarrow.parquet  # noqa: F401  (imported once, before forking)
    import fundsim.api, fundsim.experiment.compare, fundsim.experiment.executor, fundsim.scenario  # noqa: F401
    from fundsim.cli import main
    from fundsim.experiment import store

    def child(cmd):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        if cmd.get("no_exchange"):
            store._exchange = lambda a, b: False
        lines = 0
        executed = []
        if cmd.get("kill_at_line") is not None or cmd.get("count_file"):
            target, kill_at = store.__file__, cmd.get("kill_at_line")
            # Count from the first line of this function on (None: from the first line of store.py).
            counting = [cmd.get("count_from") is None]

            def local(frame, event, arg):
                nonlocal lines
                if event == "line":
                    counting[0] = counting[0] or frame.f_code.co_name == cmd["count_from"]
                    if not counting[0]:
                        return local
                    lines += 1
                    executed.append(frame.f_code.co_name)
                    if lines == kill_at:
                        os.kill(os.getpid(), signal.SIGKILL)
                return local

            tracer = lambda frame, event, arg: local if frame.f_code.co_filename == target else None  # noqa: E731
            original = fundsim.api.write_outputs

            def traced_write_outputs(*args, **kwargs):
                # Trace only while writing: tracing every call of the simulation would slow it tenfold.
                sys.settrace(tracer)
                try:
                    return original(*args, **kwargs)
                finally:
                    sys.settrace(None)

            fundsim.api.write_outputs = traced_write_outputs
        code = 0
        try:
            main(cmd["args"], standalone_mode=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        if cmd.get("count_file"):
            with open(cmd["count_file"], "w") as handle:
                json.dump(executed, handle)
        os._exit(code)

    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            child(cmd)
        killed = False
        delay = cmd.get("kill_after_s")
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if delay is not None and time.perf_counter() - started >= delay:
                os.kill(pid, signal.SIGKILL)
                killed = True
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.0005)
        signalled = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print(json.dumps({
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "killed": killed or signalled,
            "elapsed_s": time.perf_counter() - started,
        }), flush=True)
    """
)


class Driver:
    """The forking driver process (see the module docstring)."""

    def __init__(self, workdir: Path) -> None:
        script = workdir / "driver.py"
        script.write_text(DRIVER)
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=workdir,
        )
        assert self._readline(120.0) == "ready"

    def _readline(self, timeout_s: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        assert ready, "the driver did not answer in time"
        return self.proc.stdout.readline().strip()

    def trial(self, **cmd: object) -> dict[str, object]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._readline(TRIAL_TIMEOUT_S))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def commit_lines(executed: list[str]) -> list[int]:
    """Kill points in the commit: 1-based line numbers counted from the first line of ``_move_into_place``.

    (Counted from there, not from the start, because how many lines come before depends on what
    earlier trials left in the folder for the clean-up to look at.)
    """
    start = executed.index("_move_into_place")
    return [i - start + 1 for i, name in enumerate(executed) if i >= start and name in COMMIT_FUNCTIONS]


def _args(command: str, out: Path, seed: int, overwrite: bool) -> list[str]:
    args = [command, str(TINY), "-r", "1", "-q", "-o", str(out), "--seed", str(seed)]
    if command == "compare":
        args += ["-c", "block,cost_and_volume", "-j", "1", "--no-risk"]
    return args + (["--overwrite"] if overwrite else [])


def complete_seed(out: Path) -> int:
    """The seed of the complete results folder ``out``; fails if the folder is not complete."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = manifest["files"]
    assert sorted([*listed, "manifest.json"]) == sorted(p.name for p in out.iterdir()), "files differ from manifest"
    for name, record in listed.items():
        assert file_record(out / name) == record, f"{name} differs from its manifest record"
        if name.endswith(".parquet"):
            assert len(pd.read_parquet(out / name)) > 0, name
        elif name.endswith(".csv"):
            assert len(pd.read_csv(out / name)) > 0, name
    return int(manifest["seed"])


@dataclass
class Counts:
    """Kill points tried, and the states they left."""

    trials: int = 0
    killed: int = 0
    absent: int = 0
    previous: int = 0
    new: int = 0
    restored: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)


def check_invariant(out: Path, previous: int | None, new: int, counts: Counts, fallback: bool) -> None:
    """After a kill: absent, the previous complete result, or the new complete one."""
    if not out.exists():
        if previous is not None:
            # Only in the fallback's window between its two renames; the next write restores it.
            assert fallback, "the previous results vanished although the folders were exchanged atomically"
            clean_stale_siblings(out)
            assert complete_seed(out) == previous
            counts.restored += 1
        counts.absent += 1
        return
    seed = complete_seed(out)
    assert seed in {previous, new}, seed
    if seed == new:
        counts.new += 1
    else:
        counts.previous += 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the driver forks")
def test_sigkill_at_any_moment_never_leaves_a_partial_results_folder(
    tmp_path: Path, robustness_figures: dict[str, str]
) -> None:
    driver = Driver(tmp_path)
    rng = random.Random(20251)
    counts = Counts()
    started = time.perf_counter()
    try:
        for command in ("run", "compare"):
            out = tmp_path / f"{command}-out"
            baseline = tmp_path / f"{command}-baseline"
            # Calibration: uninterrupted runs give the baseline, the duration, and the lines of
            # store.py executed when writing a new folder and when replacing one (both ways).
            executed: dict[str, list[str]] = {}  # the function of each line executed, in order
            duration_s = 0.0
            for mode in MODES:
                shutil.rmtree(out, ignore_errors=True)
                target = baseline if mode == "fresh" else out
                if mode != "fresh":
                    shutil.copytree(baseline, out)
                count_file = tmp_path / f"{command}-{mode}-lines"
                result = driver.trial(
                    args=_args(command, target, 1, mode != "fresh"),
                    count_file=str(count_file),
                    no_exchange=mode == "fallback",
                )
                assert result["exit"] == 0, result
                assert complete_seed(target) == 1
                duration_s = max(duration_s, float(result["elapsed_s"]))
                executed[mode] = json.loads(count_file.read_text())
                assert len(executed[mode]) > 20, executed
            plans: list[dict[str, object]] = [
                {"kill_after_s": rng.uniform(0.0, 1.2 * duration_s), "mode": ("fresh", "exchange")[i % 2]}
                for i in range(TIME_KILLS_PER_COMMAND)
            ]
            for i in range(LINE_KILLS_PER_COMMAND):
                mode = MODES[i % len(MODES)]
                plans.append({"kill_at_line": rng.randint(1, len(executed[mode])), "mode": mode})
            if command == "run":  # every line of the commit, when replacing a folder both ways
                plans += [
                    {"kill_at_line": k, "count_from": "_move_into_place", "mode": mode}
                    for mode in ("exchange", "fallback")
                    for k in commit_lines(executed[mode])
                ]
            for plan in plans:
                mode = str(plan.pop("mode"))
                with_previous = mode != "fresh"
                shutil.rmtree(out, ignore_errors=True)
                if with_previous:
                    shutil.copytree(baseline, out)
                seed = 100 + counts.trials
                result = driver.trial(
                    args=_args(command, out, seed, with_previous), no_exchange=mode == "fallback", **plan
                )
                counts.trials += 1
                counts.killed += bool(result["killed"])
                counts.by_kind[("time" if "kill_after_s" in plan else "line")] += 1
                assert result["killed"] or result["exit"] == 0, (plan, result)
                check_invariant(out, 1 if with_previous else None, seed, counts, mode == "fallback")
            # The next uninterrupted write cleans up whatever the killed processes left beside the folder.
            result = driver.trial(args=_args(command, out, 999, True))
            assert result["exit"] == 0, result
            assert complete_seed(out) == 999
            assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.")] == []
    finally:
        driver.close()
        robustness_figures["kill points"] = (
            f"{counts.trials} SIGKILL trials of run/compare ({counts.by_kind['time']} at seeded random times, "
            f"{counts.by_kind['line']} at lines of store.py; {counts.killed} killed before finishing); "
            f"folder afterwards: absent {counts.absent}, previous complete {counts.previous}, "
            f"new complete {counts.new}, previous restored by the next write {counts.restored}; "
            f"partial: 0 ({time.perf_counter() - started:.0f} s)"
        )
    assert counts.trials >= 2 * (TIME_KILLS_PER_COMMAND + LINE_KILLS_PER_COMMAND) + 10
    assert counts.killed >= 20
    assert counts.restored >= 1, "no kill landed between the fallback's two renames"
    # The kill points spread over the whole command: some before anything was written, some after.
    assert counts.new >= 1
    assert counts.previous + counts.absent >= 1


def test_the_invariant_check_can_fail(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("x\n1\n")
    (out / "manifest.json").write_text(json.dumps({"seed": 5, "files": {"a.csv": file_record(out / "a.csv")}}))
    assert complete_seed(out) == 5
    (out / "a.csv").write_text("x\n2\n")  # same size, other content
    with pytest.raises(AssertionError, match="differs"):
        complete_seed(out)
    (out / "a.csv").unlink()
    with pytest.raises(AssertionError, match="files differ"):
        complete_seed(out)
    (out / "manifest.json").unlink()
    (out / "ledger.parquet").write_text("partial")
    with pytest.raises(FileNotFoundError):
        check_invariant(out, None, 7, Counts(), fallback=False)
