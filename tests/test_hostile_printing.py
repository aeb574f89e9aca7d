"""Hostile suite, what is printed (issue 15, item 3): no traceback from any command, on any
terminal, whatever the paths hold.

Categories: ``printing`` (paths with Rich markup, control characters, bytes that are not UTF-8,
an ASCII terminal: printed literally and safely), ``internal-error`` (an unexpected error inside
fundsim ends with one line, a crash file and exit status 70; each known kind has its own status).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from hostile_kit import TINY, Guard, Outcome, invoke, judge, long_mode, write_tiny

import fundsim.experiment.executor as executor
import fundsim.report as report_package
from fundsim import crash
from fundsim.safeio import printable
from fundsim.sim.checks import InvariantError

#: Names that break naive printing: Rich markup, escapes, control characters, other scripts.
NAMES = {
    "markup-bold": "res[bold]x",
    "markup-close": "res[/x]",
    "markup-bare-close": "res[/]",
    "markup-link": "[link=http://evil.example]click[/link]",
    "escaped-bracket": "a\\[b",
    "emoji": "résultats 🙂 ✓",
    "right-to-left": "abc\u202edcba",
    "tab": "a\tb",
    "newline": "a\nb",
    "escape-sequence": "a\x1b[31mred",
    "percent-braces": "100% {0} %s",
    "not-utf8": os.fsdecode(b"res\xff\xfe-bytes"),
    "only-bytes": os.fsdecode(b"\xc3\x28\xa0\xa1"),
    "leading-dash": "-not-an-option",
}


def _squeezed(text: str) -> str:
    """``text`` without any whitespace (Rich wraps long lines where it likes)."""
    return "".join(text.split())


@pytest.mark.hostile("printing")
@pytest.mark.parametrize("charset", ["utf-8", "ascii"])
@pytest.mark.parametrize("name", sorted(NAMES))
def test_run_prints_any_output_path(request, tmp_path, monkeypatch, name, charset) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    guard = Guard([tmp_path / "in"])
    out = NAMES[name]
    outcome = invoke(["run", scenario, "-r", "1", "-q", "-o", f"./{out}"], charset=charset)
    judge(request, outcome, [0], guard=guard, workdir=tmp_path)
    assert (tmp_path / out / "manifest.json").is_file()
    if charset == "utf-8":
        assert _squeezed(printable(Path(out))) in _squeezed(outcome.output)  # as a path: // becomes /


@pytest.mark.hostile("printing")
@pytest.mark.parametrize("charset", ["utf-8", "ascii"])
@pytest.mark.parametrize("name", sorted(NAMES))
def test_messages_print_any_path(request, tmp_path, monkeypatch, name, charset) -> None:
    """A scenario file whose name is hostile, valid and then refused; an output path that is a file."""
    monkeypatch.chdir(tmp_path)
    scenario = write_tiny(tmp_path / f"{NAMES[name]}.yaml")
    (tmp_path / "blocker").write_text("x")
    guard = Guard([tmp_path])
    relative = "./" + os.path.relpath(scenario, tmp_path)
    outcome = invoke(["validate", relative], charset=charset)
    judge(request, outcome, [0], guard=guard)
    outcome = invoke(["run", relative, "-q", "-r", "1", "-o", "blocker/" + NAMES[name]], charset=charset)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path)
    outcome = invoke(["report", f"./{NAMES[name]}-missing"], charset=charset)
    judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=["no such folder"])


@pytest.mark.hostile("printing")
@pytest.mark.parametrize(
    "name", ["markup-close", "not-utf8", long_mode("emoji"), long_mode("escape-sequence"), long_mode("newline")]
)
def test_compare_and_report_print_any_path(request, tmp_path, monkeypatch, name) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    out = f"./{NAMES[name]}"
    outcome = invoke(["compare", scenario, "-r", "1", "-q", "--no-risk", "-c", "block,cost_and_volume", "-o", out])
    judge(request, outcome, [0], workdir=tmp_path)
    outcome = invoke(["report", out, "-q"], charset="ascii", timeout=180)
    judge(request, outcome, [0], workdir=tmp_path)


@pytest.mark.hostile("printing")
@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}])
def test_a_real_ascii_terminal(request, tmp_path, env) -> None:
    """A real process whose standard streams are ASCII: the table's £ and – must not stop it."""
    done = subprocess.run(
        [sys.executable, "-m", "fundsim.cli", "run", str(TINY), "-r", "1", "-o", "résumé[/x]"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    outcome = Outcome(done.returncode, done.stdout.decode("ascii", "replace"), done.stderr.decode("ascii", "replace"))
    judge(request, outcome, [0], workdir=tmp_path)
    assert "Wrote" in outcome.stdout


# --------------------------------------------------------------------------- unexpected errors


def _raiser(exc: BaseException):  # type: ignore[no-untyped-def]
    def simulate(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise exc

    return simulate


INTERNAL = {
    "zero-division": (ZeroDivisionError("division by zero"), 70, "crash"),
    "recursion": (RecursionError("maximum recursion depth exceeded"), 70, "crash"),
    "key-error": (KeyError("tier_x"), 70, "crash"),
    "attribute-error": (AttributeError("'NoneType' object has no attribute 'x'"), 70, "crash"),
    "os-error-without-file": (OSError(errno.EIO, "Input/output error"), 70, "crash"),
    "os-error-with-file": (OSError(errno.EIO, "Input/output error", "/some/file"), 2, "/some/file"),
    "memory": (MemoryError(), 5, "out of memory"),
    "broken-pool": (BrokenProcessPool("a child died"), 5, "worker process died"),
    "invariant": (InvariantError("day 3: negative minutes worked"), 3, "model invariant violated"),
    "keyboard-interrupt": (KeyboardInterrupt(), 130, "interrupted by Ctrl-C"),
}


@pytest.mark.hostile("internal-error")
@pytest.mark.parametrize("case", sorted(INTERNAL))
@pytest.mark.parametrize("cmd", ["run", "compare"])
def test_unexpected_errors_end_with_a_message_and_a_crash_file(request, tmp_path, monkeypatch, case, cmd) -> None:
    exc, status, says = INTERNAL[case]
    monkeypatch.setenv("FUNDSIM_CRASH_DIR", str(tmp_path / "crashes"))
    monkeypatch.delenv("FUNDSIM_TRACEBACK", raising=False)
    monkeypatch.setattr(executor, "simulate", _raiser(exc))
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    guard = Guard([tmp_path / "in"])
    args: list[object] = [cmd, scenario, "-r", "1", "-q", "-o", tmp_path / "out"]
    if cmd == "compare":
        args += ["--no-risk", "-c", "block,cost_and_volume", "-j", "1"]
    outcome = invoke(args)
    judge(request, outcome, [status], guard=guard, workdir=tmp_path, says=[says])
    assert not (tmp_path / "out").exists()
    crashes = list((tmp_path / "crashes").glob("crash-*.txt")) if (tmp_path / "crashes").exists() else []
    if status == 70:
        assert len(crashes) == 1
        text = crashes[0].read_text()
        assert "Traceback" in text
        assert type(exc).__name__ in text
        assert str(crashes[0]) in outcome.stderr
    else:
        assert not crashes


@pytest.mark.hostile("internal-error")
@pytest.mark.parametrize("where", ["report", "validate", "sweep"])
def test_unexpected_errors_in_other_commands(request, tmp_path, monkeypatch, hostile_saved, where) -> None:
    monkeypatch.setenv("FUNDSIM_CRASH_DIR", str(tmp_path / "crashes"))
    if where == "report":
        monkeypatch.setattr(report_package, "build_report", _raiser(RuntimeError("figure engine broke")))
        args: list[object] = ["report", hostile_saved["run"], "-q"]
    elif where == "validate":
        import fundsim.api as api  # the command line loads scenarios through the public API

        monkeypatch.setattr(api, "load_scenario", _raiser(TypeError("unexpected")))
        args = ["validate", TINY]
    else:
        import fundsim.sweep.run as sweep_run

        monkeypatch.setattr(sweep_run, "design_table", _raiser(IndexError("design")))
        from hostile_kit import write_sweep

        args = ["sweep", write_sweep(tmp_path / "in"), "-q", "-j", "1", "-o", tmp_path / "out"]
    guard = Guard([hostile_saved["run"]])
    outcome = invoke(args)
    judge(request, outcome, [70], guard=guard, says=["internal error", "crash-"])


@pytest.mark.hostile("internal-error")
def test_no_crash_file_anywhere_still_ends_with_a_message(request, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(crash, "crash_dirs", lambda: [Path("/proc/not-writable"), tmp_path / "file" / "x"])
    (tmp_path / "file").write_text("x")
    monkeypatch.setattr(executor, "simulate", _raiser(ZeroDivisionError("boom")))
    outcome = invoke(["run", TINY, "-r", "1", "-q", "-o", tmp_path / "out"])
    judge(request, outcome, [70], workdir=tmp_path, says=["no crash file could be written"])


@pytest.mark.hostile("internal-error")
def test_a_closed_output_pipe_is_not_a_crash(request, tmp_path) -> None:
    """`fundsim schema | head -c 100`: the reader goes away; fundsim stops quietly."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fundsim.cli", "schema"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
    )
    assert proc.stdout is not None
    proc.stdout.read(100)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    outcome = Outcome(proc.returncode, "", err.decode("utf-8", "replace"))
    judge(request, outcome, [0, 1], workdir=tmp_path)
