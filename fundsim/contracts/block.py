"""Block contract: a fixed annual sum however much care is delivered.

Income per month = annual value × (1 + cost uplift − efficiency)^(contract year − 1) / 12.
Contracted activity per month = contracted activity per year / 12. Activity above it is
over-performance; under a block contract it earns nothing, so the funded activity is the contracted
activity and everything above it is unfunded.

With ``rebasing`` (:mod:`fundsim.contracts.rebasing`) the annual value of each later contract year is
reset to an earlier year's outturn or to a needs-based formula, and the contracted activity moves with
it at the implied unit price; ``rebasing.rule: none`` (the default) is the formula above exactly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig
from fundsim.contracts.rebasing import Rebasing, annual_values, check_rebasing
from fundsim.contracts.table import Table, column, like


class BlockContract(UpliftedConfig):
    """A fixed annual sum, whatever the activity."""

    annual_value_gbp: float = Field(gt=0, le=1e11, allow_inf_nan=False, description="Contract value in year 1.")
    contracted_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the block is meant to buy each year."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )
    rebasing: Rebasing = Field(
        default_factory=Rebasing,
        description="How the annual value is reset each contract year (default: rolled forward, no rebasing).",
    )


def pay(periods: Table, config: BlockContract, context: ContractContext) -> Table:
    """Block payments for each row of the provider's monthly ledger."""
    if config.rebasing.rule != "none":
        return _pay_rebased(periods, config, context)
    growth = config.uplift(column(periods, "contract_year"))
    return like(
        periods,
        {
            "income_gbp": config.annual_value_gbp * growth / context.months_per_year,
            "contracted_activity": config.contracted_activity_per_year / context.months_per_year,
            "delivered_activity": column(periods, config.activity_unit),
            "funded_activity": config.contracted_activity_per_year / context.months_per_year,
        },
    )


def _pay_rebased(periods: Table, config: BlockContract, context: ContractContext) -> Table:
    """Block payments whose annual value (and contracted activity) is rebased each contract year."""
    months = float(context.months_per_year)
    delivered = column(periods, config.activity_unit)
    g = 1.0 + config.cost_uplift_per_year - config.efficiency_per_year
    value, planned = annual_values(
        periods, config.annual_value_gbp, config.contracted_activity_per_year, g, config.rebasing, context, delivered
    )
    return like(
        periods,
        {
            "income_gbp": value / months,
            "contracted_activity": planned / months,
            "delivered_activity": delivered,
            "funded_activity": planned / months,
            # The year's value and what "none" would have paid: contract value against activity, year by year.
            "annual_value_gbp": value,
            "rolled_forward_value_gbp": config.annual_value_gbp * config.uplift(column(periods, "contract_year")),
        },
    )


def _check(config: BlockContract, context: ContractContext, where: str) -> None:
    check_rebasing(config.rebasing, context, where)


CONTRACT = ContractType(
    name="block",
    config=BlockContract,
    pay=pay,
    reads_column_tables=True,
    summary="fixed annual sum, independent of activity",
    label="block",
    colour="#0072B2",
    scaled_fields=("annual_value_gbp", "contracted_activity_per_year"),
    planned_activity_field="contracted_activity_per_year",
    # Income does not move with this year's activity (a rebased value reads only completed years):
    # no activity columns.
    check=_check,
)
