"""Writing a results folder atomically, with its manifest.

A results folder that exists is always complete, whenever the process writing it is stopped
(Ctrl-C, a crash, ``kill -9``, a laptop that sleeps and never wakes up):

1. every file is written into a hidden temporary sibling of the target, ``.<name>.tmp-<pid>-<random>``,
   and flushed to disk; the manifest is written last and lists every other file with its size and
   SHA-256, so a manifest is a promise that the folder is whole;
2. the temporary folder is renamed onto the target: a plain ``rename`` when the target is absent
   (or empty), an atomic exchange of the two folders when ``overwrite`` replaces an existing one
   (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere the old folder is first renamed aside to
   ``.<name>.old-<pid>``, and put back by the next write if the process died in between);
3. only then is the old folder deleted.

Temporary and set-aside siblings left by a process that was killed are cleaned up by the next
write to the same target, once their process is gone; nothing else in the parent folder is touched.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import functools
import glob
import hashlib
import json
import os
import platform
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path

from fundsim.errors import FundsimError
from fundsim.experiment.ownership import check_replaceable
from fundsim.safeio import NotAFileError, kind_of, printable
from fundsim.sim.kernels import kernel_choice
from fundsim.version import __version__

#: Packages whose versions go into every manifest.
RECORDED_PACKAGES = ("simpy", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "click", "numba")
#: The manifest's file name; it is written last.
MANIFEST = "manifest.json"

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


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
        "kernel": _kernel(),
        **fields,
    }


def _kernel() -> str:
    """The compiled-ready steps' implementation in this process (fundsim.sim.kernels; same numbers either way)."""
    try:
        return kernel_choice()
    except ValueError as exc:  # a bad FUNDSIM_KERNEL has already stopped any simulation; say what it was
        return str(exc)


def check_output_dir(out_dir: Path, overwrite: bool, kind: str | None = None) -> None:
    """Refuse a non-empty existing ``out_dir`` unless ``overwrite`` (before any work is done).

    With ``kind`` (``run``, ``compare``), ``overwrite`` replaces only a folder that fundsim wrote
    as that kind and that holds nothing else (:func:`fundsim.experiment.ownership.check_replaceable`).
    """
    out_dir = Path(out_dir)
    shown = printable(out_dir)
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise OutputExistsError(f"{shown}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"{shown}: folder exists and is not empty; choose another --out or pass --overwrite"
            )
        if kind is not None:
            check_replaceable(out_dir, kind)


# --------------------------------------------------------------------------- siblings


def _sibling_prefix(out_dir: Path, kind: str) -> str:
    return f".{out_dir.name}.{kind}-"


def _sibling_pid(name: str, prefix: str) -> int | None:
    """The process id in a sibling's name (``.<name>.tmp-<pid>-…`` or ``.<name>.old-<pid>``)."""
    head = name[len(prefix) :].split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:  # pragma: no cover - e.g. an out-of-range pid
        return False
    return True


def _remove(path: Path) -> None:
    """Delete a folder (or a symlink to one) without following links; ignore what is already gone."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def clean_stale_siblings(out_dir: Path) -> list[Path]:
    """Remove temporary siblings of ``out_dir`` left by processes that no longer run; return them.

    A set-aside old folder (``.<name>.old-<pid>``) whose process died between setting it aside and
    moving the new one in is put back as ``out_dir`` when ``out_dir`` is missing, rather than deleted.
    """
    out_dir = Path(out_dir)
    parent = out_dir.parent
    if not parent.is_dir():
        return []
    removed: list[Path] = []
    tmp_prefix, old_prefix = _sibling_prefix(out_dir, "tmp"), _sibling_prefix(out_dir, "old")
    for path in sorted(parent.iterdir()):
        name = path.name
        prefix = tmp_prefix if name.startswith(tmp_prefix) else old_prefix if name.startswith(old_prefix) else None
        if prefix is None:
            continue
        pid = _sibling_pid(name, prefix)
        if pid is None or _alive(pid):
            continue
        if prefix == old_prefix and not out_dir.exists() and (path / MANIFEST).is_file():
            path.rename(out_dir)
            continue
        _remove(path)
        removed.append(path)
    return removed


# --------------------------------------------------------------------------- renaming into place


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's ``renameat2`` (Linux, glibc 2.28+), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False when the system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False  # an old kernel, or a file system without exchange support
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries (names) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the complete folder ``tmp`` to ``out_dir``, replacing it if it exists."""
    if not out_dir.exists() and not out_dir.is_symlink():
        try:
            tmp.rename(out_dir)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):  # another process got there first
                raise OutputExistsError(
                    f"{printable(out_dir)}: folder appeared and is not empty while writing; choose another --out or "
                    "pass --overwrite"
                ) from None
            raise
        return
    if out_dir.is_dir() and not out_dir.is_symlink() and not any(out_dir.iterdir()):
        tmp.rename(out_dir)  # rename(2) replaces an empty folder in one step
        return
    if _exchange(tmp, out_dir):
        _fsync_dir(out_dir.parent)
        _remove(tmp)  # now holds the old folder
        return
    old = out_dir.with_name(f"{_sibling_prefix(out_dir, 'old')}{os.getpid()}")
    _remove(old)
    out_dir.rename(old)
    tmp.rename(out_dir)
    _fsync_dir(out_dir.parent)
    _remove(old)


@contextlib.contextmanager
def atomic_dir(out_dir: Path, overwrite: bool, kind: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out_dir``; on failure it is removed.

    ``kind`` restricts ``overwrite`` to a folder fundsim wrote as that kind (:func:`check_output_dir`).
    """
    out_dir = Path(out_dir)
    check_output_dir(out_dir, overwrite, kind)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_siblings(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_sibling_prefix(out_dir, 'tmp')}{os.getpid()}-", dir=out_dir.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a results folder is an ordinary one
        _fsync_dir(tmp)
        check_output_dir(out_dir, overwrite, kind)  # it may have been filled while we worked
        _move_into_place(tmp, out_dir)
    except BaseException:
        _remove(tmp)
        raise


# --------------------------------------------------------------------------- files


def atomic_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write one file atomically: ``write(tmp)`` on a temporary sibling, flushed, then renamed onto ``path``.

    The temporary name is ``.<name>.tmp-<pid>-<random><suffix>``; siblings of that form left by a
    writer that was killed (its process gone) are deleted first. The file is readable by all
    (0644), like any file a user writes. Returns ``path``.
    """
    path = Path(path)
    if os.path.lexists(path) and not path.is_symlink():
        mode = os.lstat(path).st_mode
        if not stat.S_ISREG(mode):
            # os.replace would put a regular file in place of a device, a FIFO or a socket.
            raise NotAFileError(f"{printable(path)}: is {kind_of(mode)}; fundsim only replaces regular files")
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.tmp-"
    for sibling in path.parent.glob(f"{glob.escape(prefix)}*"):
        pid = _sibling_pid(sibling.name, prefix)
        if pid is not None and not _alive(pid):
            sibling.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Mapping[str, object]) -> None:
    """Write ``data`` as indented JSON."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def file_record(path: Path) -> dict[str, object]:
    """Size in bytes and SHA-256 of a file, as listed in a manifest."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def write_outputs(
    out_dir: Path,
    overwrite: bool,
    writers: Mapping[str, Callable[[Path], None]],
    manifest: Mapping[str, object] | None = None,
) -> list[str]:
    """Write each file with its writer into a temporary folder, then move the folder into place.

    With ``manifest``, ``manifest.json`` is written last, holding ``manifest`` plus ``files``: the
    size and SHA-256 of every other file. A ``kind`` in ``manifest`` limits ``overwrite`` to a
    folder fundsim wrote as that kind (:func:`check_output_dir`). (A ``manifest.json`` entry in ``writers`` is also
    written last, as given.) Returns the names of the files written, manifest last.
    """
    names = [name for name in writers if name != MANIFEST]
    kind = manifest.get("kind") if manifest is not None else None
    with atomic_dir(Path(out_dir), overwrite, kind if isinstance(kind, str) else None) as tmp:
        for name in names:
            writers[name](tmp / name)
            _fsync_file(tmp / name)
        if manifest is not None:
            files = {name: file_record(tmp / name) for name in names}
            write_json(tmp / MANIFEST, {**manifest, "files": files})
        elif MANIFEST in writers:
            writers[MANIFEST](tmp / MANIFEST)
        if (tmp / MANIFEST).exists():
            _fsync_file(tmp / MANIFEST)
            names.append(MANIFEST)
    return names
