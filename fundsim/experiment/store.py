"""Writing a results folder atomically, with its manifest.

Everything is written into a hidden temporary folder beside the target and renamed into place
only when complete, so a results folder that exists is always whole. An existing folder is
replaced (with ``overwrite``) only after the new one is complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

from fundsim import __version__
from fundsim.errors import FundsimError

#: Packages whose versions go into every manifest.
RECORDED_PACKAGES = ("simpy", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "click")


class OutputExistsError(FundsimError):
    """The output folder exists and is not empty, and overwriting was not asked for."""


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def base_manifest(**fields: object) -> dict[str, object]:
    """A manifest with version, environment and time stamp, plus ``fields``."""
    return {
        "fundsim_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "packages": package_versions(),
        **fields,
    }


def check_output_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse a non-empty existing ``out_dir`` unless ``overwrite`` (before any work is done)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise OutputExistsError(f"{out_dir}: folder exists and is not empty; choose another --out or pass --overwrite")


@contextlib.contextmanager
def atomic_dir(out_dir: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out_dir``; on failure it is removed."""
    out_dir = Path(out_dir)
    check_output_dir(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, data: dict[str, object]) -> None:
    """Write ``data`` as indented JSON."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def write_outputs(out_dir: Path, overwrite: bool, writers: dict[str, Callable[[Path], None]]) -> None:
    """Write each file with its writer into a temporary folder, then move the folder into place.

    The manifest, if given, is written last, so a folder with a manifest is always complete.
    """
    with atomic_dir(out_dir, overwrite) as tmp:
        for name, writer in writers.items():
            if name != "manifest.json":
                writer(tmp / name)
        if "manifest.json" in writers:
            writers["manifest.json"](tmp / "manifest.json")
