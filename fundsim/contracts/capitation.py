"""Capitation: a budget per head of a risk-weighted population, optionally carrying the acute budget.

Risk-weighted population (people, fixed in advance, so it does not move with activity):

    P_w = Σ_loc w_loc · pop_loc  ×  Σ_t w_t · mix_t

with locality weights w_loc and tier weights w_t (both 1 when not given) and ``mix_t`` the
expected tier mix of the scenario. Budget per month in contract year y:

    budget = (rate_per_head + acute_budget_per_head if the acute budget is included) × P_w × g^(y − 1) / 12

with g = 1 + cost uplift − efficiency. With the acute budget included, the provider also pays the
hospital cost of its population's emergency admissions (``hospital_cost_borne_gbp``).

Risk-share corridor, reconciled per (replication, contract year): with budget B and provider cost
C (staff cost + hospital cost borne) over the year, variance v = C − B, band b and shared share s,

    adjustment = s · (v − b·B)   if v >  b·B   (the commissioner meets s of the overspend beyond the band)
               = s · (v + b·B)   if v < −b·B   (the commissioner takes s of the underspend beyond the band)
               = 0               otherwise     (the provider bears the variance inside the band)

which is continuous in C. The year's adjustment is spread over its months in proportion to their budget.
Income ≥ B·(1 − s·(1 − b)) ≥ 0 because cost is never negative.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig, reference_activity
from fundsim.contracts.table import Table, column, like, n_rows
from fundsim.contracts.years import YearGroups

Weight = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class CapitationContract(UpliftedConfig):
    """A rate per head of risk-weighted population, with optional acute budget and risk-share corridors."""

    rate_per_head_gbp_per_year: float = Field(
        gt=0, le=1e5, allow_inf_nan=False, description="Community budget per risk-weighted head in year 1 (£ a year)."
    )
    locality_weights: dict[str, Weight] | None = Field(
        None, description="Need weight of each locality's population (default 1 for every locality)."
    )
    tier_weights: dict[str, Weight] | None = Field(
        None, description="Need weight of each complexity tier, applied to the expected tier mix (default 1)."
    )
    include_acute_budget: bool = Field(
        False, description="Also pay the acute (emergency admissions) budget; the provider then pays hospital cost."
    )
    acute_budget_per_head_gbp_per_year: float = Field(
        0.0,
        ge=0,
        le=1e5,
        allow_inf_nan=False,
        description="Acute budget per risk-weighted head in year 1 (£ a year); used when include_acute_budget.",
    )
    provider_risk_share_band: float = Field(
        0.03,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Variance of cost against budget the provider bears alone, as a share of budget (share).",
    )
    shared_share_beyond: float = Field(
        0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the over- or underspend beyond the band met or taken by the commissioner (0 = none).",
    )
    reference_activity_per_year: float | None = Field(
        None,
        gt=0,
        le=1e9,
        allow_inf_nan=False,
        description="Activity the budget is expected to buy each year (units); omitted = none, so no over-performance.",
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )


def risk_weighted_population(config: CapitationContract, context: ContractContext) -> float:
    """Σ_loc w_loc·pop_loc × Σ_t w_t·mix_t (people); each factor defaults to the unweighted value."""
    loc_w = config.locality_weights or {}
    tier_w = config.tier_weights or {}
    unknown_loc = sorted(set(loc_w) - set(context.locality_populations))
    if unknown_loc:
        raise ValueError(
            f"capitation.locality_weights names unknown locality(ies) {unknown_loc}; "
            f"localities are {list(context.locality_populations)}"
        )
    unknown_tier = sorted(set(tier_w) - set(context.tier_names))
    if unknown_tier:
        raise ValueError(
            f"capitation.tier_weights names unknown tier(s) {unknown_tier}; tiers are {list(context.tier_names)}"
        )
    if context.locality_populations:
        people = sum(loc_w.get(name, 1.0) * pop for name, pop in context.locality_populations.items())
    else:
        people = float(context.population)
    if tier_w:
        if not context.expected_tier_mix:
            raise ValueError("capitation.tier_weights needs the expected tier mix, which the context does not give")
        factor = sum(tier_w.get(t, 1.0) * share for t, share in context.expected_tier_mix.items())
    else:
        factor = 1.0
    return float(people * factor)


def pay(periods: Table, config: CapitationContract, context: ContractContext) -> Table:
    """Capitated payments, with any risk-share adjustment, for each row of the provider's monthly ledger."""
    weighted = risk_weighted_population(config, context)
    months = float(context.months_per_year)
    growth = config.uplift(column(periods, "contract_year"))
    per_head = config.rate_per_head_gbp_per_year
    if config.include_acute_budget:
        per_head += config.acute_budget_per_head_gbp_per_year
        borne = column(periods, "hospital_cost_gbp")
    else:
        borne = np.zeros(n_rows(periods))
    budget = per_head * weighted * growth / months

    years = YearGroups.of(periods)
    year_budget = years.per_row(years.sum(budget))
    year_cost = years.per_row(years.sum(column(periods, "staff_cost_gbp") + borne))
    n_months = years.per_row(years.sizes).astype(float)
    variance = year_cost - year_budget
    band = config.provider_risk_share_band * year_budget
    s = config.shared_share_beyond
    adjustment = np.where(
        variance > band, s * (variance - band), np.where(variance < -band, s * (variance + band), 0.0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(year_budget > 0, budget / year_budget, 1.0 / n_months)
    risk_share = adjustment * weight
    delivered = column(periods, config.activity_unit)
    contracted = reference_activity(delivered, config.reference_activity_per_year, months)
    return like(
        periods,
        {
            "income_gbp": np.maximum(budget + risk_share, 0.0),  # ≥ 0 already; max() absorbs rounding
            "contracted_activity": contracted,
            "delivered_activity": delivered,
            "hospital_cost_borne_gbp": borne,
            "budget_gbp": budget,
            "risk_share_gbp": risk_share,
        },
    )


CONTRACT = ContractType(
    name="capitation",
    config=CapitationContract,
    pay=pay,
    reads_column_tables=True,
    summary="budget per head of risk-weighted population, optionally with the acute budget and risk-share corridors",
    label="capitation",
    colour="#009E73",
    scaled_fields=("reference_activity_per_year",),
    tier_keyed_fields=("tier_weights",),
    locality_keyed_fields=("locality_weights",),
    # Income follows the population and (through the corridor) cost, never activity.
)
