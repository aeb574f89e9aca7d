"""Reading and checking the ``manifest.json`` of a folder fundsim wrote.

A manifest says what wrote a folder (``kind``: ``run``, ``compare`` or ``sweep``, and the fundsim
version) and, for results folders, the size and SHA-256 of every other file. It is what tells a
fundsim folder from any other (so ``--overwrite`` only ever replaces a folder fundsim wrote, of the
same kind) and what a reader checks before trusting a folder. Everything here reads a manifest as
untrusted input: a regular file of bounded size, a JSON object, each field of the expected type.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fundsim.errors import FundsimError
from fundsim.safeio import NotAFileError, open_regular, printable

#: The manifest's file name.
MANIFEST = "manifest.json"
#: A manifest larger than this is not one fundsim wrote (the largest holds a 5 MB scenario).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: The kinds of folder fundsim writes.
KINDS = ("run", "compare", "sweep")

#: Fields every manifest of a kind must have, with their JSON types.
_REQUIRED: dict[str, dict[str, tuple[type, ...]]] = {
    # Results folders of older versions lack some fields; what is present is type-checked below.
    "run": {},
    "compare": {},
    "sweep": {
        "fundsim_version": (str,),
        "sweep_sha256": (str,),
        "points": (int,),
        "replications": (int,),
        "contracts": (list,),
    },
}
#: Fields that are optional but, when present, must have these types.
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "fundsim_version": (str,),
    "contract": (str,),
    "contracts": (list,),
    "baseline": (str,),
    "replications": (int,),
    "files": (dict,),
    "scenario": (dict,),
    "scenario_name": (str, type(None)),
    "scenario_file": (str, type(None)),
    "scenario_sha256": (str, type(None)),
    "created_utc": (str,),
    "command": (str,),
    "seed": (int,),
    "name": (str,),
    "description": (str,),
    "status": (str,),
    "parameters": (list,),
    "design": (str,),
    "simulations": (int,),
    "jobs": (int,),
    "summary_files": (dict,),
    "sweep_file": (str,),
    "kernel": (str,),
}

_JSON_NAMES = {dict: "an object", list: "a list", str: "text", int: "a whole number", type(None): "null"}


class ManifestError(FundsimError):
    """A manifest is missing, unreadable, or not of the shape fundsim writes."""


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    for kind, name in _JSON_NAMES.items():
        if type(value) is kind:
            return name
    return "a number" if isinstance(value, float) else type(value).__name__


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The JSON object in ``folder/manifest.json``; ``None`` when there is no such file.

    Raises :class:`ManifestError` (naming the file) when it exists but is not a regular file, is
    too large, is not UTF-8 JSON, or is not a JSON object.
    """
    path = Path(folder) / MANIFEST
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except NotAFileError as exc:
        raise ManifestError(f"{printable(path)}: {exc}") from None
    except OSError as exc:
        raise ManifestError(f"{printable(path)}: cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{printable(path)}: larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MB; not a manifest")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ManifestError(f"{printable(path)}: cannot be read as JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(
            f"{printable(path)}: not a fundsim manifest (expected a JSON object, got {_describe(manifest)})"
        )
    return manifest


def folder_kind(folder: Path) -> str | None:
    """The kind of fundsim folder ``folder`` is (``run``, ``compare``, ``sweep``), or ``None``.

    ``None`` for a folder without a readable manifest of a known kind: such a folder is not
    fundsim's, whatever else it holds.
    """
    try:
        manifest = read_manifest(folder)
    except ManifestError:
        return None
    if manifest is None:
        return None
    kind = manifest.get("kind")
    return kind if isinstance(kind, str) and kind in KINDS else None


def manifest_problems(manifest: dict[str, Any], kind: str) -> list[str]:
    """What is wrong with the shape of a manifest of ``kind`` (empty when nothing is)."""
    problems = []
    for name, types in _REQUIRED.get(kind, {}).items():
        if name not in manifest:
            problems.append(f"'{name}' is missing")
        elif not isinstance(manifest[name], types) or isinstance(manifest[name], bool):
            problems.append(f"'{name}' should be {_JSON_NAMES[types[0]]}, got {_describe(manifest[name])}")
    for name, types in _OPTIONAL.items():
        if name in manifest and (not isinstance(manifest[name], types) or isinstance(manifest[name], bool)):
            problems.append(f"'{name}' should be {_JSON_NAMES[types[0]]}, got {_describe(manifest[name])}")
    for name in ("contracts",):
        value = manifest.get(name)
        if isinstance(value, list) and (not value or not all(isinstance(v, str) for v in value)):
            problems.append(f"'{name}' should be a non-empty list of contract names")
    files = manifest.get("files")
    if isinstance(files, dict):
        for name, record in files.items():
            if Path(name).name != name or name in ("", ".", "..", MANIFEST):
                problems.append(f"'files' lists {name!r}, which is not a file name in the folder")
            elif not isinstance(record, dict):
                problems.append(f"'files' entry {name!r} should be an object with bytes and sha256")
            elif not isinstance(record.get("bytes"), int) or not isinstance(record.get("sha256"), str):
                problems.append(f"'files' entry {name!r} should have a whole number 'bytes' and a text 'sha256'")
    return problems


def check_manifest(manifest: dict[str, Any], kind: str, path: Path) -> None:
    """Raise :class:`ManifestError` listing every problem of a manifest of ``kind`` read from ``path``."""
    problems = manifest_problems(manifest, kind)
    if problems:
        raise ManifestError(
            f"{printable(Path(path) / MANIFEST)}: not a valid {kind} manifest: {'; '.join(problems[:6])}"
            + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        )
