"""A crash file for unexpected errors: the traceback goes to a file, the user gets one sentence.

A bug in fundsim must not greet the user with fifty lines of traceback; but whoever fixes it needs
those lines. :func:`write_crash_report` writes them, with the versions and the command, to
``$FUNDSIM_CRASH_DIR`` or ``$XDG_STATE_HOME/fundsim`` (``~/.local/state/fundsim``), or else the
system's temporary folder, and returns the file's path for the message. Set ``FUNDSIM_TRACEBACK=1``
to have the traceback printed as well.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path

from fundsim.safeio import printable
from fundsim.version import __version__


def crash_dirs() -> list[Path]:
    """Where crash files go, in order of preference."""
    dirs = []
    if os.environ.get("FUNDSIM_CRASH_DIR"):
        dirs.append(Path(os.environ["FUNDSIM_CRASH_DIR"]))
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    dirs.append(Path(state) / "fundsim")
    dirs.append(Path(tempfile.gettempdir()))
    return dirs


def crash_text(exc: BaseException, argv: list[str]) -> str:
    """The crash file's contents: what ran, on what, and the traceback."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    lines = [
        "fundsim crash report: please attach this file to a bug report",
        f"when: {stamp}",
        f"fundsim: {__version__}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"platform: {platform.platform()}",
        f"command: {' '.join(printable(a) for a in argv)}",
        f"working folder: {printable(os.getcwd()) if os.path.isdir('.') else '?'}",
        "",
        *(printable(line) for line in traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def write_crash_report(exc: BaseException, argv: list[str] | None = None) -> Path | None:
    """Write the crash report of ``exc``; return its path, or ``None`` if no folder would take it."""
    text = crash_text(exc, list(sys.argv if argv is None else argv))
    name = f"crash-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}.txt"
    for folder in crash_dirs():
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            return path
    return None
