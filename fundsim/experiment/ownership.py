"""Whose folder is this? The rules that keep fundsim from replacing anything it did not write.

- ``--overwrite`` replaces a folder only when its ``manifest.json`` says fundsim wrote it, as the
  same kind of folder (a ``run`` folder by ``run``, a ``compare`` folder by ``compare``, a sweep
  folder by ``sweep``), and it holds nothing fundsim did not write there (the manifest's files,
  the report's files, fundsim's own temporary files). Anything else is refused with a message
  naming what is in the way: a user's own file is never deleted silently.
- Nothing is written inside a results folder but that folder's own report: an output folder, or a
  report page, may not be put inside another fundsim folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from fundsim.errors import FundsimError
from fundsim.experiment.manifest import KINDS, MANIFEST, ManifestError, read_manifest
from fundsim.safeio import printable

#: What ``fundsim report`` adds to a results folder.
REPORT_ENTRIES = frozenset({"report.html", "figures", "tables", "tables.xlsx"})
#: What a sweep writes into its folder (besides the manifest).
SWEEP_ENTRIES = frozenset(
    {
        "design.parquet",
        "runs",
        "results.parquet",
        "results.csv",
        "outputs.csv",
        "sensitivity.csv",
        "failures.csv",
        "sweep.xlsx",
        "notes.json",
        "report.html",
        "figures",
    }
)
#: The entries of :data:`SWEEP_ENTRIES` that are folders.
SWEEP_FOLDERS = frozenset({"runs", "figures"})
#: What each command calls its kind of folder, for messages.
KIND_NAMES = {"run": "`fundsim run`", "compare": "`fundsim compare`", "sweep": "`fundsim sweep`"}


class NotOursError(FundsimError):
    """A folder fundsim was asked to replace or write into is not one it may touch."""


def _is_fundsim_temporary(name: str) -> bool:
    """Fundsim's own temporary siblings and files: ``.<name>.tmp-<pid>-…`` and ``.<name>.old-<pid>``."""
    return name.startswith(".") and (".tmp-" in name or ".old-" in name)


def foreign_entries(folder: Path, manifest: dict[str, object], kind: str) -> list[str]:
    """Names in ``folder`` that fundsim did not write there, given its manifest of ``kind``."""
    files = manifest.get("files")
    known = {MANIFEST} | (set(files) if isinstance(files, dict) else set())
    known |= SWEEP_ENTRIES if kind == "sweep" else REPORT_ENTRIES
    foreign = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name not in known and not _is_fundsim_temporary(entry.name):
                foreign.append(entry.name)
    return sorted(foreign)


def check_replaceable(folder: Path, kind: str) -> None:
    """Refuse to replace the existing, non-empty ``folder`` unless it is a ``kind`` folder fundsim wrote.

    Raises :class:`NotOursError` saying why: no manifest (not a fundsim folder), a manifest of
    another kind, or files in it that fundsim did not write (listed, so the user can move them).
    """
    folder = Path(folder)
    shown = printable(folder)
    try:
        manifest = read_manifest(folder)
    except ManifestError as exc:
        raise NotOursError(
            f"{shown}: will not replace it: its manifest cannot be trusted ({exc}); "
            "choose another --out, or move the folder away yourself"
        ) from None
    if manifest is None:
        raise NotOursError(
            f"{shown}: will not replace it: it is not a folder fundsim wrote (it has no {MANIFEST}); "
            "--overwrite only replaces a fundsim results folder; choose another --out"
        )
    found = manifest.get("kind")
    if found != kind:
        what = KIND_NAMES.get(str(found), "") if found in KINDS else ""
        written = f"a folder written by {what}" if what else f"a folder of kind {found!r}"
        raise NotOursError(
            f"{shown}: will not replace it: it is {written}, and --overwrite only replaces a folder written by "
            f"{KIND_NAMES.get(kind, kind)}; choose another --out"
        )
    foreign = foreign_entries(folder, manifest, kind)
    if foreign:
        listed = ", ".join(printable(name) for name in foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise NotOursError(
            f"{shown}: will not replace it: it holds {len(foreign)} file(s) fundsim did not write ({listed}); "
            "move them out first, or choose another --out"
        )


def enclosing_fundsim_folder(path: Path) -> tuple[Path, str] | None:
    """The nearest folder at or above ``path`` that is a fundsim folder, with its kind, or ``None``.

    ``path`` itself need not exist; the search climbs through its parents to the file-system root.
    """
    current = Path(os.path.abspath(path))
    for folder in (current, *current.parents):
        try:
            manifest = read_manifest(folder)
        except (ManifestError, OSError):
            continue
        if manifest is not None and manifest.get("kind") in KINDS:
            return folder, str(manifest["kind"])
    return None
