"""The report's year-by-year tables: the contract over its years, for horizons longer than one year.

Every table is per contract × contract year, the mean and 95% interval over replications of a
per-replication yearly figure (:func:`fundsim.report.tables.mean_ci_by`), built from the folder's
priced monthly table (``provider``) and ledger:

- ``years``: the contract's value (income), the provider's cost and surplus, the activity
  delivered and what the contract funds, and the patients' and hospital's side: the mean wait for
  assessment (assessment-weighted), the waiting list at the year's end, missed visits and
  emergency admissions;
- ``absorbed_by_year``: who carries the cost the contract does not pay for, cumulated from the
  first year: the provider's finances (its deficit, max(0, cost − income) each year), its staff
  (unpaid overtime valued at the rate paid overtime costs, as the incidence table values it), its
  patients (person-days waiting for assessment, referrals declined, visits missed; in £ too at the
  scenario's ``valuation`` prices when it sets them) and the hospital (the emergency admissions and
  their hospital cost the commissioner pays). The patients' and hospital's columns are totals under
  each contract, not "extra": the same people meet every contract (common random numbers), so the
  gap between two contracts' lines is what one puts on them beyond the other; the extra against
  the reference service (a service funded to meet its demand) is the whole-horizon incidence table;
- ``reserves_by_year`` (with ``provider_policy.reserves``): opening, surplus, deficit and closing
  reserves (:mod:`fundsim.experiment.reserves`);
- ``reserve_failures`` (with ``provider_policy.reserves``): per contract the first deficit year, the
  year reserves ran out, and the share of replications in which the provider handed the contract
  back, with its Wilson interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fundsim.columns import mean_wait
from fundsim.experiment.incidence import overtime_rate_gbp
from fundsim.experiment.reserves import failure_rates, reserve_outcomes, reserves_by_year
from fundsim.report.results import ResultsFolder
from fundsim.report.table_kit import ReportTable, get_in, in_contract_order, mean_ci_by, units_of

#: The ``years`` table's values: column and unit.
YEAR_UNITS = {
    "income_gbp": "GBP per year",
    "cost_gbp": "GBP per year",
    "surplus_gbp": "GBP per year",
    "delivered_activity": "contacts per year",
    "funded_activity": "contacts per year",
    "wait_mean_days": "days",
    "waiting_list_end": "people",
    "visits_missed": "visits per year",
    "admissions": "admissions per year",
}

#: The ``absorbed_by_year`` table's bearers: column and who carries it.
BEARERS = {
    "provider_deficit_gbp": "the provider's finances (deficit)",
    "staff_unpaid_overtime_gbp": "its staff (unpaid overtime at the paid rate)",
    "patients_wait_days": "its patients (person-days waiting for assessment)",
    "patients_declined": "its patients (referrals declined)",
    "patients_visits_missed": "its patients (visits missed)",
    "patients_valued_gbp": "its patients (waits, declines, deferrals, missed visits, cut minutes: valuation prices)",
    "hospital_admissions": "the hospital (emergency admissions)",
    "hospital_cost_gbp": "the hospital (the emergency admissions' cost the commissioner pays)",
}

#: The ``absorbed_by_year`` table's units (cumulated from the first contract year).
ABSORBED_UNITS = {
    "provider_deficit_gbp": "GBP cumulated",
    "staff_unpaid_overtime_gbp": "GBP cumulated",
    "patients_wait_days": "person-days cumulated",
    "patients_declined": "referrals cumulated",
    "patients_visits_missed": "visits cumulated",
    "patients_valued_gbp": "GBP cumulated",
    "hospital_admissions": "admissions cumulated",
    "hospital_cost_gbp": "GBP cumulated",
}

#: Patients' and hospital's columns: absorbed column -> the provider table's monthly column it sums.
_PEOPLE = {
    "patients_wait_days": "waiting_list_days",
    "patients_declined": "referrals_declined",
    "patients_visits_missed": "visits_missed",
    "hospital_admissions": "admissions",
}

#: The ``valuation`` prices that value the patients' side: price field -> the provider table's column.
_VALUED = {
    "wait_day": "waiting_list_days",
    "declined_referral": "referrals_declined",
    "visit_deferral": "visit_deferrals",
    "missed_visit": "visits_missed",
    "visit_minute_cut": "visit_minutes_cut",
}


def multi_year(folder: ResultsFolder) -> bool:
    """Whether the results span more than one contract year (the year-by-year tables need it)."""
    return "contract_year" in folder.provider and int(folder.provider["contract_year"].max()) > 1


def _ordered_years(frame: pd.DataFrame, contracts: tuple[str, ...]) -> pd.DataFrame:
    """Rows in the report's contract order, then by contract year."""
    order = {c: i for i, c in enumerate(contracts)}
    return (
        frame.assign(_order=frame["contract"].map(order))
        .sort_values(["_order", "contract_year"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def yearly_per_replication(folder: ResultsFolder) -> pd.DataFrame:
    """One row per contract × replication × contract year: the ``years`` table's values before averaging."""
    keys = ["contract", "replication", "contract_year"]
    provider = folder.provider.copy()
    if "funded_activity" not in provider:
        provider["funded_activity"] = provider["contracted_activity"]
    sums = ["income_gbp", "cost_gbp", "surplus_gbp", "delivered_activity", "funded_activity"]
    out = provider.groupby(keys, sort=True)[sums].sum()
    ledger = folder.ledger
    out["wait_mean_days"] = mean_wait(ledger, keys, "wait_mean_days")
    out["visits_missed"] = ledger.groupby(keys, sort=True)["visits_missed"].sum()
    out["admissions"] = ledger.groupby(keys, sort=True)["admissions"].sum()
    # The waiting list at the year's end: its last month, localities summed.
    last = ledger.groupby(keys, sort=True)["month"].transform("max") == ledger["month"]
    out["waiting_list_end"] = ledger[last].groupby(keys, sort=True)["waiting_list_end"].sum()
    return out.reset_index()


def years_table(folder: ResultsFolder) -> ReportTable | None:
    """Value, cost, activity, waits and admissions per contract and contract year (None for one year)."""
    if not multi_year(folder):
        return None
    frame = mean_ci_by(yearly_per_replication(folder), ["contract", "contract_year"], list(YEAR_UNITS))
    return ReportTable(
        "years",
        "Value, cost, activity, waits and admissions by contract year",
        _ordered_years(frame, folder.contracts),
        units_of(list(YEAR_UNITS), YEAR_UNITS),
    )


def _scenario_model(folder: ResultsFolder) -> Any:
    """The folder's scenario as a model, or None when it no longer validates (an older fundsim)."""
    from pydantic import ValidationError

    from fundsim.scenario.models import Scenario

    try:
        return Scenario.model_validate(folder.scenario)
    except (ValidationError, TypeError, ValueError):
        return None


def _patient_prices(folder: ResultsFolder) -> dict[str, float]:
    """Provider-table column -> £ a unit, for every ``valuation`` price the scenario sets."""
    valuation = get_in(folder.scenario, "valuation")
    prices: dict[str, float] = {}
    if not isinstance(valuation, dict):
        return prices
    for field, column in _VALUED.items():
        price = valuation.get(field)
        gbp = price.get("gbp") if isinstance(price, dict) else None
        if isinstance(gbp, int | float):
            prices[column] = float(gbp)
    return prices


def absorbed_by_year(folder: ResultsFolder) -> ReportTable | None:
    """Cumulative cost absorbed by the provider, its staff, its patients and the hospital, per contract and year."""
    if not multi_year(folder):
        return None
    keys = ["contract", "replication", "contract_year"]
    provider = folder.provider.copy()
    # The hospital's side is what the commissioner pays; a provider holding the acute budget pays the rest.
    if "hospital_cost_gbp" in provider:
        borne = provider["hospital_cost_borne_gbp"] if "hospital_cost_borne_gbp" in provider else 0.0
        provider["_hospital_gbp"] = provider["hospital_cost_gbp"] - borne
    prices = _patient_prices(folder)
    if prices and all(col in provider for col in prices):
        provider["_patients_gbp"] = sum(provider[col].to_numpy(dtype=float) * gbp for col, gbp in prices.items())
    sums = ["income_gbp", "cost_gbp", "unpaid_overtime_hours"]
    sums += [c for c in (*_PEOPLE.values(), "_hospital_gbp", "_patients_gbp") if c in provider and c not in sums]
    years = provider.groupby(keys, sort=True)[sums].sum().reset_index()
    years["provider_deficit_gbp"] = np.maximum(0.0, years["cost_gbp"] - years["income_gbp"])
    scenario = _scenario_model(folder)
    values = ["provider_deficit_gbp"]
    if scenario is not None:
        rate = overtime_rate_gbp(scenario, years["contract_year"].to_numpy())
        years["staff_unpaid_overtime_gbp"] = years["unpaid_overtime_hours"].to_numpy(dtype=float) * rate
        values.append("staff_unpaid_overtime_gbp")
    for col, source in (
        *_PEOPLE.items(),
        ("patients_valued_gbp", "_patients_gbp"),
        ("hospital_cost_gbp", "_hospital_gbp"),
    ):
        if source in years:
            years[col] = years[source].to_numpy(dtype=float)
            values.append(col)
    values = [c for c in ABSORBED_UNITS if c in values]  # reading order: provider, staff, patients, hospital
    # Cumulated from the first year within each replication, then averaged over replications.
    for col in values:
        years[col] = years.groupby(["contract", "replication"], sort=False)[col].cumsum()
    frame = mean_ci_by(years, ["contract", "contract_year"], values)
    return ReportTable(
        "absorbed_by_year",
        "Cost absorbed, cumulated from the first year, by who absorbs it",
        _ordered_years(frame, folder.contracts),
        units_of(values, ABSORBED_UNITS),
    )


def _reserves(folder: ResultsFolder) -> tuple[float, dict[str, Any]] | None:
    config = get_in(folder.scenario, "provider_policy", "reserves")
    if not isinstance(config, dict) or config.get("opening_gbp") is None:
        return None
    return float(config["opening_gbp"]), config


def reserves_table(folder: ResultsFolder) -> ReportTable | None:
    """Opening, surplus, deficit and closing reserves per contract and year (None without reserves)."""
    found = _reserves(folder)
    if found is None:
        return None
    by_year = reserves_by_year(folder.provider, found[0])
    values = ["opening_gbp", "surplus_gbp", "deficit_gbp", "closing_gbp"]
    frame = mean_ci_by(by_year, ["contract", "contract_year"], values)
    config = found[1]
    frame["recovery_threshold_gbp"] = float(config.get("recovery_threshold_gbp", 0.0))
    frame["failure_floor_gbp"] = float(config.get("failure_floor_gbp", np.nan))
    units = {**units_of(values, "GBP"), "recovery_threshold_gbp": "GBP", "failure_floor_gbp": "GBP"}
    return ReportTable(
        "reserves_by_year", "The provider's reserves by contract year", _ordered_years(frame, folder.contracts), units
    )


def failures_table(folder: ResultsFolder) -> ReportTable | None:
    """Per contract: first deficit year, year reserves ran out, and how often the provider failed."""
    found = _reserves(folder)
    if found is None:
        return None
    outcomes = reserve_outcomes(reserves_by_year(folder.provider, found[0]), folder.decisions)
    rates = failure_rates(outcomes).set_index("contract")
    firsts = outcomes.groupby("contract", sort=False)[["first_deficit_year", "reserves_out_year", "failure_year"]]
    frame = rates.join(firsts.median().add_prefix("median_")).join(
        outcomes.groupby("contract", sort=False)["reserves_out_year"]
        .apply(lambda s: float(s.notna().mean()))
        .rename("share_run_out")
    )
    frame = frame.reset_index()
    units = {
        "replications": "replications",
        "failures": "replications",
        "failure_rate": "share of replications",
        "ci_low": "share of replications (Wilson 95%)",
        "ci_high": "share of replications (Wilson 95%)",
        "median_first_deficit_year": "contract year (median)",
        "median_reserves_out_year": "contract year (median)",
        "median_failure_year": "contract year (median)",
        "share_run_out": "share of replications",
    }
    return ReportTable(
        "reserve_failures",
        "First deficit, reserves run out, and provider failure",
        in_contract_order(frame, folder.contracts),
        units,
    )


__all__ = [
    "ABSORBED_UNITS",
    "BEARERS",
    "YEAR_UNITS",
    "absorbed_by_year",
    "failures_table",
    "multi_year",
    "reserves_table",
    "yearly_per_replication",
    "years_table",
]
