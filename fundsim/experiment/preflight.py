"""Check where the output will go *before* computing, so that hours of simulation are not lost.

:func:`check_output_dir` refuses, with a plain message and before any simulation:

- a folder that cannot be a results folder: the current folder (``-o .``) or one of its parents,
  the file-system root, a mount point (it cannot be renamed into place), something that is not a
  folder (a file, a device, a FIFO), a path through a file (``-o afile/sub``);
- a name too long for the file system once fundsim's temporary sibling ``.<name>.tmp-<pid>-<random>``
  is formed, or a path too long for the system;
- an existing folder that is not empty, unless ``--overwrite`` and it is a fundsim folder of the
  same kind (:mod:`fundsim.experiment.ownership`); a folder inside another fundsim folder; a folder
  holding one of the inputs;
- a place that cannot be written: a read-only file system, no permission (tried for real, with a
  probe folder created and removed at once, since ``root`` passes every permission test), or too
  little free space for an estimate of the output.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fundsim.errors import FundsimError
from fundsim.experiment.ownership import check_replaceable, enclosing_fundsim_folder
from fundsim.safeio import kind_of, open_regular, printable

#: Longest file name fundsim writes inside a results folder (room kept for its temporary names).
LONGEST_INNER_NAME = len(".replications.parquet.tmp-4194304-abcdefgh.parquet")
#: Free space kept beyond the estimate of the output, in bytes.
SPACE_MARGIN_BYTES = 64 * 1024


class PreflightError(FundsimError):
    """The output cannot be written where the user asked; found before any work was done."""


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_PATH_MAX"))
    except (OSError, ValueError, AttributeError):
        return 4096


def temporary_name_overhead() -> int:
    """Bytes the temporary sibling's name adds to the output folder's name: ``.`` + ``.tmp-<pid>-<8>``."""
    return len(f"..tmp-{os.getpid()}-") + 8


def existing_ancestor(path: Path) -> Path:
    """The nearest of ``path`` and its parents that exists (``path`` made absolute, links not resolved)."""
    current = Path(os.path.abspath(path))
    for folder in (current, *current.parents):
        if os.path.lexists(folder):
            return folder
    return Path(current.anchor or "/")


def _check_place(out_dir: Path) -> None:
    """The path's shape: not the current folder or its parents, no file on the way, names that fit."""
    shown = printable(out_dir)
    absolute = Path(os.path.abspath(out_dir))
    if str(out_dir) in ("", ".") or absolute == Path(absolute.anchor):
        raise PreflightError(
            f"{shown}: cannot be a results folder (it is the current folder or the root); name a new folder"
        )
    cwd = Path(os.path.abspath(os.getcwd()))
    if absolute == cwd or absolute in cwd.parents:
        raise PreflightError(
            f"{shown}: is the current folder{'' if absolute == cwd else ' or one of its parents'}; "
            "fundsim replaces a results folder whole, so name a new folder inside it, e.g. -o results"
        )
    for parent in reversed(absolute.parents):
        if os.path.lexists(parent) and not parent.is_dir():
            raise PreflightError(
                f"{shown}: {printable(parent)} is {_what(parent)}, not a folder, so nothing can be written under it"
            )
    base = existing_ancestor(absolute.parent)
    name_max = _name_max(base)
    for part in absolute.relative_to(absolute.anchor).parts:
        size = len(os.fsencode(part))
        if size > name_max:
            raise PreflightError(
                f"{shown}: the name {printable(part)[:40]}… is {size} bytes; this file system allows {name_max}"
            )
    own = len(os.fsencode(absolute.name))
    room = name_max - temporary_name_overhead()
    if own > room:
        raise PreflightError(
            f"{shown}: the folder name is {own} bytes; the longest fundsim can use here is {room} (it needs room for "
            f"its temporary folder '.<name>.tmp-<pid>-<random>' beside it, and names are limited to {name_max} bytes); "
            "choose a shorter name"
        )
    longest = len(os.fsencode(str(absolute.parent))) + 1 + own + temporary_name_overhead() + 1 + LONGEST_INNER_NAME + 64
    path_max = _path_max(base)
    if longest >= path_max:
        raise PreflightError(f"{shown}: the path is too long for this system (files in it would pass {path_max} bytes)")


def _what(path: Path) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError:
        return "not a folder (a broken link?)"


def _check_target(out_dir: Path, kind: str, overwrite: bool, inputs: Iterable[Path]) -> None:
    """The target itself: absent, an empty folder, or (with overwrite) a fundsim folder of ``kind``."""
    shown = printable(out_dir)
    inside = enclosing_fundsim_folder(Path(os.path.abspath(out_dir)).parent)
    if inside is not None:
        folder, found = inside
        raise PreflightError(
            f"{shown}: is inside {printable(folder)}, a folder written by `fundsim {found}`; fundsim does not write "
            "into its own results folders; choose a folder outside it"
        )
    absolute = Path(os.path.abspath(out_dir))
    for source in inputs:
        src = Path(os.path.abspath(source))
        if src == absolute or absolute in src.parents:
            raise PreflightError(f"{shown}: holds an input of this command ({printable(source)}); choose another --out")
    if not os.path.lexists(out_dir):
        return
    if os.path.ismount(out_dir):
        raise PreflightError(
            f"{shown}: is a mount point; fundsim moves a finished results folder into place by renaming it, which a "
            "mount point does not allow; name a folder inside it, e.g. -o "
            f"{printable(out_dir / 'results')}"
        )
    if not out_dir.is_dir():
        raise PreflightError(f"{shown}: exists and is {_what(out_dir)}, not a folder; choose another --out")
    try:
        empty = not any(os.scandir(out_dir))
    except OSError as exc:
        raise PreflightError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    if empty:
        return
    if not overwrite:
        raise PreflightError(f"{shown}: folder exists and is not empty; choose another --out or pass --overwrite")
    check_replaceable(out_dir, kind)


def _check_writable(out_dir: Path, bytes_needed: int) -> None:
    """Try for real to create a folder where the output's temporary sibling will go; check free space."""
    shown = printable(out_dir)
    base = existing_ancestor(Path(os.path.abspath(out_dir)).parent)
    try:
        info = os.statvfs(base)
    except OSError as exc:
        raise PreflightError(f"{shown}: cannot check {printable(base)} ({exc.strerror or exc})") from None
    if info.f_flag & getattr(os, "ST_RDONLY", 1):
        raise PreflightError(f"{shown}: {printable(base)} is on a read-only file system; choose another --out")
    try:
        probe = tempfile.mkdtemp(prefix=".fundsim-probe-", dir=base)
    except OSError as exc:
        raise PreflightError(
            f"{shown}: cannot write in {printable(base)} ({exc.strerror or exc}); choose another --out"
        ) from None
    with contextlib.suppress(OSError):
        os.rmdir(probe)
    free = info.f_bavail * info.f_frsize
    if bytes_needed and free < bytes_needed + SPACE_MARGIN_BYTES:
        raise PreflightError(
            f"{shown}: the output needs about {_size(bytes_needed + SPACE_MARGIN_BYTES)} and only {_size(free)} "
            f"is free on the file system of {printable(base)}; free some space or choose another --out"
        )


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def check_output_dir(
    out_dir: Path, kind: str, overwrite: bool, *, inputs: Iterable[Path] = (), bytes_needed: int = 0
) -> None:
    """Refuse an output folder that could not be written, before any simulation (see the module docstring).

    ``kind`` is the kind of folder the command writes (``run``, ``compare``, ``sweep``);
    ``inputs`` the files the command reads (never inside the output); ``bytes_needed`` an estimate
    of the output's size. Raises :class:`PreflightError` (or
    :class:`~fundsim.experiment.ownership.NotOursError`) with a message naming the folder.
    """
    out_dir = Path(out_dir)
    _check_place(out_dir)
    _check_target(out_dir, kind, overwrite, inputs)
    _check_writable(out_dir, bytes_needed)


def check_sweep_dir(out_dir: Path, *, inputs: Iterable[Path] = (), bytes_needed: int = 0) -> None:
    """The checks of :func:`check_output_dir` that apply to a sweep folder, which is filled in place.

    The folder may exist (a sweep resumes in it); whether it is one this sweep may use is decided
    by :func:`fundsim.sweep.store.prepare`.
    """
    out_dir = Path(out_dir)
    _check_place(out_dir)
    shown = printable(out_dir)
    inside = enclosing_fundsim_folder(Path(os.path.abspath(out_dir)).parent)
    if inside is not None:
        raise PreflightError(
            f"{shown}: is inside {printable(inside[0])}, a folder written by `fundsim {inside[1]}`; "
            "choose a folder outside it"
        )
    absolute = Path(os.path.abspath(out_dir))
    for source in inputs:
        src = Path(os.path.abspath(source))
        if src == absolute:
            raise PreflightError(f"{shown}: is an input of this command; choose another --out")
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise PreflightError(f"{shown}: exists and is {_what(out_dir)}, not a folder; choose another --out")
    _check_writable(out_dir / "runs" / "x", bytes_needed)  # probes the deepest of runs/, the folder, its parent


#: Marks a page fundsim wrote (the report templates' ``<meta name="generator" content="fundsim …">``).
REPORT_MARK = b'<meta name="generator" content="fundsim'


def is_fundsim_report(path: Path) -> bool:
    """Whether the regular file ``path`` is an HTML report fundsim wrote (its generator mark, near the top)."""
    try:
        with os.fdopen(open_regular(path), "rb") as handle:
            return REPORT_MARK in handle.read(4096)
    except (OSError, FundsimError):
        return False


def check_report_out(results_dir: Path, out_file: Path) -> None:
    """Refuse a report page ``out_file`` that would replace something it must not.

    Allowed: a new file, or a report fundsim wrote, outside every fundsim folder; or an ``.html``
    file directly in ``results_dir`` that is not one of its results. Refused: anything that is not
    a regular file (a device, a FIFO, a folder), a file of a results folder (``--out R/summary.csv``),
    a page inside another fundsim folder, an existing file fundsim did not write.
    """
    from fundsim.experiment.manifest import MANIFEST, read_manifest

    out_file, results_dir = Path(out_file), Path(results_dir)
    shown = printable(out_file)
    absolute = Path(os.path.abspath(out_file))
    if str(out_file) in ("", ".") or absolute == Path(absolute.anchor):
        raise PreflightError(f"{shown}: is not a file name; give the report page's file, e.g. --out report.html")
    for parent in reversed(absolute.parents):
        if os.path.lexists(parent) and not parent.is_dir():
            raise PreflightError(f"{shown}: {printable(parent)} is {_what(parent)}, not a folder")
    if os.path.lexists(out_file):
        mode = os.lstat(out_file).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise PreflightError(f"{shown}: is {kind_of(mode)}; the report is written only as a regular file")
        if stat.S_ISLNK(mode) and not out_file.is_file():
            raise PreflightError(f"{shown}: is a link to {_what(out_file)}; choose another --out")
    inside = enclosing_fundsim_folder(absolute.parent)
    own = Path(os.path.abspath(results_dir))
    if inside is not None and inside[0] != own:
        raise PreflightError(
            f"{shown}: is inside {printable(inside[0])}, a folder written by `fundsim {inside[1]}`; a report page "
            "may go into its own results folder or outside every results folder"
        )
    if inside is not None or absolute.parent == own:
        try:
            manifest = read_manifest(own) or {}
        except FundsimError:
            manifest = {}
        files = manifest.get("files")
        listed = set(files) if isinstance(files, dict) else set()
        reserved = listed | {MANIFEST, "figures", "tables", "tables.xlsx"}
        if absolute.parent != own or absolute.name in reserved or absolute.suffix.lower() not in (".html", ".htm"):
            raise PreflightError(
                f"{shown}: would replace or add to the results in {printable(results_dir)}; inside a results folder "
                "the report page can only be an .html file that is not one of its results (the default is "
                "report.html)"
            )
    if os.path.lexists(out_file) and not is_fundsim_report(out_file):
        raise PreflightError(
            f"{shown}: exists and is not a report fundsim wrote; fundsim does not replace other files; "
            "choose another --out, or move that file away"
        )
