"""Calibrate end to end: read the extract, fit, write the scenario and its companion files.

Files written (aggregates only; counts under the small-number rule):

* ``OUT.yaml`` — the scenario, every value commented with its provenance; it starts from the
  caseload and waiting list open on the extract's last day (its ``initial_state`` section,
  :mod:`fundsim.calibrate.initial_state`), on the first month start after the extract;
* ``OUT.initial_state.json`` — the open caseload by locality × tier and waiting list by locality ×
  wait band (aggregate counts, suppressed), as a table beside the scenario;
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
from fundsim.calibrate.initial_state import StartState, forecast_scenario, start_state
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


def render(calibration: Calibration, extract_name: str, start: StartState | None = None) -> str:
    """The scenario YAML text, with the header and the initial-state comment block.

    With ``start`` the scenario is the forecast from the lists open on the extract's last day
    (:func:`~fundsim.calibrate.initial_state.forecast_scenario`); without it, the scenario of the
    fitting window, which starts empty with a warm-up (what ``--check`` simulates over the extract).
    """
    summary = calibration.summary
    header = [
        f"fundsim calibrate: scenario fitted from the extract '{extract_name}'",
        f"fitting window {summary['window']} ({summary['months_fitted']} months; {summary['months_held_out']} held out "
        "for the check). Aggregates only: counts pass the NHS small-number rule (1-7 suppressed as *, others",
        "rounded to 5). Each value's comment says where it came from: 'fitted from FILE (n = ..., 95% CI ...)'",
        "or 'assumption: ...' (docs/calibrate.md explains every method).",
        "",
        (
            "INITIAL STATE (the run starts from it: initial_state below, where suppressed cells share out the totals):"
            if start is not None
            else "INITIAL STATE at the extract's end (this scenario of the fitting window starts empty with a warm-up):"
        ),
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
    if start is None:
        return scenario_yaml(calibration.scenario, calibration.comments, header)
    scenario, comments = forecast_scenario(calibration, start)
    return scenario_yaml(scenario, comments, header)


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
    start = start_state(extract, calibration)
    text = render(calibration, Path(extract_dir).name, start)
    # The fitted scenario must validate: a failure here is a bug in the fit, not the user's input.
    Scenario.model_validate(yaml.safe_load(text))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = [out, *(companion(out, s) for s in (".initial_state.json", ".data_quality.csv", ".problems.csv"))]
    out.write_text(text, encoding="utf-8")
    table = dict(calibration.initial_state)
    table["note"] = (
        "aggregate counts only; the scenario's initial_state section seeds them (by follow-up visits made too; "
        "suppressed cells share out the published totals), so the run starts from them"
    )
    files[1].write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    write_csv(quality_table(extract), files[2])
    write_csv(problems_table(extract.problems), files[3])
    return CalibrationOutput(calibration, extract, files)


def strict_check(extract: Extract) -> None:
    """Raise a located :class:`~fundsim.errors.ScenarioError` listing every problem (for ``--strict``)."""
    if extract.problems:
        raise ScenarioError(p.problem() for p in extract.problems)
