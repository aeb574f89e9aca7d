"""Calibrate end to end: read the extract, fit, write the scenario and its companion files.

Files written (aggregates only; counts under the small-number rule):

* ``OUT.yaml`` — the scenario, every value commented with its provenance, and the initial caseload
  and waiting list as a marked comment block;
* ``OUT.initial_state.json`` — the same initial state, for the model change that will read it;
* ``OUT.data_quality.csv`` — share of valid values per table and column, and rows left out;
* ``OUT.problems.csv`` — each kind of problem found: file, column, kind, number of rows (suppressed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from fundsim.calibrate.fit import Calibration, fit_scenario
from fundsim.calibrate.read import Extract, RowProblem, read_extract
from fundsim.calibrate.schema import Mapping
from fundsim.calibrate.suppress import count_text, suppress_count
from fundsim.calibrate.writer import scenario_yaml
from fundsim.errors import ScenarioError
from fundsim.spreadsheet import write_csv


@dataclass
class CalibrationOutput:
    """What :func:`calibrate` produced: the calibration, the extract as read, and the files written."""

    calibration: Calibration
    extract: Extract
    files: list[Path]


def companion(out: Path, suffix: str) -> Path:
    """``scenarios/mine.yaml`` + ``.initial_state.json`` -> ``scenarios/mine.initial_state.json``."""
    return out.with_name(out.stem + suffix)


def problems_table(problems: list[RowProblem]) -> pd.DataFrame:
    """Problems as an aggregate table (no row numbers, counts suppressed)."""
    rows = [
        {
            "file": p.file,
            "column": p.column,
            "kind": p.kind,
            "rows": count_text(p.n_rows),
            "row_left_out": p.fatal_for_row,
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=["file", "column", "kind", "rows", "row_left_out"])


def quality_table(extract: Extract) -> pd.DataFrame:
    """The data-quality summary with every count suppressed (shares from 8 or more rows only)."""
    q = extract.quality()
    for col in ("rows", "valid", "missing", "invalid"):
        q[col] = [suppress_count(v) for v in q[col]]
    q["share_valid"] = [
        round(s, 4) if r is not None and r >= 8 else None for s, r in zip(q["share_valid"], q["rows"], strict=True)
    ]
    return q


def render(calibration: Calibration, extract_name: str) -> str:
    """The scenario YAML text, with the header and the initial-state comment block."""
    summary = calibration.summary
    header = [
        f"fundsim calibrate: scenario fitted from the extract '{extract_name}'",
        f"fitting window {summary['window']} ({summary['months_fitted']} months; {summary['months_held_out']} held out "
        "for the check). Aggregates only: counts pass the NHS small-number rule (1-7 suppressed as *, others",
        "rounded to 5). Each value's comment says where it came from: 'fitted from FILE (n = ..., 95% CI ...)'",
        "or 'assumption: ...' (docs/calibrate.md explains every method).",
        "",
        "INITIAL STATE (not yet read by the model: next step; the scenario starts empty with a warm-up):",
    ]
    state = calibration.initial_state
    header.append(
        f"  as of {state['as_of']}: caseload {_c(state['caseload_total'])}, "
        f"waiting list {_c(state['waiting_list_total'])}"
    )
    for loc, tiers in state["caseload_by_locality_and_tier"].items():
        header.append(f"  caseload {loc}: " + ", ".join(f"{t} {_c(v)}" for t, v in tiers.items()))
    for loc, bands in state["waiting_list_by_locality_and_wait_band"].items():
        header.append(f"  waiting {loc}: " + ", ".join(f"{b} {_c(v)}" for b, v in bands.items()))
    header.append("")
    return scenario_yaml(calibration.scenario, calibration.comments, header)


def _c(value: int | None) -> str:
    return "*" if value is None else f"{value:,}"


def calibrate(
    extract_dir: Path,
    out: Path,
    *,
    mapping: Mapping | None = None,
    n_tiers: int = 3,
    holdout_months: int = 0,
    name: str | None = None,
    replications: int = 5,
) -> CalibrationOutput:
    """Read ``extract_dir``, fit a scenario and write it to ``out`` with its companion files."""
    from fundsim.scenario.models import Scenario

    extract = read_extract(Path(extract_dir), mapping)
    calibration = fit_scenario(
        extract, name=name or Path(out).stem, n_tiers=n_tiers, holdout_months=holdout_months, replications=replications
    )
    text = render(calibration, Path(extract_dir).name)
    # The fitted scenario must validate: a failure here is a bug in the fit, not the user's input.
    Scenario.model_validate(yaml.safe_load(text))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = [out, *(companion(out, s) for s in (".initial_state.json", ".data_quality.csv", ".problems.csv"))]
    out.write_text(text, encoding="utf-8")
    files[1].write_text(json.dumps(calibration.initial_state, indent=2) + "\n", encoding="utf-8")
    write_csv(quality_table(extract), files[2])
    write_csv(problems_table(extract.problems), files[3])
    return CalibrationOutput(calibration, extract, files)


def strict_check(extract: Extract) -> None:
    """Raise a located :class:`~fundsim.errors.ScenarioError` listing every problem (for ``--strict``)."""
    if extract.problems:
        raise ScenarioError(p.problem() for p in extract.problems)
