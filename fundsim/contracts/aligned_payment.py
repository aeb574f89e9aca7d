"""Aligned payment and incentive (API), the NHS Payment Scheme 2025/26 mechanism for NHS providers.

The scheme (NHS England, *2025/26 NHS Payment Scheme*, section 4 "Aligned payment and incentive
rules", and its guidance *NHS provider payment mechanisms: guidance on aligned payment and incentive
and low volume activity block payments*) pays an NHS provider:

* a **fixed element**, agreed locally, meant to fund the activity the two parties plan; community
  services sit in the fixed element nationally;
* a **variable element** for the activity the scheme names (nationally: almost all elective activity),
  paid at **100% of NHSPS unit prices** for activity delivered above the planned level and reduced at
  the same rate below it;
* no national quality element: NHS England did not operate CQUIN in 2024/25 or 2025/26 (its value
  went into the fixed element), so the quality share defaults to 0 and can be set for a local scheme.

This contract applies those rules to a community service whose commissioner makes its contacts (or
hours) variable, as the scheme lets the parties agree locally. For a month of contract year y, with
V_y the year's fixed element (rolled forward with g = 1 + uplift − efficiency, or rebased,
:mod:`fundsim.contracts.rebasing`), A_y the planned activity it buys, price_y = unit_price × g^(y − 1)
and delivered activity v:

    fixed_gbp     = V_y / 12
    variable_gbp  = variable_rate × price_y × (v − A_y / 12)        (only above plan unless variable_below_plan)
                    limited below at −fixed_gbp (income is never negative)
    quality_gbp   = quality_share × fixed_gbp × (weight of quality targets met in the year / total weight)
    income_gbp    = fixed_gbp + variable_gbp + quality_gbp

As in the blended contract, the variable element is linear in activity, so a year's months add up to
variable_rate × price_y × (annual activity − A_y). The defaults of the uplift are the 2025/26 scheme's.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig
from fundsim.contracts.kpi import QualityTarget, quality_achievement
from fundsim.contracts.rebasing import Rebasing, annual_values, check_rebasing
from fundsim.contracts.table import Table, column, like

#: NHS Payment Scheme 2025/26 cost uplift factor after the 2025/26 pay awards (4.15% as first
#: published on 4 April 2025, revised to 4.83% in the pay award prices workbook of 27 June 2025).
COST_UPLIFT_2025_26 = 0.0483
#: NHS Payment Scheme 2025/26 efficiency factor (Annex D, section 3), the 2% productivity requirement.
EFFICIENCY_2025_26 = 0.02


class AlignedPaymentContract(UpliftedConfig):
    """A fixed element for planned activity plus a variable element at the scheme's share of unit price."""

    cost_uplift_per_year: float = Field(
        COST_UPLIFT_2025_26,
        ge=-0.5,
        le=1.0,
        allow_inf_nan=False,
        description="Annual cost uplift of prices and the fixed element (share; NHSPS 2025/26: 4.83%).",
    )
    efficiency_per_year: float = Field(
        EFFICIENCY_2025_26,
        ge=0.0,
        le=0.5,
        allow_inf_nan=False,
        description="Annual efficiency factor deducted (share; NHSPS 2025/26 Annex D: 2%).",
    )
    fixed_gbp_per_year: float = Field(
        gt=0, le=1e11, allow_inf_nan=False, description="Fixed element in contract year 1 (£ a year)."
    )
    planned_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the fixed element plans to fund each year (units)."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )
    unit_price_gbp: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="Unit price in contract year 1 (£ per unit)."
    )
    variable_rate_of_unit_price: float = Field(
        1.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the unit price paid per unit away from plan (NHSPS 2025/26 variable element: 100%).",
    )
    variable_below_plan: bool = Field(
        True, description="Also reduce the payment for activity below plan at the same rate (NHSPS 2025/26: yes)."
    )
    quality_share_of_fixed: float = Field(
        0.0,
        ge=0,
        le=0.2,
        allow_inf_nan=False,
        description="Most a local quality scheme earns a year (share of the fixed element; no CQUIN in 2025/26).",
    )
    quality_targets: tuple[QualityTarget, ...] = Field(
        (), max_length=50, description="Quality targets of a local scheme; none = the quality element is paid in full."
    )
    rebasing: Rebasing = Field(
        default_factory=Rebasing, description="How the fixed element is reset each contract year (default: none)."
    )


def pay(periods: Table, config: AlignedPaymentContract, context: ContractContext) -> Table:
    """API payments (fixed + variable + quality) for each row of the provider's monthly ledger."""
    months = float(context.months_per_year)
    delivered = column(periods, config.activity_unit)
    g = 1.0 + config.cost_uplift_per_year - config.efficiency_per_year
    value, planned = annual_values(
        periods, config.fixed_gbp_per_year, config.planned_activity_per_year, g, config.rebasing, context, delivered
    )
    price = config.unit_price_gbp * config.uplift(column(periods, "contract_year"))
    fixed = value / months
    plan = planned / months
    gap = delivered - plan
    if not config.variable_below_plan:
        gap = np.maximum(gap, 0.0)
    variable = np.maximum(config.variable_rate_of_unit_price * price * gap, -fixed)
    quality = config.quality_share_of_fixed * fixed * quality_achievement(periods, config.quality_targets)
    return like(
        periods,
        {
            "income_gbp": fixed + variable + quality,
            "contracted_activity": plan,
            "delivered_activity": delivered,
            "fixed_gbp": fixed,
            "variable_gbp": variable,
            "quality_gbp": quality,
            # Each unit away from plan is paid (or refunded) at the variable rate of a unit price.
            "funded_activity": plan + variable / price,
        },
    )


def _check(config: AlignedPaymentContract, context: ContractContext, where: str) -> None:
    check_rebasing(config.rebasing, context, where)


CONTRACT = ContractType(
    name="aligned_payment",
    config=AlignedPaymentContract,
    pay=pay,
    reads_column_tables=True,
    summary="NHS Payment Scheme 2025/26 aligned payment and incentive: fixed element plus variable at 100% of price",
    label="aligned payment and incentive",
    colour="#332288",
    scaled_fields=("fixed_gbp_per_year", "planned_activity_per_year"),
    planned_activity_field="planned_activity_per_year",
    # The variable element is paid on contacts or hours; assessments weight a mean-wait quality target.
    activity_columns=("contacts", "contact_hours", "assessments"),
    check=_check,
)
