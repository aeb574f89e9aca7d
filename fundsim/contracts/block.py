"""Block contract: a fixed annual sum however much care is delivered.

Income per month = annual value × (1 + cost uplift − efficiency)^(contract year − 1) / 12.
Contracted activity per month = contracted activity per year / 12. Activity above it is
over-performance; under a block contract it earns nothing, so the funded activity is the contracted
activity and everything above it is unfunded.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig


class BlockContract(UpliftedConfig):
    """A fixed annual sum, whatever the activity."""

    annual_value_gbp: float = Field(gt=0, le=1e11, allow_inf_nan=False, description="Contract value in year 1.")
    contracted_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the block is meant to buy each year."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )


def pay(periods: pd.DataFrame, config: BlockContract, context: ContractContext) -> pd.DataFrame:
    """Block payments for each row of the provider's monthly ledger."""
    growth = config.uplift(periods["contract_year"])
    return pd.DataFrame(
        {
            "income_gbp": config.annual_value_gbp * growth / context.months_per_year,
            "contracted_activity": config.contracted_activity_per_year / context.months_per_year,
            "delivered_activity": periods[config.activity_unit].to_numpy(dtype=float),
            "funded_activity": config.contracted_activity_per_year / context.months_per_year,
        },
        index=periods.index,
    )


CONTRACT = ContractType(
    name="block",
    config=BlockContract,
    pay=pay,
    summary="fixed annual sum, independent of activity",
    label="block",
    colour="#0072B2",
    scaled_fields=("annual_value_gbp", "contracted_activity_per_year"),
    planned_activity_field="contracted_activity_per_year",
    # Income does not move with activity: no activity columns.
)
