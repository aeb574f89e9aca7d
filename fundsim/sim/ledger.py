"""The ledger: what happened each month in each locality, as one tidy table.

One row per (replication, locality, month). Counts are people or events; ``_hours``, ``_days``
and ``_gbp`` say the unit. Contracts read this table and nothing else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import (
    SNAPSHOT_METRICS,
    SUM_METRICS,
    Accounts,
    source_columns,
    tier_columns,
    wait_band_names,
)
from fundsim.sim.calendar import Calendar

#: Columns identifying a ledger row.
KEYS = ("replication", "locality", "month")


def _wait_stats(samples: list[np.ndarray]) -> tuple[float, float, float, float]:
    if not samples:
        return (np.nan, np.nan, np.nan, np.nan)
    waits = np.concatenate(samples)
    p50, p90 = np.percentile(waits, [50, 90])
    return float(waits.mean()), float(p50), float(p90), float(len(waits))


def build_ledger(scenario: Scenario, calendar: Calendar, accounts: Accounts, replication: int) -> pd.DataFrame:
    """Assemble the monthly accumulators of every locality into the tidy ledger."""
    frames = []
    days = np.diff(calendar.month_start_day).astype(float)
    months = pd.to_datetime(list(calendar.month_starts))
    acc = accounts
    for i, loc in enumerate(scenario.localities):
        data: dict[str, object] = {
            "replication": replication,
            "locality": loc.name,
            "month": months,
            "contract_year": np.arange(calendar.n_months) // 12 + 1,
            "days": days,
            "population": float(loc.population),
        }
        for metric in (*SUM_METRICS, *source_columns(acc.sources), *tier_columns(acc.tiers)):
            data[metric] = acc.sums[metric][i]
        for metric in (*SNAPSHOT_METRICS, *wait_band_names()):
            data[metric] = acc.snapshots[metric][i]
        stats = np.array([_wait_stats(acc.waits[i][m]) for m in range(calendar.n_months)]).reshape(-1, 4)
        data["wait_mean_days"] = stats[:, 0]
        data["wait_p50_days"] = stats[:, 1]
        data["wait_p90_days"] = stats[:, 2]
        frames.append(pd.DataFrame(data))
    ledger = pd.concat(frames, ignore_index=True)
    return add_derived_columns(ledger)


def add_derived_columns(ledger: pd.DataFrame) -> pd.DataFrame:
    """Columns that follow from others (kept in one place so every table agrees)."""
    out = ledger.copy()
    out["contacts"] = out["assessments"] + out["visits_delivered"]
    out["caseload_mean"] = out["caseload_days"] / out["days"]
    out["waiting_list_mean"] = out["waiting_list_days"] / out["days"]
    out["admissions_avoided"] = out["counterfactual_admissions"] - out["admissions"]
    return out


def provider_totals(ledger: pd.DataFrame) -> pd.DataFrame:
    """Sum the localities: one row per (replication, month), as a provider-wide contract sees it.

    Sums are summed; wait statistics become contact-weighted means (an approximation for the
    percentiles, exact for the mean).
    """
    value_cols = [c for c in ledger.columns if c not in (*KEYS, "contract_year", "days")]
    weighted = ["wait_mean_days", "wait_p50_days", "wait_p90_days"]
    plain = [c for c in value_cols if c not in weighted and c not in ("caseload_mean", "waiting_list_mean")]
    grouped = ledger.groupby(["replication", "month"], sort=True)
    out = grouped[plain].sum()
    w = ledger["assessments"].where(ledger[weighted[0]].notna(), 0.0)
    for col in weighted:
        num = (ledger[col].fillna(0.0) * w).groupby([ledger["replication"], ledger["month"]]).sum()
        den = w.groupby([ledger["replication"], ledger["month"]]).sum()
        out[col] = num / den.replace(0.0, np.nan)
    out["contract_year"] = grouped["contract_year"].first()
    out["days"] = grouped["days"].first()
    out = out.reset_index()
    out["caseload_mean"] = out["caseload_days"] / out["days"]
    out["waiting_list_mean"] = out["waiting_list_days"] / out["days"]
    return out
