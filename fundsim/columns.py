"""The ledger's columns: their names, units, how each aggregates, and the measures derived from them.

The ledger (one row per replication × locality × month, :func:`fundsim.sim.ledger.build_ledger`)
is what contracts, the provider's management, the runner, the report and calibration all read.
This module is the one place that says what its columns are and how they add up, so that every
reader computes a mean wait, a provider-wide month or a derived column the same way. It is a leaf:
pure pandas and numpy, importable from every layer (contracts included).

Units are in the names: ``_hours``, ``_days``, ``_gbp``, ``_minutes``; a name without a unit suffix
counts people or events. How a column aggregates over localities or months:

* **summed**: :data:`SUM_METRICS`, the per-tier and per-source columns, the waiting-list bands and
  the month-end snapshots (a provider's caseload is the sum of its localities');
* **weighted by assessments**: the wait statistics (:data:`WAIT_COLUMNS`), whose provider-wide value
  is the assessment-weighted mean of the localities' (:func:`mean_wait`): exact for the mean, an
  approximation for the percentiles;
* **derived**: :func:`add_derived_columns` (contacts, mean caseload and waiting list, admissions avoided).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Columns identifying a ledger row.
KEYS = ("replication", "locality", "month")

#: Metrics summed over a month. Units are in the names.
SUM_METRICS = (
    "referrals",
    "referrals_urgent",
    "referrals_declined",
    "assessments",
    "assessed_without_wait",
    "visits_due",
    "visits_delivered",
    "visit_deferrals",
    "visits_missed",
    "visits_cancelled",
    "visit_minutes_cut",
    "contact_hours",
    "travel_hours",
    "rostered_hours",
    "paid_hours",
    "overtime_hours",
    "paid_overtime_hours",
    "unpaid_overtime_hours",
    "staff_cost_gbp",
    "discharges",
    "episodes_ended_by_admission",
    "admissions",
    "admissions_from_caseload",
    "admissions_from_waiting_list",
    "admissions_after_discharge",
    "admissions_declined_referrals",
    "bed_days",
    "hospital_cost_gbp",
    "counterfactual_admissions",
    "caseload_days",
    "waiting_list_days",
    "caseload_entries",
    "urgent_assessments",
    "urgent_assessed_within_2_days",
)

#: Per-tier metrics, one column per tier: ``<metric>_tier_<tier name>``. Contracts priced by tier
#: (cost and volume) and risk adjustment by case mix (outcomes) read these.
TIER_METRICS = ("referrals", "contacts", "contact_hours", "episodes")

#: An urgent referral assessed within this many days of referral meets the urgent-response KPI.
#: (The daily model resolves days, not hours, so the 2-hour urgent community response standard
#: becomes "by the end of the next working day or the one after".)
URGENT_KPI_DAYS = 2

#: Metrics read at the end of a month (a snapshot).
SNAPSHOT_METRICS = ("caseload_end", "waiting_list_end")

#: Waiting-list bands in weeks, as in NHS England's community services SitRep.
WAIT_BANDS_WEEKS = (0, 1, 2, 4, 12, 18, 52)


def source_columns(sources: tuple[str, ...]) -> list[str]:
    """Ledger columns counting referrals by source, e.g. ``referrals_from_gp``."""
    return [f"referrals_from_{s}" for s in sources]


def tier_columns(tiers: tuple[str, ...]) -> list[str]:
    """Ledger columns of the per-tier metrics, e.g. ``contacts_tier_high``."""
    return [f"{metric}_tier_{t}" for metric in TIER_METRICS for t in tiers]


def wait_band_names() -> list[str]:
    """Column names of the waiting-list bands, e.g. ``waiting_4_12_weeks``."""
    edges = [*WAIT_BANDS_WEEKS, None]
    return [
        f"waiting_{lo}_{hi}_weeks" if hi is not None else f"waiting_{lo}_plus_weeks"
        for lo, hi in itertools.pairwise(edges)
    ]


#: The virtual ward's columns (fundsim.sim.virtual_ward), present only when a scenario has one: name → (unit,
#: meaning). All are sums over the month, by the locality of the ward.
VIRTUAL_WARD_COLUMNS: dict[str, tuple[str, str]] = {
    "vw_admissions_step_up": ("people", "step-ups onto the ward (from the caseload and from GPs)"),
    "vw_admissions_step_up_gp": ("people", "of which GP step-ups (people from outside the caseload)"),
    "vw_admissions_step_down": ("people", "step-downs onto the ward (hospital stays shortened)"),
    "vw_refused_full": ("people", "step-ups and step-downs refused because every place was taken"),
    "vw_occupied_place_days": ("place-days", "time places were occupied"),
    "vw_places_days": ("place-days", "places × days: the ward's capacity"),
    "vw_stays_ended": ("people", "ward stays that ended (home, or admitted from the ward)"),
    "vw_stay_days": ("days", "length of the stays that ended (mean stay = vw_stay_days / vw_stays_ended)"),
    "vw_admissions_from_ward": ("admissions", "emergency admissions of people on the ward"),
    "vw_admissions_from_ward_gp": ("admissions", "of which GP step-ups (the rest are in the core's admissions)"),
    "vw_admissions_avoided_direct": ("admissions", "step-ups that would have been admissions and were not"),
    "vw_admissions_avoided_gp": ("admissions", "of which GP step-ups (outside the core's admissions)"),
    "vw_bed_days_saved": ("days", "hospital bed-days saved: avoided stays and shortened step-down stays"),
    "vw_bed_days_saved_step_down": ("days", "of which by step-down (the core's bed_days count these stays whole)"),
    "vw_staff_minutes": ("minutes", "staff minutes the ward's occupied places needed (visits and monitoring)"),
    "vw_core_minutes": ("minutes", "shared staffing: of which taken from the core team's rostered time"),
    "vw_bank_minutes": ("minutes", "shared staffing: of which beyond the cap, worked by bank staff"),
    "vw_cost_gbp": ("£", "the ward's own staff cost: a dedicated team for every place, or shared staffing's bank"),
}

#: Wait statistics of the month's assessments (days from referral to assessment); NaN in a month without any.
WAIT_COLUMNS = ("wait_mean_days", "wait_p50_days", "wait_p90_days")


def wait_weights(ledger: pd.DataFrame) -> pd.Series:
    """Each row's weight in a mean wait: its assessments, or 0 where the month had none (wait NaN)."""
    return ledger["assessments"].where(ledger["wait_mean_days"].notna(), 0.0)


def wait_weight_values(assessments: np.ndarray, wait_mean_days: np.ndarray) -> np.ndarray:
    """:func:`wait_weights` on numpy columns (as floats): ``assessments``, or 0 where ``wait_mean_days`` is NaN."""
    return np.where(np.isnan(wait_mean_days), 0.0, assessments)


def mean_wait(
    ledger: pd.DataFrame, by: Sequence[str] | None = None, column: str = "wait_mean_days", sort: bool = True
) -> pd.Series:
    """The assessment-weighted mean of ``column`` over rows (per group of ``by``); NaN without assessments.

    For ``wait_mean_days`` this is the mean wait of every assessment in those rows (total wait-days ÷
    assessments), whatever the rows are: localities of a month, months of a year, a whole run.
    Groups come in sorted order, or in order of first appearance with ``sort=False``.
    """
    weight = wait_weights(ledger)
    weighted = ledger[column].fillna(0.0) * weight
    if by is None:
        total = float(weight.sum())
        return pd.Series([float(weighted.sum()) / total if total > 0 else np.nan])
    keys = [ledger[k] for k in by]
    num = weighted.groupby(keys, sort=sort).sum()
    den = weight.groupby(keys, sort=sort).sum()
    return num / den.replace(0.0, np.nan)


def derived_columns(columns: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The derived columns of ``columns`` (a ledger frame, or a mapping of name → numpy array), in ledger order.

    One arithmetic for both, so the provider's monthly review (which builds numpy columns before a
    single frame) and the ledger agree to the bit.
    """
    return {
        "contacts": columns["assessments"] + columns["visits_delivered"],
        "caseload_mean": columns["caseload_days"] / columns["days"],
        "waiting_list_mean": columns["waiting_list_days"] / columns["days"],
        "admissions_avoided": columns["counterfactual_admissions"] - columns["admissions"],
    }


def add_derived_columns(ledger: pd.DataFrame) -> pd.DataFrame:
    """Columns that follow from others (kept in one place so every table agrees)."""
    out = ledger.copy()
    for name, values in derived_columns(out).items():
        out[name] = values
    return out


def provider_totals(ledger: pd.DataFrame) -> pd.DataFrame:
    """Sum the localities: one row per (replication, month), as a provider-wide contract sees it.

    Sums are summed; wait statistics become contact-weighted means (an approximation for the
    percentiles, exact for the mean).
    """
    # A factor that holds for the whole provider (re-tendering's contract value) is taken once, not summed.
    firsts = [c for c in ("contract_value_factor",) if c in ledger.columns]
    value_cols = [c for c in ledger.columns if c not in (*KEYS, "contract_year", "days", *firsts)]
    weighted = list(WAIT_COLUMNS)
    plain = [c for c in value_cols if c not in weighted and c not in ("caseload_mean", "waiting_list_mean")]
    grouped = ledger.groupby(["replication", "month"], sort=True)
    out = grouped[plain].sum()
    for col in weighted:
        out[col] = mean_wait(ledger, ["replication", "month"], col)
    out["contract_year"] = grouped["contract_year"].first()
    out["days"] = grouped["days"].first()
    for col in firsts:
        out[col] = grouped[col].first()
    out = out.reset_index()
    out["caseload_mean"] = out["caseload_days"] / out["days"]
    out["waiting_list_mean"] = out["waiting_list_days"] / out["days"]
    return out


__all__ = [
    "KEYS",
    "SNAPSHOT_METRICS",
    "SUM_METRICS",
    "TIER_METRICS",
    "URGENT_KPI_DAYS",
    "VIRTUAL_WARD_COLUMNS",
    "WAIT_BANDS_WEEKS",
    "WAIT_COLUMNS",
    "add_derived_columns",
    "derived_columns",
    "mean_wait",
    "provider_totals",
    "source_columns",
    "tier_columns",
    "wait_band_names",
    "wait_weight_values",
    "wait_weights",
]
