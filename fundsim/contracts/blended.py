"""Blended payment: a fixed element for agreed activity, a variable element, and a quality incentive.

For a month of contract year y, with g = 1 + cost uplift − efficiency, price_y = unit_price × g^(y − 1),
fixed_y = fixed_gbp_per_year × g^(y − 1) and delivered activity v:

    fixed_gbp     = fixed_y / 12
    variable_gbp  = max(variable_share × price_y × (v − agreed_activity_per_year / 12), −fixed_gbp)
    incentive_gbp = quality_incentive_share × fixed_gbp × (weight of the quality targets met in the year
                                                            / total weight; 1 when there are no targets)
    income_gbp    = fixed_gbp + variable_gbp + incentive_gbp

The variable element is linear in activity, so the months of a year add up to the annual settlement
variable_share × price_y × (annual activity − agreed activity); the deduction in a month is limited to
that month's fixed element (it binds only when variable_share × price × agreed activity exceeds the fixed
element), so income is never negative. The quality incentive is assessed per (replication, contract
year) and shown in every month of the year as its share of the final figure (CQUIN is paid monthly in
advance and reconciled).

With ``rebasing`` (:mod:`fundsim.contracts.rebasing`) the fixed element fixed_y and the agreed activity of
each later year are reset to an earlier year's outturn or a needs-based formula (the agreed activity
moving with the fixed element at its implied price fixed_gbp_per_year / agreed_activity_per_year);
``rule: none``, the default, is the formula above exactly.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig
from fundsim.contracts.kpi import QualityTarget, quality_achievement
from fundsim.contracts.rebasing import Rebasing, annual_values, check_rebasing
from fundsim.contracts.table import Table, column, like


class BlendedContract(UpliftedConfig):
    """A fixed element for an agreed activity, a variable element at a share of unit price, and a quality incentive."""

    fixed_gbp_per_year: float = Field(
        gt=0, le=1e11, allow_inf_nan=False, description="Fixed element in contract year 1 (£ a year)."
    )
    agreed_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the fixed element pays for each year (units)."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )
    unit_price_gbp: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="Unit price in contract year 1 (£ per unit)."
    )
    variable_share_of_unit_price: float = Field(
        0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the unit price paid for activity above, or deducted below, the agreed level.",
    )
    quality_incentive_share: float = Field(
        0.0125,
        ge=0,
        le=0.2,
        allow_inf_nan=False,
        description="Most the quality incentive can earn in a year (share of the fixed element).",
    )
    quality_targets: tuple[QualityTarget, ...] = Field(
        (), max_length=50, description="Quality targets; none = the incentive is paid in full."
    )
    rebasing: Rebasing = Field(
        default_factory=Rebasing,
        description="How the fixed element and agreed activity are reset each contract year (default: none).",
    )


def pay(periods: Table, config: BlendedContract, context: ContractContext) -> Table:
    """Blended payments (fixed + variable + incentive) for each row of the provider's monthly ledger."""
    months = float(context.months_per_year)
    growth = config.uplift(column(periods, "contract_year"))
    delivered = column(periods, config.activity_unit)
    agreed: float | np.ndarray = config.agreed_activity_per_year / months
    fixed = config.fixed_gbp_per_year * growth / months
    if config.rebasing.rule != "none":
        g = 1.0 + config.cost_uplift_per_year - config.efficiency_per_year
        value, planned = annual_values(
            periods, config.fixed_gbp_per_year, config.agreed_activity_per_year, g, config.rebasing, context, delivered
        )
        fixed, agreed = value / months, planned / months
    variable = config.variable_share_of_unit_price * config.unit_price_gbp * growth * (delivered - agreed)
    variable = np.maximum(variable, -fixed)
    incentive = config.quality_incentive_share * fixed * quality_achievement(periods, config.quality_targets)
    return like(
        periods,
        {
            "income_gbp": fixed + variable + incentive,
            "contracted_activity": agreed,
            "delivered_activity": delivered,
            "fixed_gbp": fixed,
            "variable_gbp": variable,
            "incentive_gbp": incentive,
            # The fixed element pays for the agreed activity; each unit above it is paid at the variable
            # share of the unit price, so counts as that share of a funded unit (below plan the refund
            # is smaller than the unit price, so less than the activity not done is taken back).
            "funded_activity": agreed + variable / (config.unit_price_gbp * growth),
        },
    )


def _check(config: BlendedContract, context: ContractContext, where: str) -> None:
    check_rebasing(config.rebasing, context, where)


CONTRACT = ContractType(
    name="blended",
    config=BlendedContract,
    pay=pay,
    reads_column_tables=True,
    summary="fixed element for agreed activity, variable element at a share of unit price, and a quality incentive",
    label="blended",
    colour="#D55E00",
    scaled_fields=("fixed_gbp_per_year", "agreed_activity_per_year"),
    planned_activity_field="agreed_activity_per_year",
    # The variable element is paid on contacts or hours; assessments weight the mean-wait quality target.
    activity_columns=("contacts", "contact_hours", "assessments"),
    check=_check,
)
