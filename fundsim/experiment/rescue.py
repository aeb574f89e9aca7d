"""Keep the compute when writing fails: save the results somewhere else and say where.

The preflight (:mod:`fundsim.experiment.preflight`) catches what it can before simulating, but a
disk can fill up, a network mount can drop and another process can take the folder while the
simulation runs. Then :func:`rescue` writes the same results folder into the first of these that
takes it: ``$FUNDSIM_RESCUE_DIR``, ``$XDG_DATA_HOME/fundsim/rescued`` (``~/.local/share/…``), the
system's temporary folder. The command then exits with status 4 and says where the results are.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from fundsim.errors import FundsimError


def rescue_dirs() -> list[Path]:
    """Where rescued results go, in order of preference."""
    dirs = []
    if os.environ.get("FUNDSIM_RESCUE_DIR"):
        dirs.append(Path(os.environ["FUNDSIM_RESCUE_DIR"]))
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    dirs.append(Path(data) / "fundsim" / "rescued")
    dirs.append(Path(tempfile.gettempdir()) / "fundsim-rescued")
    return dirs


def rescue_name(wanted: Path) -> str:
    """A new folder name for results meant for ``wanted``: its name, a UTC time stamp and the pid."""
    stem = os.fsencode(Path(wanted).name or "results")[:80].decode("utf-8", "ignore").strip(" .") or "results"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stem}-{stamp}-{os.getpid()}"


def rescue(write: Callable[[Path], object], wanted: Path) -> tuple[Path | None, list[str]]:
    """Call ``write(folder)`` for a new folder in each rescue place until one works.

    Returns the folder written (or ``None``) and, for the message, why each place failed.
    """
    failures = []
    name = rescue_name(wanted)
    for place in rescue_dirs():
        target = place / name
        if os.path.abspath(target) == os.path.abspath(wanted):
            continue
        try:
            place.mkdir(parents=True, exist_ok=True)
            write(target)
        except (OSError, FundsimError) as exc:
            failures.append(f"{place}: {getattr(exc, 'strerror', None) or exc}")
            continue
        return target, failures
    return None, failures
