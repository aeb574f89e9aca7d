"""Read a results folder written by ``fundsim run`` or ``fundsim compare`` into one object.

Both kinds are brought to one shape (a run is a comparison of one contract), so that everything
after this module does not care which command wrote the folder. Problems a user can cause — a
folder that is not a results folder, a missing or damaged file, a folder written by another
fundsim version — are raised as :class:`ReportError` with the path in the message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fundsim import __version__
from fundsim.errors import FundsimError

#: Files each kind of results folder must hold (``manifest.json`` is checked first).
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "compare": ("comparison.parquet", "replications.parquet", "provider.parquet", "ledger.parquet"),
    "run": ("summary.csv", "replications.csv", "provider.parquet", "ledger.parquet"),
}

#: Files read when present (a comparison writes them only when they apply).
OPTIONAL_FILES = ("risk.csv", "outcomes.csv", "wrong_way.csv")


class ReportError(FundsimError):
    """A results folder cannot be reported on (not a results folder, missing or damaged files)."""


@dataclass(frozen=True)
class ResultsFolder:
    """A results folder, read and brought to the shape of a comparison.

    ``summary`` has one row per contract × measure (``mean``, ``ci_low``, ``ci_high`` and, for a
    comparison, the paired difference from ``baseline``); ``replications`` one row per contract ×
    replication; ``provider`` one per contract × replication × month; ``ledger`` one per contract ×
    replication × locality × month. ``risk``, ``outcomes`` and ``wrong_way`` are ``None`` when
    the folder has none.
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
    if not path.exists():
        raise ReportError(f"{path}: no such folder")
    if not path.is_dir():
        raise ReportError(f"{path}: not a folder; give the results folder written by `fundsim run` or `compare`")
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise ReportError(
            f"{manifest_file}: not found; {path} is not a complete fundsim results folder "
            "(give the folder written by `fundsim run` or `fundsim compare`)"
        )
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{manifest_file}: cannot be read as JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ReportError(f"{manifest_file}: not a fundsim manifest (expected a JSON object)")
    return manifest


def version_note(manifest: dict[str, Any]) -> str | None:
    """A sentence saying that the folder was written by another fundsim version, or ``None``."""
    written = manifest.get("fundsim_version")
    if written is None:
        return f"the results carry no fundsim version (this is fundsim {__version__})"
    if str(written) != __version__:
        return f"the results were written by fundsim {written}; this is fundsim {__version__}"
    return None


def _read(path: Path, name: str, note: str | None) -> pd.DataFrame:
    file = path / name
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(file)
        return pd.read_csv(file)
    except FileNotFoundError as exc:
        raise ReportError(_missing(file, note)) from exc
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise ReportError(f"{file}: cannot be read ({type(exc).__name__}: {exc})") from exc


def _missing(file: Path, note: str | None) -> str:
    text = f"{file}: missing; the results folder is incomplete"
    return f"{text} ({note}: re-run it with this version)" if note else text


def load_results(path: Path) -> ResultsFolder:
    """Read the results folder ``path`` (written by ``fundsim run`` or ``fundsim compare``)."""
    path = Path(path)
    manifest = read_manifest(path)
    note = version_note(manifest)
    kind = manifest.get("kind")
    if kind not in REQUIRED_FILES:
        extra = f" ({note})" if note else ""
        raise ReportError(
            f"{path / 'manifest.json'}: kind {kind!r} is not one fundsim can report on; "
            f"expected 'run' or 'compare'{extra}"
        )
    for name in REQUIRED_FILES[kind]:
        if not (path / name).is_file():
            raise ReportError(_missing(path / name, note))
    scenario = manifest.get("scenario")
    if not isinstance(scenario, dict):
        scenario = {}
    try:
        folder = _load_compare(path, manifest, scenario) if kind == "compare" else _load_run(path, manifest, scenario)
    except (KeyError, ValueError, TypeError) as exc:
        why = f" ({note})" if note else ""
        raise ReportError(f"{path}: the files do not have the columns this fundsim expects{why}: {exc}") from exc
    if note is not None:
        folder = _with_warning(folder, f"{note}; the report may differ from one made by that version")
    changed = changed_files(path, manifest)
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


def _optional(path: Path, name: str, note: str | None) -> pd.DataFrame | None:
    return _read(path, name, note) if (path / name).is_file() else None


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
        risk=_optional(path, "risk.csv", note),
        outcomes=_optional(path, "outcomes.csv", note),
        wrong_way=_optional(path, "wrong_way.csv", note),
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
    )
