"""Rows of the report's HTML tables beyond the headline measures: who absorbs, and what the outcomes contract sees.

Each function turns a results table into plain rows of formatted text (numbers in the report's own
formats, :mod:`fundsim.report.style`), so the template only lays them out and the terminal and the
page show the same number the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fundsim.experiment.stats import mean_ci
from fundsim.report.incidence_text import ci_floor
from fundsim.report.style import by_unit, contract_label, unit_text

#: Words for the bearers of the incidence table.
BEARERS = {
    "activity": "Activity",
    "provider": "Provider",
    "staff": "Staff",
    "patients": "Patients",
    "system": "Wider system",
}

POLICY_TITLES = {
    "responsive": "A provider that manages to its contract (hiring, shedding, unpaid overtime, rationing)",
    "passive": "A provider that does not respond to its contract (the bracket)",
}


def _cell(row: pd.Series | None) -> dict[str, str]:
    if row is None:
        return {"mean": "–", "ci": ""}
    unit = str(row["unit"])
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    ci = "" if np.isnan(lo) or np.isnan(hi) else f"{by_unit(ci_floor(row, lo), unit)} to {by_unit(hi, unit)}"
    return {"mean": by_unit(float(row["mean"]), unit), "ci": ci}


def _table(frame: pd.DataFrame, columns: list[tuple[str, str]], title: str) -> dict[str, Any]:
    """One table: a row per measure (frame order), a column per (policy, contract)."""
    indexed = {(str(r["policy"]), str(r["contract"]), str(r["measure"])): r for _, r in frame.iterrows()}
    rows = []
    for measure in dict.fromkeys(frame["measure"].astype(str)):
        first = frame[frame["measure"].astype(str) == measure].iloc[0]
        cells = [_cell(indexed.get((p, c, measure))) for p, c in columns]
        rows.append(
            {
                "bearer": BEARERS.get(str(first["bearer"]), str(first["bearer"])),
                "label": str(first["label"]),
                "unit": unit_text(str(first["unit"])),
                "extra": bool(first.get("against_reference", False)),
                "cells": cells,
            }
        )
    return {"title": title, "columns": [_column_label(p, c, columns) for p, c in columns], "rows": rows}


def _column_label(policy: str, contract: str, columns: list[tuple[str, str]]) -> str:
    one_contract = len({c for _, c in columns}) == 1
    return f"{policy} provider" if one_contract else contract_label(contract)


def incidence_tables(incidence: pd.DataFrame | None, contracts: Sequence[str], policy: str) -> list[dict[str, Any]]:
    """The "who absorbs" tables: under the scenario's policy, then (if simulated) the passive bracket.

    A run (one contract) gets one table with a column per policy; a comparison a table per policy
    with a column per contract.
    """
    if incidence is None or incidence.empty:
        return []
    frame = incidence[incidence["contract"].isin(contracts)]
    policies = list(dict.fromkeys(frame["policy"].astype(str)))
    if len(contracts) == 1:
        columns = [(p, contracts[0]) for p in policies]
        return [_table(frame, columns, POLICY_TITLES.get(policy, policy))]
    ordered = [policy, *[p for p in policies if p != policy]]
    return [
        _table(frame[frame["policy"] == p], [(p, c) for c in contracts], POLICY_TITLES.get(p, p))
        for p in ordered
        if p in policies
    ]


def price_notes(incidence: pd.DataFrame | None) -> list[str]:
    """Each valued row as "label: £x per unit (source)" (the scenario's ``valuation`` section)."""
    if incidence is None or "source" not in incidence:
        return []
    rows = incidence[incidence["source"].astype("string").fillna("") != ""]
    return [f"{label}: {source}" for label, source in dict.fromkeys(zip(rows["label"], rows["source"], strict=True))]


#: Rows of the outcomes table: column of outcomes.csv, label, unit.
OUTCOME_ROWS = (
    ("expected", "Expected admissions (risk model, E)", "admissions per contract year"),
    ("observed", "Observed admissions (O)", "admissions per contract year"),
    ("oe_ratio", "O/E", "ratio"),
    ("true_avoided", "True admissions avoided (against no care; the contract cannot see this)", "admissions"),
)


def outcome_rows(years: pd.DataFrame | None) -> list[dict[str, str]]:
    """What the outcomes contract can observe against what the simulation knows (mean, 95% CI over years)."""
    if years is None or years.empty:
        return []
    rows = []
    for column, label, unit in OUTCOME_ROWS:
        if column not in years:
            continue
        mean, lo, hi = mean_ci(years[column].to_numpy(dtype=float))
        fmt = (lambda v: f"{v:,.3f}") if column == "oe_ratio" else (lambda v: by_unit(v, "per year"))
        ci = "" if np.isnan(lo) else f"{fmt(lo)} to {fmt(hi)}"
        rows.append({"label": label, "unit": unit, "mean": fmt(mean), "ci": ci})
    if "rewarded" in years:
        share = float(pd.Series(years["rewarded"]).astype(float).mean())
        rows.append({"label": "Contract years rewarded", "unit": "share", "mean": f"{share:.0%}", "ci": ""})
    return rows


def wrong_way_rows(wrong_way: pd.DataFrame | None) -> list[dict[str, str]]:
    """The probability the outcomes contract pays the wrong way round, by population."""
    if wrong_way is None or wrong_way.empty:
        return []
    rows = []
    for r in wrong_way.to_dict("records"):
        seen = r.get("observed_wrong_way_share")
        rows.append(
            {
                "population": f"{float(r['population']):,.0f}",
                "expected": by_unit(float(r["expected_per_year"]), "per year"),
                "p_wrong_way": f"{float(r['p_wrong_way']):.0%}",
                "seen": "" if seen is None or np.isnan(float(seen)) else f"{float(seen):.0%}",
            }
        )
    return rows


__all__ = ["incidence_tables", "outcome_rows", "price_notes", "wrong_way_rows"]
