"""Who absorbs the over-performance: the provider's finances, its staff, its patients, or the hospital.

A contract that does not pay for activity does not make the activity go away: someone carries it.
This module measures, per contract and replication, what each party carries, in £ where the model
has a price and in natural units otherwise:

* **provider finances**: the deficit, max(0, cost − income) over the horizon, £ a year;
* **staff**: unpaid overtime hours, and what they would cost at the rate paid overtime costs
  (the grades' FTE-weighted hourly cost × ``workforce.overtime_premium`` × the pay index of the
  contract year);
* **patients**: referrals declined, visits deferred and missed, and extra days spent waiting for
  assessment (person-days on the waiting list beyond the reference);
* **the wider system**: extra emergency admissions, and their hospital cost, beyond the reference.

**The reference** ("extra" is measured against it) is defined once, in :func:`reference_scenario`:
the same service, the same people and the same random draws (common random numbers), run with
the passive provider policy and every grade's staff multiplied until the sizing check
(:mod:`fundsim.scenario.sizing`) finds the last contract year's care need at most
:data:`REFERENCE_UTILISATION` of patient-facing hours, skill mix included: a service funded to meet
its demand, which neither rations nor relies on overtime. Differences from it are paired by
replication, so their intervals are narrow.

Everything here is a pure function of priced provider tables (one row per replication × month,
as :func:`fundsim.contracts.accounting.settle` returns them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fundsim.contracts.accounting import unfunded_total
from fundsim.experiment.addon_lines import ADDON_INCIDENCE_ROWS, addon_incidence, configured_addons, has_addons
from fundsim.experiment.stats import mean_ci
from fundsim.scenario.models import PolicyMode, Scenario
from fundsim.scenario.sizing import size_scenario, skill_mix_needs

DAYS_PER_YEAR = 365.25

#: In the reference, the last contract year's care need is at most this share of staff patient-facing hours.
REFERENCE_UTILISATION = 0.8


@dataclass(frozen=True)
class IncidenceMeasure:
    """One row of the incidence table: who carries it, what, in which unit, and how it is computed."""

    bearer: str  # "provider", "staff", "patients", "system"
    column: str  # column of the per-replication table
    label: str
    unit: str
    against_reference: bool  # measured as the difference from the reference, paired by replication


#: The incidence table's rows, in reading order.
_M = IncidenceMeasure
MEASURES: tuple[IncidenceMeasure, ...] = (
    _M("activity", "unfunded_activity_per_year", "Activity the contract does not pay for", "per year", False),
    _M("provider", "deficit_gbp_per_year", "Provider deficit", "GBP per year", False),
    _M("staff", "unpaid_overtime_hours_per_year", "Unpaid overtime", "hours per year", False),
    _M("staff", "unpaid_overtime_value_gbp_per_year", "Unpaid overtime at the paid rate", "GBP per year", False),
    _M("patients", "referrals_declined_per_year", "Referrals declined", "per year", False),
    _M("patients", "extra_wait_days_per_year", "Extra days waiting for assessment", "person-days per year", True),
    _M("patients", "visit_deferrals_per_year", "Visit deferrals", "per year", False),
    _M("patients", "visits_missed_per_year", "Missed visits", "per year", False),
    _M("patients", "visit_minutes_cut_per_year", "Visit minutes cut by rationing", "minutes per year", False),
    _M("system", "extra_admissions_per_year", "Extra emergency admissions", "per year", True),
    _M("system", "extra_hospital_cost_gbp_per_year", "Extra hospital cost", "GBP per year", True),
)

#: Prices a scenario's optional ``valuation`` section may set: field -> (measure it prices, label, unit priced).
VALUED: dict[str, tuple[str, str, str]] = {
    "wait_day": ("extra_wait_days_per_year", "Extra waiting, valued", "person-day"),
    "declined_referral": ("referrals_declined_per_year", "Referrals declined, valued", "referral"),
    "visit_deferral": ("visit_deferrals_per_year", "Visit deferrals, valued", "deferral"),
    "missed_visit": ("visits_missed_per_year", "Missed visits, valued", "visit"),
    "visit_minute_cut": ("visit_minutes_cut_per_year", "Visit minutes cut, valued", "minute"),
}


def valued_column(field: str) -> str:
    """Per-replication column of a valued measure, e.g. ``wait_day_value_gbp_per_year``."""
    return f"{field}_value_gbp_per_year"


def measures_for(scenario: Scenario) -> tuple[IncidenceMeasure, ...]:
    """The incidence table's rows for ``scenario``: :data:`MEASURES`, then one £ row per price it sets.

    A valued row sits after the measure it prices, with the same bearer and reference flag.
    """
    prices = _prices(scenario)
    out: list[IncidenceMeasure] = []
    for m in MEASURES:
        out.append(m)
        for field, (column, label, _) in VALUED.items():
            if column == m.column and field in prices:
                out.append(_M(m.bearer, valued_column(field), label, "GBP per year", m.against_reference))
    # Add-on work (fundsim.experiment.addon_lines): rows only for a scenario with add-ons, so no other table moves.
    names = {name for name, _, _ in configured_addons(scenario)}
    for bearer, column, label, unit in ADDON_INCIDENCE_ROWS:
        if names and (not column.endswith("_unfunded_per_year") or column.removesuffix("_unfunded_per_year") in names):
            out.append(_M(bearer, column, label, unit, False))
    return tuple(out)


def _prices(scenario: Scenario) -> dict[str, tuple[float, str]]:
    """Field -> (£ per unit, source) of every price the scenario's ``valuation`` sets."""
    valuation = scenario.valuation
    if valuation is None:
        return {}
    return {field: (price.gbp, price.source) for field in VALUED if (price := getattr(valuation, field)) is not None}


def price_sources(scenario: Scenario) -> dict[str, str]:
    """Valued column -> "£x per unit (source)", for the table's ``source`` column and the report."""
    return {
        valued_column(field): f"£{gbp:,.2f} per {VALUED[field][2]} ({source})"
        for field, (gbp, source) in _prices(scenario).items()
    }


def add_valuation(per_replication: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Add a £ column for every price the scenario sets: the priced measure × its price (sign kept)."""
    out = per_replication.copy()
    for field, (gbp, _) in _prices(scenario).items():
        out[valued_column(field)] = out[VALUED[field][0]].to_numpy(dtype=float) * gbp
    return out


#: Reference columns the "extra" measures subtract: measure column -> provider-table column.
_AGAINST: dict[str, str] = {
    "extra_wait_days_per_year": "waiting_list_days",
    "extra_admissions_per_year": "admissions",
    "extra_hospital_cost_gbp_per_year": "hospital_cost_gbp",
}


def reference_scenario(scenario: Scenario, utilisation: float = REFERENCE_UTILISATION) -> Scenario:
    """The same service funded to meet its demand: passive, and staffed to ``utilisation`` of its need.

    Every grade's FTE is multiplied by one factor k ≥ 1, the smallest that brings the sizing
    check's last-contract-year need (and every skill-mix need) to at most ``utilisation`` of the
    staff's patient-facing hours. The contract is irrelevant to the reference's clinical numbers
    (a passive provider does not respond to it).
    """
    report = size_scenario(scenario)
    ratios = [row.need_ratio_last_year for row in report.localities]
    # Skill mix in year 1, grown as the whole service's need grows to the last contract year.
    first = sum(row.care_hours_needed_per_year for row in report.localities)
    last = sum(row.care_hours_needed_last_year for row in report.localities)
    growth = last / first if first > 0 else 1.0
    ratios.extend(need.ratio * growth for need in skill_mix_needs(scenario, report))
    k = max(1.0, max(ratios, default=0.0) / utilisation)
    grades = [g.model_copy(update={"fte": g.fte * k}) for g in scenario.workforce.grades]
    workforce = scenario.workforce.model_copy(update={"grades": grades})
    policy = scenario.provider_policy.model_copy(update={"mode": "passive"})
    return scenario.model_copy(update={"workforce": workforce, "provider_policy": policy})


def overtime_rate_gbp(scenario: Scenario, contract_year: np.ndarray) -> np.ndarray:
    """£ an hour paid overtime costs in each contract year: FTE-weighted hourly cost × premium × pay index."""
    grades = scenario.workforce.grades
    fte = np.array([g.fte for g in grades], dtype=float)
    cost = np.array([g.hourly_cost_gbp for g in grades], dtype=float)
    hourly = float((fte * cost).sum() / fte.sum()) if fte.sum() > 0 else float(cost.mean())
    index = (1.0 + scenario.workforce.pay_uplift_per_year) ** (np.asarray(contract_year, dtype=float) - 1.0)
    return hourly * scenario.workforce.overtime_premium * index


def replication_incidence(provider: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per (contract, replication): every incidence measure that needs no reference, £ or units a year.

    Also ``unfunded_cost_gbp_per_year`` (unfunded activity × the community unit cost) and
    ``surplus_on_funded_gbp_per_year`` (income − funded activity × unit cost), whose difference is
    the signed deficit whenever delivered ≥ funded: cost − income = unfunded × u − (income − funded × u).
    """
    frame = provider.copy()
    if "contract" not in frame:
        frame["contract"] = scenario.contract
    frame["_ot_value"] = frame["unpaid_overtime_hours"].to_numpy(dtype=float) * overtime_rate_gbp(
        scenario, frame["contract_year"].to_numpy()
    )
    rows = []
    for (contract, rep), months in frame.groupby(["contract", "replication"], sort=True):
        years = months["days"].sum() / DAYS_PER_YEAR
        tot = months.sum(numeric_only=True)
        unfunded = unfunded_total(months)
        delivered = float(tot["delivered_activity"])
        unit = float(tot["staff_cost_gbp"]) / delivered if delivered > 0 else 0.0
        funded_used = delivered - unfunded
        rows.append(
            {
                "contract": contract,
                "replication": rep,
                "unfunded_activity_per_year": unfunded / years,
                "deficit_gbp_per_year": max(0.0, float(tot["cost_gbp"] - tot["income_gbp"])) / years,
                "unpaid_overtime_hours_per_year": float(tot["unpaid_overtime_hours"]) / years,
                "unpaid_overtime_value_gbp_per_year": float(tot["_ot_value"]) / years,
                "referrals_declined_per_year": float(tot["referrals_declined"]) / years,
                "visit_deferrals_per_year": float(tot["visit_deferrals"]) / years,
                "visits_missed_per_year": float(tot["visits_missed"]) / years,
                "visit_minutes_cut_per_year": float(tot["visit_minutes_cut"]) / years,
                "unfunded_cost_gbp_per_year": unfunded * unit / years,
                "surplus_on_funded_gbp_per_year": (float(tot["income_gbp"]) - funded_used * unit) / years,
                "waiting_list_days_per_year": float(tot["waiting_list_days"]) / years,
                "admissions_per_year": float(tot["admissions"]) / years,
                "hospital_cost_gbp_per_year": float(tot["hospital_cost_gbp"]) / years,
            }
        )
    out = pd.DataFrame(rows)
    if has_addons(scenario):  # the add-on work nobody pays for (fundsim.experiment.addon_lines)
        out = out.merge(addon_incidence(provider, scenario), on=["contract", "replication"], how="left")
    return out


def with_reference(per_replication: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Add the "extra" measures: each replication's value minus the reference's same replication."""
    ref = reference.drop_duplicates("replication").set_index("replication")
    out = per_replication.copy()
    for measure, base in _AGAINST.items():
        col = f"{base}_per_year"
        missing = set(out["replication"]) - set(ref.index)
        if missing:
            raise ValueError(f"the reference has no replication(s) {sorted(missing)}")
        out[measure] = out[col].to_numpy(dtype=float) - ref.loc[out["replication"], col].to_numpy(dtype=float)
    return out


def incidence_table(
    per_replication: pd.DataFrame,
    level: float = 0.95,
    measures: tuple[IncidenceMeasure, ...] = MEASURES,
    sources: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Bearer × measure × contract: mean and confidence interval over replications.

    ``sources`` gives the ``source`` column of valued rows (:func:`price_sources`); it is empty elsewhere.
    """
    sources = sources or {}
    rows = []
    for contract, reps in per_replication.groupby("contract", sort=False):
        for m in measures:
            mean, lo, hi = mean_ci(reps[m.column].to_numpy(dtype=float), level)
            rows.append(
                {
                    "contract": contract,
                    "bearer": m.bearer,
                    "measure": m.column,
                    "label": m.label,
                    "unit": m.unit,
                    "against_reference": m.against_reference,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "source": sources.get(m.column, ""),
                }
            )
    return pd.DataFrame(rows)


def incidence_by_policy(
    scenario: Scenario, priced_by_policy: Mapping[PolicyMode, pd.DataFrame], reference_provider: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incidence table and per-replication rows for each policy's priced provider table.

    Every policy is measured against the same reference (its priced provider table), replication
    by replication; both frames gain a leading ``policy`` column.
    """
    reference = replication_incidence(reference_provider, scenario)
    tables, reps = [], []
    for policy, frame in priced_by_policy.items():
        per_rep = add_valuation(with_reference(replication_incidence(frame, scenario), reference), scenario)
        table = incidence_table(per_rep, measures=measures_for(scenario), sources=price_sources(scenario))
        table.insert(0, "policy", policy)
        per_rep.insert(0, "policy", policy)
        tables.append(table)
        reps.append(per_rep)
    return pd.concat(tables, ignore_index=True), pd.concat(reps, ignore_index=True)


__all__ = [
    "MEASURES",
    "REFERENCE_UTILISATION",
    "VALUED",
    "IncidenceMeasure",
    "add_valuation",
    "incidence_by_policy",
    "incidence_table",
    "measures_for",
    "overtime_rate_gbp",
    "price_sources",
    "reference_scenario",
    "replication_incidence",
    "valued_column",
    "with_reference",
]
