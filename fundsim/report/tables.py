"""The report's tables: tidy pandas frames built from a results folder, one per figure or section.

Every table is a :class:`ReportTable`: a frame with plain column names (what the figure functions
read) and the unit of each column (what the CSV files and the Excel workbook show in their
headers). Means and 95% confidence intervals are taken over replications (Student t), as in the
rest of fundsim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fundsim.columns import mean_wait
from fundsim.report.results import ResultsFolder
from fundsim.report.style import unit_text
from fundsim.report.table_kit import (
    FUNNEL_LEVELS,
    LEVEL,
    ReportTable,
    get_in,
    in_contract_order,
    mean_ci_by,
    units_of,
)

# --- the scenario in brief -----------------------------------------------------------------------------


def key_parameters(folder: ResultsFolder) -> ReportTable:
    """The scenario's key parameters (parameter, value, unit), read from the manifest's copy of it."""
    sc = folder.scenario
    rows: list[tuple[str, Any, str]] = [
        ("Scenario", folder.name, ""),
        ("Start date", get_in(sc, "simulation", "start_date"), "date"),
        ("Horizon", get_in(sc, "simulation", "horizon_years"), "years"),
        ("Warm-up", get_in(sc, "simulation", "warmup_days"), "days"),
        ("Replications", folder.manifest.get("replications"), "runs"),
        ("Master seed", folder.manifest.get("seed", get_in(sc, "simulation", "seed")), ""),
        ("Contracts", ", ".join(folder.contracts), ""),
        ("Provider policy", folder.manifest.get("provider_policy", get_in(sc, "provider_policy", "mode")), ""),
        ("Referral growth", _pct(get_in(sc, "demand", "growth_per_year")), "% a year"),
        ("Urgent referrals", _pct(get_in(sc, "demand", "urgent_share")), "% of referrals"),
    ]
    localities = get_in(sc, "localities") or []
    if isinstance(localities, list) and localities:
        total = sum(float(get_in(loc, "population") or 0) for loc in localities)
        rows.append(("Population", f"{total:,.0f}", "people"))
        rows.append(
            (
                "Localities",
                "; ".join(f"{get_in(loc, 'name')} {float(get_in(loc, 'population') or 0):,.0f}" for loc in localities),
                "people",
            )
        )
    grades = get_in(sc, "workforce", "grades") or []
    if isinstance(grades, list) and grades:
        rows.append(("Staff", "; ".join(f"{get_in(g, 'name')} {get_in(g, 'fte')}" for g in grades), "FTE by grade"))
    block = get_in(sc, "contracts", "block")
    if isinstance(block, dict):
        rows.append(("Block: annual value", _num(block.get("annual_value_gbp")), "£ a year"))
        rows.append(("Block: contracted activity", _num(block.get("contracted_activity_per_year")), "contacts a year"))
    risk = get_in(sc, "risk_view", "demand_growth_per_year")
    if isinstance(risk, list) and folder.risk is not None:
        rows.append(("Risk view: demand growth", ", ".join(_pct(g) or "" for g in risk), "% a year"))
    frame = pd.DataFrame(
        [(p, "" if v is None else str(v), u) for p, v, u in rows if v not in (None, "")],
        columns=["parameter", "value", "unit"],
    )
    return ReportTable("parameters", "Key parameters of the scenario", frame)


def _pct(value: Any) -> str | None:
    return None if not isinstance(value, int | float) else f"{100.0 * value:g}"


def _num(value: Any) -> str | None:
    return None if not isinstance(value, int | float) else f"{value:,.0f}"


def manifest_table(folder: ResultsFolder) -> ReportTable:
    """The manifest (what made these results) as field/value rows, without the scenario copy."""
    rows = []
    for key, value in folder.manifest.items():
        if key == "scenario":
            continue
        if key == "files" and isinstance(value, dict):
            text = f"{', '.join(str(k) for k in value)} (size and SHA-256 of each in manifest.json)"
        elif isinstance(value, dict):
            text = ", ".join(f"{k} {v}" if key == "packages" else f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((key, text))
    return ReportTable("manifest", "Manifest: what made these results", pd.DataFrame(rows, columns=["field", "value"]))


def summary_table(folder: ResultsFolder) -> ReportTable:
    """Every headline measure per contract: mean, 95% CI and the paired difference from the baseline."""
    cols = ["contract", "measure", "label", "unit", "mean", "ci_low", "ci_high"]
    cols += [c for c in ("baseline", "diff_mean", "diff_ci_low", "diff_ci_high") if c in folder.summary]
    frame = in_contract_order(folder.summary[cols].copy(), folder.contracts)
    frame["unit"] = frame["unit"].map(unit_text)
    return ReportTable("summary", "Headline measures per contract (mean and 95% CI over replications)", frame)


# --- tables behind the figures ---------------------------------------------------------------------


def _measure_units(folder: ResultsFolder) -> dict[str, str]:
    return {str(m): unit_text(str(u)) for m, u in zip(folder.summary["measure"], folder.summary["unit"], strict=True)}


def per_contract(folder: ResultsFolder, measures: Sequence[str], name: str, title: str) -> ReportTable:
    """Mean and CI of ``measures`` per contract, from the per-replication table."""
    frame = mean_ci_by(folder.replications, ["contract"], measures)
    units = _measure_units(folder)
    return ReportTable(name, title, in_contract_order(frame, folder.contracts), units_of(measures, units))


def activity_monthly(folder: ResultsFolder) -> ReportTable:
    """Contracted and delivered activity per contract and month (mean and CI over replications).

    ``funded`` is what the contract's own payment rule pays for (``funded_activity``; the
    contracted activity in folders written before fundsim recorded it), and ``unfunded`` the part
    of the mean delivered activity above it: max(delivered − funded, 0), the gap shaded in the
    activity figure. Under cost and volume at full price nothing is unfunded, however far delivery
    runs above the baseline.
    """
    columns = ["contract", "replication", "month", "contracted_activity", "delivered_activity"]
    provider = folder.provider[columns].copy()
    provider["funded_activity"] = (
        folder.provider["funded_activity"]
        if "funded_activity" in folder.provider
        else folder.provider["contracted_activity"]
    )
    provider = provider.rename(
        columns={"contracted_activity": "contracted", "delivered_activity": "delivered", "funded_activity": "funded"}
    )
    frame = mean_ci_by(provider, ["contract", "month"], ["contracted", "funded", "delivered"])
    frame = frame.drop(columns=["contracted_ci_low", "contracted_ci_high", "funded_ci_low", "funded_ci_high"])
    frame["unfunded"] = np.maximum(frame["delivered"] - frame["funded"], 0.0)
    units = {c: "contacts per month" for c in frame.columns if c not in ("contract", "month")}
    return ReportTable(
        "activity", "Contracted and delivered activity by month", in_contract_order(frame, folder.contracts), units
    )


def _service_months(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger summed over localities per (contract, replication, month); waits weighted by assessments."""
    keys = ["contract", "replication", "month"]
    sums = ledger.groupby(keys, sort=False)[
        ["waiting_list_end", "visits_missed", "visits_due", "admissions", "admissions_avoided"]
    ].sum()
    for column in ("wait_mean_days", "wait_p90_days"):
        sums[column] = mean_wait(ledger, keys, column, sort=False)
    return sums.reset_index()


def waits_monthly(folder: ResultsFolder) -> ReportTable:
    """Mean and 90th-percentile wait for assessment and the month-end waiting list, per contract and month."""
    months = _service_months(folder.ledger)
    values = ["wait_mean_days", "wait_p90_days", "waiting_list_end"]
    frame = mean_ci_by(months, ["contract", "month"], values)
    units = units_of(values, {"wait_mean_days": "days", "wait_p90_days": "days", "waiting_list_end": "people"})
    return ReportTable(
        "waits", "Waits for assessment and waiting list by month", in_contract_order(frame, folder.contracts), units
    )


def missed_monthly(folder: ResultsFolder) -> ReportTable:
    """Missed visits per contract and month (mean and CI over replications)."""
    months = _service_months(folder.ledger)
    frame = mean_ci_by(months, ["contract", "month"], ["visits_missed"])
    return ReportTable(
        "missed_by_month",
        "Missed visits by month",
        in_contract_order(frame, folder.contracts),
        units_of(["visits_missed"], "visits per month"),
    )


#: The provider's decisions (``decisions.csv``, :mod:`fundsim.sim.decisions`): column and unit.
DECISION_UNITS = {
    "fte_share": "share of initial staff",
    "unpaid_overtime_share": "share of overtime hours",
    "ration_level": "level (0 = none)",
    "hire_share": "share of initial staff",
    "shed_share": "share of initial staff",
}


def decisions_monthly(folder: ResultsFolder) -> ReportTable | None:
    """What the provider decided, per contract and month: mean and 95% CI over replications.

    From ``decisions.csv``: the staff in post at the month's end (share of the initial
    establishment), the share of overtime worked unpaid and the rationing level in force during the
    month, and the hires and sheds decided at the month's review. ``None`` for a folder written
    before fundsim recorded the decisions.
    """
    if folder.decisions is None:
        return None
    frame = folder.decisions[folder.decisions["contract"].astype(str).isin(folder.contracts)].copy()
    if frame.empty:
        return None
    frame["contract"] = frame["contract"].astype(str)
    frame["month"] = pd.to_datetime(frame["month"])
    values = [c for c in DECISION_UNITS if c in frame]
    out = mean_ci_by(frame, ["contract", "month"], values)
    return ReportTable(
        "decisions",
        "What the provider decided by month: staff, unpaid overtime, rationing",
        in_contract_order(out, folder.contracts),
        units_of(values, DECISION_UNITS),
    )


# The system tables live in tables_system.py; the report's build reaches every table from here.
from fundsim.report.tables_system import (  # noqa: E402
    funnel_limits,
    funnel_points,
    incidence,
    level_tag,
    locality_over_performance,
    risk_by_growth,
    spend_per_contract,
    wrong_way,
)

__all__ = [
    "FUNNEL_LEVELS",
    "LEVEL",
    "ReportTable",
    "activity_monthly",
    "decisions_monthly",
    "funnel_limits",
    "funnel_points",
    "incidence",
    "key_parameters",
    "level_tag",
    "locality_over_performance",
    "manifest_table",
    "mean_ci_by",
    "missed_monthly",
    "per_contract",
    "risk_by_growth",
    "spend_per_contract",
    "summary_table",
    "waits_monthly",
    "wrong_way",
]
