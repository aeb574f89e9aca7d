"""Block contract: a fixed annual sum however much care is delivered.

Income per month = annual value × (1 + cost uplift − efficiency)^(contract year − 1) / 12.
Contracted activity per month = contracted activity per year / 12. Activity above it is
over-performance; under a block contract it earns nothing.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from fundsim.contracts.base import ContractConfig, ContractContext, ContractType


class BlockContract(ContractConfig):
    """A fixed annual sum, whatever the activity."""

    annual_value_gbp: float = Field(gt=0, le=1e11, allow_inf_nan=False, description="Contract value in year 1.")
    contracted_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the block is meant to buy each year."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )
    cost_uplift_per_year: float = Field(0.029, ge=-0.5, le=1.0, allow_inf_nan=False)
    efficiency_per_year: float = Field(0.011, ge=0.0, le=0.5, allow_inf_nan=False)


def pay(periods: pd.DataFrame, config: BlockContract, context: ContractContext) -> pd.DataFrame:
    """Block payments for each row of the provider's monthly ledger."""
    year = periods["contract_year"].to_numpy() - 1
    growth = (1.0 + config.cost_uplift_per_year - config.efficiency_per_year) ** year
    return pd.DataFrame(
        {
            "income_gbp": config.annual_value_gbp * growth / context.months_per_year,
            "contracted_activity": config.contracted_activity_per_year / context.months_per_year,
            "delivered_activity": periods[config.activity_unit].to_numpy(dtype=float),
        },
        index=periods.index,
    )


CONTRACT = ContractType("block", BlockContract, pay, "fixed annual sum, independent of activity")
