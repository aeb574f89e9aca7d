"""Sentences that say who absorbs the over-performance, written from the incidence table.

The table (:func:`fundsim.experiment.incidence.incidence_table`) has one row per contract and
measure with a mean and a 95% interval; these functions only choose words and format numbers, so
the headline can never say something the table does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from fundsim.report.style import contract_label, count, money

POLICY_WORDS = {
    "responsive": "if the provider manages to its contract (hiring, shedding, unpaid overtime, rationing)",
    "passive": "if the provider does not respond to its contract",
}


def _row(table: pd.DataFrame, contract: str, measure: str) -> pd.Series | None:
    rows = table[(table["contract"] == contract) & (table["measure"] == measure)]
    return None if rows.empty else rows.iloc[0]


def _with_ci(row: pd.Series, fmt: Callable[[float], str]) -> str:
    text = fmt(float(row["mean"]))
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    if math.isnan(lo) or math.isnan(hi):
        return text
    return f"{text} (95% CI {fmt(ci_floor(row, lo))} to {fmt(hi)})"


def ci_floor(row: pd.Series, low: float) -> float:
    """The interval's low end as shown: never below 0 for a measure that cannot be negative.

    Every incidence measure not taken against the reference (a deficit, hours, counts, minutes)
    is non-negative in every replication, so a t-interval reaching below 0 is drawn from 0; an
    "extra" measure is a difference and keeps its sign. The table files keep the t-interval.
    """
    return low if bool(row.get("against_reference", True)) else max(low, 0.0)


def _shown(row: pd.Series | None) -> bool:
    """Worth a mention: the mean rounds away from zero (the table has every measure, mentioned or not)."""
    if row is None:
        return False
    mean = float(row["mean"])
    return not math.isnan(mean) and abs(mean) >= 0.5


def incidence_sentences(table: pd.DataFrame, contract: str, policy: str) -> list[str]:
    """Who carries the activity ``contract`` does not pay for, one sentence per bearer, reading order."""
    label = contract_label(contract)
    unfunded = _row(table, contract, "unfunded_activity_per_year")
    if unfunded is None:
        return []
    out = []
    lead = f"Under the {label} contract, {POLICY_WORDS.get(policy, policy)}"
    if not _shown(unfunded):
        out.append(f"{lead}, the contract pays for all the activity delivered.")
    else:
        out.append(f"{lead}, {_with_ci(unfunded, count)} contacts a year are delivered that it does not pay for.")
    deficit = _row(table, contract, "deficit_gbp_per_year")
    if deficit is not None:
        if _shown(deficit):
            out.append(f"The provider's finances carry a deficit of {_with_ci(deficit, money)} a year.")
        else:
            out.append("The provider's finances carry none of it (no deficit).")
    hours = _row(table, contract, "unpaid_overtime_hours_per_year")
    value = _row(table, contract, "unpaid_overtime_value_gbp_per_year")
    if _shown(hours) and hours is not None and value is not None:
        out.append(
            f"Staff carry {_with_ci(hours, count)} hours a year of unpaid overtime, worth "
            f"{money(float(value['mean']))} at the paid overtime rate."
        )
    patients = []
    for measure, words in (
        ("referrals_declined_per_year", "referrals declined"),
        ("visit_deferrals_per_year", "visits deferred"),
        ("visits_missed_per_year", "visits missed"),
        ("extra_wait_days_per_year", "extra days waiting for assessment"),
        ("visit_minutes_cut_per_year", "face-to-face minutes cut from visits by rationing"),
    ):
        row = _row(table, contract, measure)
        if _shown(row) and row is not None:
            patients.append(f"{_with_ci(row, count)} {words}")
    if patients:
        out.append("Patients carry " + _join(patients) + " a year.")
    addon = _addon_sentence(table, contract)
    if addon:
        out.append(addon)
    valued = _valued_sentence(table, contract)
    if valued:
        out.append(valued)
    admissions = _row(table, contract, "extra_admissions_per_year")
    cost = _row(table, contract, "extra_hospital_cost_gbp_per_year")
    if admissions is not None and cost is not None and _shown(admissions):
        out.append(
            f"The hospital sees {_with_ci(admissions, _signed_count)} emergency admissions a year beyond a service "
            f"funded to meet its demand, costing {money(float(cost['mean']))} a year."
        )
    return out


def _addon_sentence(table: pd.DataFrame, contract: str) -> str | None:
    """With add-on services: the core time they took, and their money in the provider's accounts above.

    A separately funded add-on staffed from the core brings income with little cost of its own, so
    the provider's deficit can look smaller than the core contract leaves it; this says by how much.
    """
    income = _row(table, contract, "addon_income_gbp_per_year")
    own = _row(table, contract, "addon_own_cost_gbp_per_year")
    if income is None or own is None:
        return None
    hours = _row(table, contract, "addon_core_hours_per_year")
    took = f"took {_with_ci(hours, count)} core staff hours a year and " if _shown(hours) and hours is not None else ""
    return (
        f"Add-on services {took}brought {money(float(income['mean']))} a year of their own funding against "
        f"{money(float(own['mean']))} a year of their own staff cost; the provider's finances above include both."
    )


def _valued_sentence(table: pd.DataFrame, contract: str) -> str | None:
    """What the scenario's own prices (its ``valuation`` section) make of the patients' burden, if it sets any."""
    if "source" not in table:
        return None
    rows = table[(table["contract"] == contract) & (table["source"].astype("string").fillna("") != "")]
    if rows.empty:
        return None
    parts = [f"{str(r['label']).split(',')[0].lower()} {_with_ci(r, money)}" for _, r in rows.iterrows()]
    return "At the prices the scenario sets (its valuation section), that is " + _join(parts) + " a year."


def policy_bracket_sentence(responsive: pd.DataFrame, passive: pd.DataFrame, contract: str) -> str | None:
    """The behavioural assumption in plain sight: the provider's deficit under each policy."""
    r = _row(responsive, contract, "deficit_gbp_per_year")
    p = _row(passive, contract, "deficit_gbp_per_year")
    if r is None or p is None:
        return None
    return (
        f"How much the {contract_label(contract)} contract hides depends on the provider: managing to the contract "
        f"its deficit is {_with_ci(r, money)} a year; not responding to it, {_with_ci(p, money)} a year, with "
        f"the same patients and the same random draws."
    )


def _signed_count(value: float) -> str:
    return ("+" if round(value) > 0 else "") + count(value)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


__all__ = ["POLICY_WORDS", "ci_floor", "incidence_sentences", "policy_bracket_sentence"]
