"""Read a results folder written by ``fundsim run`` or ``fundsim compare`` into one object.

Both kinds are brought to one shape (a run is a comparison of one contract), so that everything
after this module does not care which command wrote the folder. Problems a user can cause — a
folder that is not a results folder, a missing or damaged file, a folder written by another
fundsim version — are raised as :class:`ReportError` with the path in the message.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fundsim.errors import FundsimError
from fundsim.experiment.manifest import ManifestError, check_manifest
from fundsim.experiment.manifest import read_manifest as read_manifest_file
from fundsim.safeio import printable, read_csv, read_parquet
from fundsim.version import __version__

#: Files each kind of results folder must hold (``manifest.json`` is checked first).
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "compare": ("comparison.parquet", "replications.parquet", "provider.parquet", "ledger.parquet"),
    "run": ("summary.csv", "replications.csv", "provider.parquet", "ledger.parquet"),
}

#: Files read when present (a comparison writes them only when they apply).
OPTIONAL_FILES = ("risk.csv", "outcomes.csv", "wrong_way.csv", "incidence.csv", "decisions.csv")


class ReportError(FundsimError):
    """A results folder cannot be reported on (not a results folder, missing or damaged files)."""


@dataclass(frozen=True)
class ResultsFolder:
    """A results folder, read and brought to the shape of a comparison.

    ``summary`` has one row per contract × measure (``mean``, ``ci_low``, ``ci_high`` and, for a
    comparison, the paired difference from ``baseline``); ``replications`` one row per contract ×
    replication; ``provider`` one per contract × replication × month; ``ledger`` one per contract ×
    replication × locality × month. ``risk``, ``outcomes``, ``wrong_way`` and ``incidence`` (who
    absorbs the unfunded activity, :mod:`fundsim.experiment.incidence`) and ``decisions`` (what the
    provider decided each month, :mod:`fundsim.sim.decisions`; folders written before fundsim
    recorded it have none) are ``None`` when the folder has none.
    """

    path: Path
    kind: str
    manifest: dict[str, Any]
    scenario: dict[str, Any]
    contracts: tuple[str, ...]
    baseline: str
    summary: pd.DataFrame
    replications: pd.DataFrame
    provider: pd.DataFrame
    ledger: pd.DataFrame
    risk: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    wrong_way: pd.DataFrame | None = None
    incidence: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The scenario's name, as recorded in the manifest."""
        return str(self.manifest.get("scenario_name") or self.scenario.get("name") or self.path.name)

    @property
    def written_by(self) -> str:
        """The fundsim version that wrote the folder."""
        return str(self.manifest.get("fundsim_version", "unknown"))


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the results folder ``path``; a :class:`ReportError` if there is none or it is damaged."""
    shown = printable(path)
    if not path.exists():
        raise ReportError(f"{shown}: no such folder")
    if not path.is_dir():
        raise ReportError(f"{shown}: not a folder; give the results folder written by `fundsim run` or `compare`")
    manifest_file = path / "manifest.json"
    try:
        manifest = read_manifest_file(path)
    except ManifestError as exc:
        raise ReportError(str(exc)) from exc
    if manifest is None:
        raise ReportError(
            f"{printable(manifest_file)}: not found; {shown} is not a complete fundsim results folder "
            "(give the folder written by `fundsim run` or `fundsim compare`)"
        )
    return manifest


def version_note(manifest: dict[str, Any]) -> str | None:
    """A sentence saying that the folder was written by another fundsim version, or ``None``."""
    written = manifest.get("fundsim_version")
    if written is None:
        return f"the results carry no fundsim version (this is fundsim {__version__})"
    if str(written) != __version__:
        return f"the results were written by fundsim {written}; this is fundsim {__version__}"
    return None


#: Columns each file must have, and which of them hold text (every other column must be numeric or a date).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "summary.csv": ("measure", "label", "unit", "mean", "ci_low", "ci_high"),
    "comparison.parquet": ("contract", "measure", "label", "unit", "mean", "ci_low", "ci_high", "baseline"),
    "replications.csv": ("replication",),
    "replications.parquet": ("contract", "replication"),
    "provider.parquet": ("replication", "month"),
    "ledger.parquet": ("replication", "locality", "month"),
    "incidence.csv": ("policy", "contract", "bearer", "measure", "label", "unit", "mean", "ci_low", "ci_high"),
    "decisions.csv": ("contract", "replication", "month", "fte_share", "unpaid_overtime_share", "ration_level"),
}
TEXT_COLUMNS = frozenset(
    {"contract", "measure", "label", "unit", "baseline", "locality", "rule", "policy", "bearer", "source"}
    | {"reserve_status"}  # decisions.csv with provider_policy.reserves (fundsim.sim.decisions)
)
DATE_COLUMNS = frozenset({"month"})


def _read(path: Path, name: str, note: str | None) -> pd.DataFrame:
    file = path / name
    shown = printable(file)
    try:
        frame = read_parquet(file) if name.endswith(".parquet") else read_csv(file)
    except FileNotFoundError as exc:
        raise ReportError(_missing(file, note)) from exc
    except FundsimError as exc:
        raise ReportError(f"{shown}: {exc}") from exc
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise ReportError(f"{shown}: cannot be read ({type(exc).__name__}: {exc})") from exc
    problem = column_problem(frame, name)
    if problem is not None:
        why = f" ({note})" if note else ""
        raise ReportError(f"{shown}: {problem}{why}")
    return frame


def column_problem(frame: pd.DataFrame, name: str) -> str | None:
    """What is wrong with the columns of a results file (missing, or text where numbers belong), if anything."""
    missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in frame.columns]
    if missing:
        return f"missing column(s) {', '.join(missing)}"
    for column in frame.columns:
        if column in TEXT_COLUMNS or column in DATE_COLUMNS:
            continue
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        if series.isna().all():
            continue  # an empty optional column (a pay_<part> another contract does not report)
        text = series.dropna()
        sample = text.iloc[0] if len(text) else None
        if name.endswith(".csv") and isinstance(sample, bool):
            continue
        return f"column {column!r} holds text where numbers are expected (for example {str(sample)[:40]!r})"
    for column in DATE_COLUMNS & set(frame.columns):
        series = frame[column]
        if not pd.api.types.is_datetime64_any_dtype(series):
            try:
                pd.to_datetime(series, errors="raise")
            except (ValueError, TypeError):
                return f"column {column!r} does not hold dates"
    return None


def _missing(file: Path, note: str | None) -> str:
    text = f"{printable(file)}: missing; the results folder is incomplete"
    return f"{text} ({note}: re-run it with this version)" if note else text


def load_results(path: Path, accept_changed: bool = False) -> ResultsFolder:
    """Read the results folder ``path`` (written by ``fundsim run`` or ``fundsim compare``).

    Everything is checked before it is used: the manifest's shape, every required file (a regular
    file, readable, with the columns and types expected), and the size and SHA-256 the manifest
    records for each file. A file changed since fundsim wrote it is refused with
    :class:`ReportError` naming it, unless ``accept_changed`` (then it is a warning).
    """
    path = Path(path)
    manifest = read_manifest(path)
    note = version_note(manifest)
    kind = manifest.get("kind")
    if kind not in REQUIRED_FILES:
        extra = f" ({note})" if note else ""
        raise ReportError(
            f"{printable(path / 'manifest.json')}: kind {printable(repr(kind))[:60]} is not one fundsim can report "
            f"on; expected 'run' or 'compare'{extra}"
        )
    try:
        check_manifest(manifest, str(kind), path)
    except ManifestError as exc:
        raise ReportError(f"{exc}{f' ({note})' if note else ''}") from None
    for name in REQUIRED_FILES[kind]:
        if not (path / name).is_file():
            raise ReportError(_missing(path / name, note))
    changed = changed_files(path, manifest)
    scenario = manifest.get("scenario")
    if not isinstance(scenario, dict):
        scenario = {}
    try:
        folder = _load_compare(path, manifest, scenario) if kind == "compare" else _load_run(path, manifest, scenario)
    except (KeyError, ValueError, TypeError) as exc:
        why = f" ({note})" if note else ""
        raise ReportError(
            f"{printable(path)}: the files do not have the columns this fundsim expects{why}: {exc}"
        ) from exc
    if changed and not accept_changed:
        # Checked after reading, so that a file that cannot be read at all is reported as such.
        others = f" (and {', '.join(printable(c) for c in changed[1:])})" if len(changed) > 1 else ""
        raise ReportError(
            f"{printable(path / changed[0])}: changed since fundsim wrote it{others}: its size or SHA-256 differs "
            "from manifest.json, so the results cannot be trusted as they are; re-run, or pass --accept-changed "
            "to report the files as they are now"
        )
    if note is not None:
        folder = _with_warning(folder, f"{note}; the report may differ from one made by that version")
    if changed:
        folder = _with_warning(
            folder,
            f"{', '.join(changed)} changed since fundsim wrote {'it' if len(changed) == 1 else 'them'} "
            "(size or SHA-256 differs from manifest.json): the report shows the files as they are now",
        )
    return folder


def changed_files(path: Path, manifest: dict[str, Any]) -> list[str]:
    """Files whose size or SHA-256 differ from what the manifest lists (written since, or damaged).

    Manifests list ``files: {name: {"bytes": …, "sha256": …}}``; older ones list nothing, and then
    nothing is checked. Missing files are left to the reading, which names them.
    """
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return []
    changed = []
    for name, record in listed.items():
        file = path / str(name)
        if not isinstance(record, dict) or not file.is_file() or Path(str(name)).name != str(name):
            continue
        if record.get("bytes") is not None and file.stat().st_size != record.get("bytes"):
            changed.append(str(name))
            continue
        if record.get("sha256"):
            digest = hashlib.sha256()
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != record["sha256"]:
                changed.append(str(name))
    return changed


def _with_warning(folder: ResultsFolder, note: str) -> ResultsFolder:
    return replace(folder, warnings=(*folder.warnings, note))


def _optional(path: Path, name: str, note: str | None, manifest: dict[str, Any]) -> pd.DataFrame | None:
    """An optional file's table; ``None`` when the folder has none and its manifest does not list it.

    A file the manifest lists is one fundsim wrote: if it is gone (or is not a regular file) the
    folder is incomplete, and that is said, not passed over.
    """
    listed = manifest.get("files")
    if os.path.lexists(path / name) or (isinstance(listed, dict) and name in listed):
        return _read(path, name, note)
    return None


def _load_compare(path: Path, manifest: dict[str, Any], scenario: dict[str, Any]) -> ResultsFolder:
    note = version_note(manifest)
    summary = _read(path, "comparison.parquet", note)
    replications = _read(path, "replications.parquet", note)
    contracts = tuple(str(c) for c in manifest.get("contracts") or pd.unique(summary["contract"]))
    baseline = str(manifest.get("baseline") or summary["baseline"].iloc[0])
    return ResultsFolder(
        path=path,
        kind="compare",
        manifest=manifest,
        scenario=scenario,
        contracts=contracts,
        baseline=baseline,
        summary=summary,
        replications=replications,
        provider=_read(path, "provider.parquet", note),
        ledger=_read(path, "ledger.parquet", note),
        risk=_optional(path, "risk.csv", note, manifest),
        outcomes=_optional(path, "outcomes.csv", note, manifest),
        wrong_way=_optional(path, "wrong_way.csv", note, manifest),
        incidence=_optional(path, "incidence.csv", note, manifest),
        decisions=_optional(path, "decisions.csv", note, manifest),
    )


def _load_run(path: Path, manifest: dict[str, Any], scenario: dict[str, Any]) -> ResultsFolder:
    note = version_note(manifest)
    contract = str(manifest.get("contract") or scenario.get("contract") or "")
    if not contract:
        raise KeyError("manifest.json names no contract")
    summary = _read(path, "summary.csv", note)
    summary.insert(0, "contract", contract)
    summary["baseline"] = contract
    for col in ("diff_mean", "diff_ci_low", "diff_ci_high"):
        summary[col] = 0.0
    replications = _read(path, "replications.csv", note)
    replications.insert(0, "contract", contract)
    provider = _read(path, "provider.parquet", note)
    if "contract" not in provider.columns:
        provider.insert(0, "contract", contract)
    ledger = _read(path, "ledger.parquet", note)
    if "contract" not in ledger.columns:
        ledger.insert(0, "contract", contract)
    return ResultsFolder(
        path=path,
        kind="run",
        manifest=manifest,
        scenario=scenario,
        contracts=(contract,),
        baseline=contract,
        summary=summary,
        replications=replications,
        provider=provider,
        ledger=ledger,
        incidence=_optional(path, "incidence.csv", note, manifest),
        decisions=_optional(path, "decisions.csv", note, manifest),
    )
