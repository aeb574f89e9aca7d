"""The sweep's folder: a manifest, the design, and one Parquet partition per finished run.

```
DIR/manifest.json             what sweep this is (file hashes), how far it got
DIR/design.parquet            point → parameter values
DIR/runs/p000007-r0001-block.parquet     one finished (point, replication, contract)
DIR/runs/p000012-r0000-all.error.json    a task that failed, with its error
DIR/results.parquet|csv, outputs.csv, sensitivity.csv, failures.csv, figures/   (at the end)
```

Every file is written to a temporary name in the same folder and renamed into place, so a
partition that exists is complete, whenever the process was stopped. Rerunning the same sweep
skips what exists; a folder written by a different sweep file is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fundsim.errors import FundsimError
from fundsim.experiment.store import atomic_file

MANIFEST = "manifest.json"
RUNS = "runs"


class SweepFolderError(FundsimError):
    """The output folder belongs to another sweep, or is not a sweep folder."""


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON, atomically."""
    atomic_file(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"))


def write_table(path: Path, table: pd.DataFrame) -> None:
    """Write ``table`` as Parquet or CSV (by suffix), atomically."""
    if path.suffix == ".csv":
        atomic_file(path, lambda tmp: table.to_csv(tmp, index=False))
    else:
        atomic_file(path, lambda tmp: table.to_parquet(tmp, index=False))


def partition_name(point: int, replication: int, contract: str) -> str:
    """File name of a finished run's partition (``all`` stands for every contract)."""
    label = "all" if contract == "*" else contract
    return f"p{point:06d}-r{replication:04d}-{label}"


def read_manifest(out_dir: Path) -> dict | None:
    """The folder's manifest, or ``None`` if there is none."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepFolderError(f"{path}: unreadable manifest ({exc})") from None


def prepare(out_dir: Path, sweep_sha256: str, overwrite: bool) -> bool:
    """Make ``out_dir`` ready for this sweep; return True if earlier runs of it can be reused."""
    manifest = read_manifest(out_dir)
    if manifest is not None and manifest.get("kind") == "sweep" and manifest.get("sweep_sha256") == sweep_sha256:
        return not overwrite or _clear(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            what = (
                "was written by a different sweep file or base scenario "
                f"(its hash {str(manifest.get('sweep_sha256'))[:12]}…, this one {sweep_sha256[:12]}…)"
                if manifest is not None and manifest.get("kind") == "sweep"
                else "is not empty and is not a folder of this sweep"
            )
            raise SweepFolderError(f"{out_dir}: {what}; choose another --out, or pass --overwrite to start afresh")
        _clear(out_dir)
    return False


def _clear(out_dir: Path) -> bool:
    """Remove a sweep's own files from ``out_dir`` (only what a sweep writes); return False."""
    import shutil

    for name in ("runs", "figures"):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    for name in (
        MANIFEST,
        "design.parquet",
        "results.parquet",
        "results.csv",
        "outputs.csv",
        "sensitivity.csv",
        "failures.csv",
        "notes.json",
        "report.html",
    ):
        (out_dir / name).unlink(missing_ok=True)
    return False


def finished(out_dir: Path) -> tuple[set[str], set[str]]:
    """Names (without suffix) of the partitions and of the recorded failures in ``out_dir/runs``."""
    runs = out_dir / RUNS
    if not runs.is_dir():
        return set(), set()
    done, failed = set(), set()
    for entry in runs.iterdir():
        if entry.name.startswith("."):
            continue  # a temporary file of a write that was interrupted
        if entry.name.endswith(".error.json"):
            failed.add(entry.name[: -len(".error.json")])
        elif entry.suffix == ".parquet":
            done.add(entry.stem)
    return done, failed


def read_partitions(out_dir: Path) -> pd.DataFrame:
    """Every finished partition as one table, sorted by point, contract and replication."""
    runs = out_dir / RUNS
    files = sorted(p for p in runs.glob("p*.parquet")) if runs.is_dir() else []
    if not files:
        return pd.DataFrame()
    table = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    return table.sort_values(["point", "contract", "replication"], kind="stable").reset_index(drop=True)


def read_failures(out_dir: Path) -> pd.DataFrame:
    """Every recorded failure: point, replication, contract and the error."""
    runs = out_dir / RUNS
    rows = []
    for f in sorted(runs.glob("p*.error.json")) if runs.is_dir() else []:
        rows.append(json.loads(f.read_text(encoding="utf-8")))
    return pd.DataFrame(rows, columns=["point", "replication", "contract", "error"])
