"""Every contract prices the core *and* the add-ons: the provider's income and cost with their funding lines.

The core contract's payment (:func:`fundsim.contracts.accounting.settle`) sees only the core
service. An add-on (``scenario.addons``) adds its own funding line
(:func:`fundsim.contracts.addon_funding.price_addon`) to the provider's income, and its own cost (a
dedicated rota, bank staff beyond a shared cap; core minutes a shared add-on takes are already in
the core's staff cost) to the provider's cost. Surplus, absorbed cost and the commissioner's spend
follow. A scenario without add-ons is returned unchanged, so no number moves.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from fundsim.contracts.addon_funding import ADDON_COLUMNS, AddOnFunding, price_addon
from fundsim.scenario.models import Scenario

DAYS_PER_YEAR = 365.25

#: Words for each add-on, and the unit of the activity its funding line prices.
ADDON_WORDS: dict[str, tuple[str, str]] = {
    "urgent_response": ("urgent community response", "responses"),
    "virtual_ward": ("virtual ward", "bed-days"),
}

#: Rows the incidence table gains when a scenario has add-ons: (bearer, column, label, unit).
ADDON_INCIDENCE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("activity", "urgent_response_unfunded_per_year", "Urgent responses no funding line pays for", "per year"),
    ("activity", "virtual_ward_unfunded_per_year", "Virtual-ward bed-days no funding line pays for", "per year"),
    ("activity", "addon_core_hours_per_year", "Core staff hours taken by add-on services", "hours per year"),
    ("provider", "addon_cost_uncovered_gbp_per_year", "Add-on cost its funding line does not cover", "GBP per year"),
    # Not burdens but what the provider's deficit above already includes: the headline names them so
    # that add-on money is not mistaken for the core contract's (fundsim.report.incidence_text).
    ("provider", "addon_income_gbp_per_year", "Add-on funding lines, in the provider's income", "GBP per year"),
    ("provider", "addon_own_cost_gbp_per_year", "Add-ons' own staff cost, in the provider's cost", "GBP per year"),
)


def configured_addons(scenario: Scenario) -> Iterator[tuple[str, object, AddOnFunding]]:
    """(name, its config, its funding) of each add-on the scenario configures, in :data:`ADDON_COLUMNS` order."""
    addons = scenario.addons
    if addons is None:
        return
    for name in ADDON_COLUMNS:
        spec = getattr(addons, name, None)
        if spec is not None:
            yield name, spec, getattr(spec, "funding", None) or AddOnFunding()


def has_addons(scenario: Scenario) -> bool:
    """Whether ``scenario`` configures any add-on service."""
    return any(True for _ in configured_addons(scenario))


def with_addon_lines(provider: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``provider`` (priced by ``settle``) with each add-on's funding line and cost in the provider's accounts.

    Adds per add-on ``<addon>_income_gbp``, ``<addon>_cost_gbp``, ``<addon>_activity`` and
    ``<addon>_unfunded_activity``, their totals ``addon_income_gbp`` and ``addon_cost_gbp``, and
    moves ``income_gbp``, ``cost_gbp``, ``surplus_gbp``, ``absorbed_gbp`` and
    ``commissioner_spend_gbp`` by them. Unchanged (the same object) without add-ons.
    """
    addons = list(configured_addons(scenario))
    if not addons or "addon_income_gbp" in provider.columns:  # none, or already added
        return provider
    out = provider.copy()
    teams = len(scenario.localities)
    income = np.zeros(len(out))
    cost = np.zeros(len(out))
    for name, _spec, funding in addons:
        line = price_addon(out, funding, name, teams)
        out[f"{name}_income_gbp"] = line["income_gbp"].to_numpy()
        out[f"{name}_cost_gbp"] = line["cost_gbp"].to_numpy()
        out[f"{name}_activity"] = line["activity"].to_numpy()
        out[f"{name}_unfunded_activity"] = line["unfunded_activity"].to_numpy()
        income += line["income_gbp"].to_numpy()
        cost += line["cost_gbp"].to_numpy()
    out["addon_income_gbp"] = income
    out["addon_cost_gbp"] = cost
    out["income_gbp"] = out["income_gbp"].to_numpy(dtype=float) + income
    out["cost_gbp"] = out["cost_gbp"].to_numpy(dtype=float) + cost
    out["surplus_gbp"] = out["income_gbp"] - out["cost_gbp"]
    out["absorbed_gbp"] = np.maximum(0.0, out["cost_gbp"] - out["income_gbp"])
    # The commissioner pays the add-on's funding line too (its callers' hospital stays are in the
    # add-on effect table, not here: without the add-on the same callers' stays are not simulated).
    out["commissioner_spend_gbp"] = out["commissioner_spend_gbp"].to_numpy(dtype=float) + income
    return out


def addon_incidence(provider: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per (contract, replication): the add-on work nobody pays for and who carries it, a year.

    ``<addon>_unfunded_per_year``: add-on activity no funding line pays for (all of it when the
    add-on is ``included`` in the core contract); ``addon_cost_uncovered_gbp_per_year``: the
    add-ons' own cost their funding lines leave to the provider, max(0, cost − funding) over the
    horizon; ``addon_income_gbp_per_year`` and ``addon_own_cost_gbp_per_year``: the funding lines
    and the add-ons' own cost the provider's accounts include; ``addon_core_hours_per_year``: core
    staff hours a shared add-on takes from the core's day (the core's planned visits then wait).
    Needs the columns :func:`with_addon_lines` adds.
    """
    provider = with_addon_lines(provider, scenario)  # no-op on runner.price tables; a settle()-only table gains them
    rows = []
    names = [name for name, _, _ in configured_addons(scenario)]
    for (contract, rep), months in provider.groupby(["contract", "replication"], sort=True):
        years = float(months["days"].sum()) / DAYS_PER_YEAR
        row: dict[str, object] = {"contract": contract, "replication": rep}
        for name in names:
            row[f"{name}_unfunded_per_year"] = float(months[f"{name}_unfunded_activity"].sum()) / years
        income, own_cost = float(months["addon_income_gbp"].sum()), float(months["addon_cost_gbp"].sum())
        row["addon_cost_uncovered_gbp_per_year"] = max(0.0, own_cost - income) / years
        row["addon_income_gbp_per_year"] = income / years
        row["addon_own_cost_gbp_per_year"] = own_cost / years
        core_hours = float(months["ucr_core_hours"].sum()) if "ucr_core_hours" in months else 0.0
        if "vw_core_minutes" in months:  # a shared virtual ward's time off the core's day
            core_hours += float(months["vw_core_minutes"].sum()) / 60.0
        row["addon_core_hours_per_year"] = core_hours / years
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = [
    "ADDON_INCIDENCE_ROWS",
    "ADDON_WORDS",
    "addon_incidence",
    "configured_addons",
    "has_addons",
    "with_addon_lines",
]
