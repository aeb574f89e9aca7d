r"""Reading and naming files safely: what a path *is* before it is read, and paths as printable text.

Three habits the rest of fundsim relies on:

- **Open first, then look.** :func:`open_regular` opens with ``O_NONBLOCK`` (so a FIFO does not
  block) and checks the *open* file with ``fstat``: a FIFO, a device, a socket or a folder is
  refused before a byte is read, and a file swapped after the check cannot slip in.
- **Standard input is read once.** ``-``, ``/dev/stdin`` and ``/dev/fd/0`` name standard input;
  it is read once, and the bytes read are kept, so hashing it again (for a manifest) or reading it
  again (a sweep file read twice) gives the same bytes, never the empty rest of a pipe.
- **Paths are printed as text.** A file name that is not UTF-8 arrives in Python with surrogate
  escapes (``'\\udcff'``); :func:`printable` turns those into ``\\xff`` so that a message can be
  printed on any terminal, and it never reaches Rich's markup parser unescaped.

Parquet files are read and written through Python file objects (:func:`write_parquet`,
:func:`read_parquet`) because pyarrow encodes path strings as strict UTF-8 and fails on such names.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from fundsim.errors import FundsimError

if TYPE_CHECKING:
    import pandas as pd

#: Names that mean "standard input".
STDIN_NAMES = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})


class NotAFileError(FundsimError):
    """A path names something that is not a regular file (a FIFO, a device, a folder, a socket)."""


def printable(text: object) -> str:
    r"""``text`` with undecodable file-name bytes shown as ``\\xNN`` and other lone surrogates escaped.

    The result encodes to UTF-8 without error; it still holds any non-ASCII character, so a stream
    that cannot show those must be opened with ``errors="backslashreplace"`` (the CLI does).
    """
    value = os.fspath(text) if isinstance(text, os.PathLike) else str(text)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    out = []
    for char in value:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 in a file name (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def kind_of(mode: int) -> str:
    """A short description of what a file mode is (``'a named pipe (FIFO)'``, ``'a folder'``, …)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


def is_stdin(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names this process's standard input."""
    name = os.fspath(path)
    if name in STDIN_NAMES:
        return True
    try:
        info = os.stat(name)
        # A pipe or terminal that is also our standard input (``/proc/<pid>/fd/0``, a shell's
        # ``<(…)``); a regular file redirected to standard input is read as a file.
        return not stat.S_ISREG(info.st_mode) and os.path.samestat(info, os.fstat(0))
    except (OSError, ValueError):
        return False


class _StdinBytes(TypedDict, total=False):
    source: object  # the stream read (``sys.stdin`` then)
    data: bytes


#: Bytes read from standard input (and the stream they came from), so that it is read once.
_STDIN: _StdinBytes = {}


def read_stdin(limit: int) -> bytes:
    """Standard input's bytes (at most ``limit`` + 1), read once and then remembered.

    Refuses a terminal: ``fundsim run -`` typed at a prompt would otherwise wait for input forever.
    The bytes are remembered for the stream they were read from (``sys.stdin``), so a test
    harness that replaces it gets its own.
    """
    source = sys.stdin
    if _STDIN.get("source") is source and "data" in _STDIN:
        return _STDIN["data"]
    if source is None:
        raise NotAFileError("there is no standard input")
    try:
        if source.isatty():
            raise NotAFileError("standard input is a terminal; pipe a file into it, e.g. `fundsim run - < file.yaml`")
    except (OSError, ValueError):
        raise NotAFileError("standard input is closed") from None
    stream = getattr(source, "buffer", None)
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(1 << 16, limit + 1 - size)) if stream is not None else os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    _STDIN.update({"source": source, "data": data})
    return data


def open_regular(path: str | os.PathLike[str]) -> int:
    """Open ``path`` read-only and return the descriptor, refusing anything but a regular file.

    The open does not block (``O_NONBLOCK``: a FIFO with no writer would otherwise hang) and does
    not make a terminal the controlling one; the check is made on the open file, so the file read
    is the one checked. Raises :class:`NotAFileError` or :class:`OSError`.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFileError(f"is {kind_of(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_limited(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the regular file ``path`` (the caller compares with ``limit``).

    Standard input (:func:`is_stdin`) is read once (:func:`read_stdin`). Raises
    :class:`NotAFileError` for anything else that is not a regular file, :class:`OSError` when the
    file cannot be opened or read.
    """
    if is_stdin(path):
        return read_stdin(limit)
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit + 1)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a regular file's bytes, read in chunks (standard input: of the bytes read once)."""
    if is_stdin(path):
        data = _STDIN.get("data", b"")
        return hashlib.sha256(data if isinstance(data, bytes) else b"").hexdigest()
    digest = hashlib.sha256()
    with os.fdopen(open_regular(path), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def os_error_text(exc: OSError) -> str:
    """A short, plain description of an :class:`OSError` (``No space left on device``)."""
    if exc.errno is not None and exc.strerror:
        return exc.strerror
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


#: errno values meaning "the file system will not take this write", as opposed to a bug.
WRITE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENOTEMPTY,
        errno.EBUSY,
        errno.EXDEV,
        errno.EIO,
        errno.EFBIG,
        errno.ENOENT,
        errno.ELOOP,
        errno.EMLINK,
    }
)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet (no index) through a Python file object (any file name works)."""
    with open(path, "wb") as handle:
        frame.to_parquet(handle, index=False)


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file through a Python file object, refusing anything but a regular file."""
    import pandas as pd

    with os.fdopen(open_regular(path), "rb") as handle:
        return pd.read_parquet(handle)


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV file, refusing anything but a regular file."""
    import pandas as pd

    with os.fdopen(open_regular(path), "rb") as handle:
        return pd.read_csv(handle)
