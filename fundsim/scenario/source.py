"""Step 1 of loading: a file's bytes and their UTF-8 text, with located errors.

Bytes are bounded in size and read from a regular file or standard input; the file's SHA-256 is
kept for the manifest.
"""

from __future__ import annotations

import hashlib
import os

from fundsim.errors import ScenarioError
from fundsim.safeio import NotAFileError, is_stdin, open_regular, printable, read_stdin, sha256_of
from fundsim.scenario.yaml_safe import MAX_FILE_BYTES


def scenario_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes, to record exactly which scenario a result came from.

    For a file this process has loaded, it is the hash of the bytes that were read and validated
    (standard input is read once, and a file may change while a long run goes on), not of what
    the file holds now.
    """
    filename = os.fspath(path)
    known = _DIGESTS.get(_digest_key(filename))
    if known is not None:
        return known
    try:
        return sha256_of(filename)
    except NotAFileError as exc:
        raise ScenarioError.single(printable(filename), str(exc)) from None
    except OSError as exc:
        raise ScenarioError.single(printable(filename), _os_error_message(exc)) from None


#: SHA-256 of the bytes of each input file read by this process (see :func:`scenario_sha256`).
_DIGESTS: dict[str, str] = {}


def _digest_key(filename: str) -> str:
    return "<stdin>" if is_stdin(filename) else os.path.abspath(filename)


def read_source(path: str | os.PathLike[str]) -> bytes:
    """The bytes of an input file, read once: at most MAX_FILE_BYTES, from a regular file or standard input.

    A FIFO, a device, a socket or a folder is refused before anything is read (a named pipe would
    block forever; ``/dev/zero`` never ends); ``-``, ``/dev/stdin`` and a pipe that is this
    process's standard input are read once. The SHA-256 of the bytes is remembered for
    :func:`scenario_sha256`. Raises :class:`~fundsim.errors.ScenarioError`.
    """
    filename = os.fspath(path)
    shown = printable(filename)
    try:
        if is_stdin(filename):
            data = read_stdin(MAX_FILE_BYTES)
        else:
            fd = open_regular(filename)
            with os.fdopen(fd, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > MAX_FILE_BYTES:
                    raise ScenarioError.single(
                        shown, f"the file is {_megabytes(size)}; the limit is {_megabytes(MAX_FILE_BYTES)}"
                    )
                # Read one byte more than allowed: a file being written may grow after fstat.
                data = handle.read(MAX_FILE_BYTES + 1)
    except NotAFileError as exc:
        message = str(exc)
        if message.startswith("is a folder"):
            message = "is a directory, not a file"
        elif "standard input" not in message:
            message += "; fundsim reads scenario and sweep files only (give - to read standard input)"
        raise ScenarioError.single(shown, message) from None
    except OSError as exc:
        raise ScenarioError.single(shown, _os_error_message(exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError.single(shown, f"the file is larger than the limit of {_megabytes(MAX_FILE_BYTES)}")
    _DIGESTS[_digest_key(filename)] = hashlib.sha256(data).hexdigest()
    return data


# --------------------------------------------------------------------------- step 1: bytes -> text


def _read_text(filename: str) -> str:
    """Read an input file once (:func:`read_source`) and decode it (:func:`decode_source`)."""
    return decode_source(read_source(filename), printable(filename))


def decode_source(data: bytes, filename: str) -> str:
    """Decode an input file's bytes as UTF-8 (a leading BOM is allowed); a located error if they are not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(filename, data, exc) from None
    return text.removeprefix("\ufeff")


def _decode_error(filename: str, data: bytes, exc: UnicodeDecodeError) -> ScenarioError:
    offset = exc.start
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    # Everything before the bad byte decoded, so the column can be counted in characters.
    column = len(data[line_start:offset].decode("utf-8")) + 1
    message = f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} cannot be decoded"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        message += " (it looks like UTF-16; save it as UTF-8)"
    else:
        message += "; save the file as UTF-8"
    return ScenarioError.single(filename, message, line=line, column=column)


def _os_error_message(exc: OSError) -> str:
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "cannot read the file: permission denied"
    return f"cannot read the file: {exc.strerror or exc}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
