"""The sweep's folder: a manifest, the design, and one Parquet partition per finished run.

```
DIR/manifest.json             what sweep this is (file hashes), how far it got
DIR/design.parquet            point → parameter values
DIR/runs/p000007-r0001-block.parquet     one finished (point, replication, contract)
DIR/runs/p000012-r0000-all.error.json    a task that failed, with its error
DIR/results.parquet|csv, outputs.csv, sensitivity.csv, failures.csv, figures/   (at the end)
DIR/report.html, sweep.xlsx   (the report: figures and the workbook of design, outputs, indices)
```

Every file is written to a temporary name in the same folder and renamed into place, so a
partition that exists is complete, whenever the process was stopped. Rerunning the same sweep
skips what exists — after checking it: a partition that is empty, truncated, of the wrong columns
or types, or that does not hold the run its name says, is set aside as ``<name>.damaged`` (never
deleted) and run again. A folder written by a different sweep file, by another fundsim version, or
that is not a sweep folder is refused; ``--overwrite`` starts afresh only in a sweep folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from fundsim.errors import FundsimError
from fundsim.experiment.manifest import ManifestError, check_manifest
from fundsim.experiment.manifest import read_manifest as read_manifest_file
from fundsim.experiment.ownership import SWEEP_ENTRIES, SWEEP_FOLDERS, NotOursError, check_replaceable
from fundsim.experiment.store import atomic_file, file_record
from fundsim.safeio import printable, read_parquet, write_parquet
from fundsim.spreadsheet import write_csv
from fundsim.version import __version__

MANIFEST = "manifest.json"
RUNS = "runs"
#: The sweep's workbook (design, outputs, indices), written with its report and listed in the
#: manifest's ``files`` so that ``--overwrite`` knows it as the sweep's own.
WORKBOOK = "sweep.xlsx"
#: Suffix given to a partition found damaged (kept for inspection, never read again).
DAMAGED = ".damaged"
#: A partition's name: point, replication and contract (``all``: every contract, passive policy).
PARTITION = re.compile(r"p(?P<point>\d{6,})-r(?P<replication>\d{4,})-(?P<contract>[A-Za-z0-9_]+)")
#: Files listed with their size and SHA-256 in the manifest of a finished sweep.
SUMMARY_FILES = ("design.parquet", "results.parquet", "outputs.csv", "sensitivity.csv", "failures.csv")


class SweepFolderError(FundsimError):
    """The output folder belongs to another sweep, or is not a sweep folder, or is damaged."""


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_file(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"))


def write_table(path: Path, table: pd.DataFrame) -> None:
    """Write ``table`` as Parquet or CSV (by suffix), atomically; CSV text cells are made spreadsheet-safe."""
    if path.suffix == ".csv":
        atomic_file(path, lambda tmp: write_csv(table, tmp))
    else:
        atomic_file(path, lambda tmp: write_parquet(table, tmp))


def partition_name(point: int, replication: int, contract: str) -> str:
    """File name of a finished run's partition (``all`` stands for every contract)."""
    label = "all" if contract == "*" else contract
    return f"p{point:06d}-r{replication:04d}-{label}"


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The folder's sweep manifest, or ``None`` if there is none.

    Raises :class:`SweepFolderError` (naming the file) for a manifest that cannot be read, or
    that says it is a sweep manifest but lacks what one holds.
    """
    try:
        manifest = read_manifest_file(out_dir)
    except ManifestError as exc:
        raise SweepFolderError(str(exc)) from None
    if manifest is not None and manifest.get("kind") == "sweep":
        try:
            check_manifest(manifest, "sweep", out_dir)
        except ManifestError as exc:
            raise SweepFolderError(str(exc)) from None
    return manifest


def prepare(out_dir: Path, sweep_sha256: str, overwrite: bool) -> bool:
    """Make ``out_dir`` ready for this sweep; return True if earlier runs of it can be reused."""
    state = resume_state(out_dir, sweep_sha256, overwrite)
    if state == "clear":
        clear(out_dir)
    return state == "resume"


def resume_state(out_dir: Path, sweep_sha256: str, overwrite: bool) -> str:
    """What a sweep may do with ``out_dir``, deciding without changing anything.

    ``"resume"``: a folder of this very sweep written by this fundsim version; ``"new"``: absent
    or empty; ``"clear"``: ``overwrite`` of a sweep folder (of another sweep or version) that holds
    nothing fundsim did not write. Anything else raises :class:`SweepFolderError`.
    """
    shown = printable(out_dir)
    manifest = read_manifest(out_dir)
    is_sweep = manifest is not None and manifest.get("kind") == "sweep"
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return "new"
    if not is_sweep:
        found = f"a folder written by `fundsim {manifest.get('kind')}`" if manifest and manifest.get("kind") else None
        what = found or "not a sweep folder (no sweep manifest.json)"
        raise SweepFolderError(
            f"{shown}: is not empty and is {what}; a sweep only resumes in, or with --overwrite replaces, a sweep "
            "folder; choose another --out"
        )
    assert manifest is not None
    same = manifest.get("sweep_sha256") == sweep_sha256
    version = manifest.get("fundsim_version")
    if same and version == __version__ and not overwrite:
        return "resume"
    if not overwrite:
        if not same:
            what = (
                "was written by a different sweep file or base scenario "
                f"(its hash {str(manifest.get('sweep_sha256'))[:12]}…, this one {sweep_sha256[:12]}…)"
            )
        else:
            what = (
                f"was written by fundsim {printable(version)}; this is fundsim {__version__}, and runs of two versions "
                "cannot be mixed in one analysis"
            )
        raise SweepFolderError(f"{shown}: {what}; choose another --out, or pass --overwrite to start afresh")
    try:
        check_replaceable(out_dir, "sweep")
    except NotOursError as exc:
        raise SweepFolderError(str(exc)) from None
    return "clear"


def clear(out_dir: Path) -> None:
    """Start afresh in a sweep folder: check it holds only a sweep's files, then remove them."""
    _clear_checked(out_dir)


def _clear_checked(out_dir: Path) -> None:
    try:
        check_replaceable(out_dir, "sweep")
    except NotOursError as exc:
        raise SweepFolderError(str(exc)) from None
    _clear(out_dir)


def _clear(out_dir: Path) -> None:
    """Remove a sweep's own files from ``out_dir`` (only what a sweep writes)."""
    for name in sorted(SWEEP_FOLDERS):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    for name in sorted((SWEEP_ENTRIES | {WORKBOOK}) - SWEEP_FOLDERS):
        (out_dir / name).unlink(missing_ok=True)
    # Last: until it goes, the folder is still recognisably a sweep's.
    (out_dir / MANIFEST).unlink(missing_ok=True)


# --------------------------------------------------------------------------- partitions


def expected_columns(measures: tuple[str, ...]) -> list[str]:
    """The columns of a partition: point, contract, replication and the headline measures."""
    return ["point", "contract", "replication", *measures]


def partition_problem(path: Path, measures: tuple[str, ...]) -> tuple[str | None, pd.DataFrame | None]:
    """Why the partition at ``path`` cannot be trusted (``None`` and its rows when it can)."""
    match = PARTITION.fullmatch(path.name.removesuffix(".parquet"))
    if match is None:
        return "its name is not that of a run (p<point>-r<replication>-<contract>.parquet)", None
    try:
        if path.stat().st_size == 0:
            return "it is empty (0 bytes)", None
        table = read_parquet(path)
    except FundsimError as exc:
        return str(exc), None
    except Exception as exc:  # pyarrow raises many kinds for a truncated or damaged file
        return f"it cannot be read as Parquet ({type(exc).__name__}: {str(exc)[:120]})", None
    wanted = expected_columns(measures)
    if sorted(map(str, table.columns)) != sorted(wanted):
        missing = [c for c in wanted if c not in table.columns]
        extra = [str(c) for c in table.columns if c not in wanted]
        return f"wrong columns (missing {missing[:4]}, unexpected {extra[:4]})", None
    if len(table) != 1:
        return f"it holds {len(table)} rows; a run's partition holds 1", None
    for column in ("point", "replication", *measures):
        if not pd.api.types.is_numeric_dtype(table[column]) or pd.api.types.is_bool_dtype(table[column]):
            return f"column {column!r} is not numeric ({table[column].dtype})", None
    row = table.iloc[0]
    contract = match["contract"]
    if int(row["point"]) != int(match["point"]) or int(row["replication"]) != int(match["replication"]):
        return "it holds another run than its name says (point or replication differ)", None
    if contract != "all" and str(row["contract"]) != contract:
        return f"it holds contract {row['contract']!r}, its name says {contract!r}", None
    return None, table


def set_aside(path: Path) -> Path:
    """Rename a damaged file to ``<name>.damaged`` (kept, never read again); return the new path."""
    target = path.with_name(path.name + DAMAGED)
    n = 1
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{path.name}{DAMAGED}-{n}")
    os.replace(path, target)
    return target


def scan(out_dir: Path, measures: tuple[str, ...]) -> tuple[set[str], set[str], list[str]]:
    """Check every partition and recorded failure in ``out_dir/runs``.

    Returns the names (without suffix) of the good partitions, of the recorded failures, and a
    note for each damaged file found, which is set aside (:func:`set_aside`) so that its run is
    done again.
    """
    runs = out_dir / RUNS
    if not runs.is_dir():
        return set(), set(), []
    done, failed, notes = set(), set(), []
    for entry in sorted(runs.iterdir()):
        name = entry.name
        if name.startswith(".") or DAMAGED in name:
            continue  # a temporary file of an interrupted write, or one already set aside
        if name.endswith(".error.json"):
            problem = _failure_problem(entry)
            if problem is None:
                failed.add(name[: -len(".error.json")])
                continue
        elif name.endswith(".parquet"):
            problem, _ = partition_problem(entry, measures)
            if problem is None:
                done.add(name[: -len(".parquet")])
                continue
        else:
            continue
        set_aside(entry)
        notes.append(f"{printable(RUNS)}/{printable(name)}: {problem}; set aside as {printable(name)}{DAMAGED}")
    return done, failed, notes


def _failure_problem(path: Path) -> str | None:
    try:
        record = json.loads(path.read_bytes()[: 1 << 20].decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"it cannot be read as JSON ({exc})"
    if not isinstance(record, dict) or not {"point", "replication", "contract", "error"} <= set(record):
        return "it is not a failure record (point, replication, contract, error)"
    return None


def read_partitions(out_dir: Path, measures: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every finished partition as one table, sorted by point, contract and replication.

    With ``measures``, every partition is checked (:func:`partition_problem`) and a damaged one
    raises :class:`SweepFolderError` naming it.
    """
    runs = out_dir / RUNS
    files = sorted(p for p in runs.glob("p*.parquet")) if runs.is_dir() else []
    if not files:
        return pd.DataFrame()
    tables = []
    for file in files:
        if measures is None:
            try:
                tables.append(read_parquet(file))
            except Exception as exc:
                raise SweepFolderError(f"{printable(file)}: cannot be read ({type(exc).__name__}: {exc})") from None
            continue
        problem, table = partition_problem(file, measures)
        if problem is not None:
            raise SweepFolderError(f"{printable(file)}: {problem}; rerun the sweep to redo this run")
        assert table is not None  # partition_problem gives the rows whenever it finds no problem
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["point", "contract", "replication"], kind="stable").reset_index(drop=True)


def read_failures(out_dir: Path) -> pd.DataFrame:
    """Every recorded failure: point, replication, contract and the error."""
    runs = out_dir / RUNS
    rows = []
    for f in sorted(runs.glob("p*.error.json")) if runs.is_dir() else []:
        if _failure_problem(f) is not None:
            raise SweepFolderError(f"{printable(f)}: {_failure_problem(f)}; rerun the sweep to redo this run")
        record = json.loads(f.read_text(encoding="utf-8"))
        rows.append({k: record[k] for k in ("point", "replication", "contract", "error")})
    return pd.DataFrame(rows, columns=["point", "replication", "contract", "error"])


def summary_records(out_dir: Path) -> dict[str, dict[str, object]]:
    """Size and SHA-256 of the sweep's summary files that exist (recorded in the final manifest)."""
    return {name: file_record(out_dir / name) for name in SUMMARY_FILES if (out_dir / name).is_file()}


def changed_summary_files(out_dir: Path, manifest: dict[str, Any]) -> list[str]:
    """Summary files whose size or SHA-256 differ from the manifest (absent records: nothing checked)."""
    records = manifest.get("summary_files")
    if not isinstance(records, dict):
        return []
    changed = []
    for name, record in records.items():
        if name not in SUMMARY_FILES or not isinstance(record, dict):
            continue
        path = out_dir / name
        if not path.is_file() or file_record(path) != {"bytes": record.get("bytes"), "sha256": record.get("sha256")}:
            changed.append(name)
    return changed
