"""Low volume activity (LVA) block payment, as the NHS Payment Scheme 2025/26 sets it.

The scheme (NHS England, *2025/26 NHS Payment Scheme*, section 5 "Low volume activity block payment
rules"; summary on NHS England's NHS Payment Scheme page) applies an LVA block to almost every NHS
provider–ICB relationship whose expected annual activity is worth **£1.5m or less** (£0.5m under the
2023/25 scheme). The commissioner pays the **nationally set LVA value**, calculated from a
**three-year rolling average** of the activity between the two, with **no other transactions in
year**: the payment never moves with the year's own activity.

fundsim's version, for a month of contract year y (g = 1 + uplift − efficiency):

    income_gbp = V_y / 12,  with V_1 = annual_value_gbp and, for y ≥ 2,
    V_y = unit_price × g^(y − 1) × mean(outturn activity of the up to ``rolling_years`` complete
          contract years ending at y − lag_years), or V_(y−1) × g when no such year is in the ledger.

The outturn is valued at the value's own implied price (annual_value_gbp / expected activity, the
``unit_price`` above), i.e. :mod:`fundsim.contracts.rebasing` with ``rule: outturn``, the rolling
average and no cap. The value must lie under the eligibility threshold (checked against the scenario).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig
from fundsim.contracts.rebasing import Rebasing, annual_values
from fundsim.contracts.table import Table, column, like

#: The LVA eligibility threshold of the 2025/26 scheme (£ a year; £0.5m in 2023/25).
LVA_THRESHOLD_2025_26_GBP = 1_500_000.0


class LowVolumeBlockContract(UpliftedConfig):
    """A fixed annual LVA value set from a rolling average of earlier years' activity."""

    cost_uplift_per_year: float = Field(
        0.0483,
        ge=-0.5,
        le=1.0,
        allow_inf_nan=False,
        description="Annual cost uplift (share; NHSPS 2025/26: 4.83% after pay awards).",
    )
    efficiency_per_year: float = Field(
        0.02, ge=0.0, le=0.5, allow_inf_nan=False, description="Annual efficiency factor (share; NHSPS 2025/26: 2%)."
    )
    annual_value_gbp: float = Field(
        gt=0, le=1e11, allow_inf_nan=False, description="The LVA value in contract year 1 (£ a year)."
    )
    expected_activity_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Activity the year-1 value was set on (units a year)."
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What activity is counted in: contacts, or face-to-face hours."
    )
    rolling_years: int = Field(
        3, ge=1, le=5, description="Years in the rolling average that resets the value (NHSPS 2025/26: 3)."
    )
    lag_years: int = Field(1, ge=1, le=5, description="The newest year in the average is y − lag_years (years).")
    eligibility_threshold_gbp: float = Field(
        LVA_THRESHOLD_2025_26_GBP,
        gt=0,
        le=1e11,
        allow_inf_nan=False,
        description="Largest year-1 value an LVA block may have (£ a year; NHSPS 2025/26: £1.5m).",
    )

    def rebasing(self) -> Rebasing:
        """The LVA reset as a rebasing rule: outturn, rolling average, no cap."""
        return Rebasing(rule="outturn", lag_years=self.lag_years, average_years=self.rolling_years)


def pay(periods: Table, config: LowVolumeBlockContract, context: ContractContext) -> Table:
    """LVA block payments for each row of the provider's monthly ledger."""
    months = float(context.months_per_year)
    delivered = column(periods, config.activity_unit)
    g = 1.0 + config.cost_uplift_per_year - config.efficiency_per_year
    value, planned = annual_values(
        periods,
        config.annual_value_gbp,
        config.expected_activity_per_year,
        g,
        config.rebasing(),
        context,
        delivered,
    )
    return like(
        periods,
        {
            "income_gbp": value / months,
            "contracted_activity": planned / months,
            "delivered_activity": delivered,
            "annual_value_gbp": np.asarray(value, dtype=float),
        },
    )


def _check(config: LowVolumeBlockContract, context: ContractContext, where: str) -> None:
    if config.annual_value_gbp > config.eligibility_threshold_gbp:
        raise ValueError(
            f"{where}.annual_value_gbp ({config.annual_value_gbp:,.0f}) is above the LVA eligibility threshold "
            f"eligibility_threshold_gbp ({config.eligibility_threshold_gbp:,.0f}): the NHS Payment Scheme pays a "
            "relationship this large under aligned payment and incentive (contracts.aligned_payment)"
        )


CONTRACT = ContractType(
    name="low_volume_block",
    config=LowVolumeBlockContract,
    pay=pay,
    reads_column_tables=True,
    summary="NHS Payment Scheme 2025/26 low volume activity block: a fixed value from a 3-year rolling average",
    label="low-volume block",
    colour="#882255",
    scaled_fields=("annual_value_gbp", "expected_activity_per_year"),
    planned_activity_field="expected_activity_per_year",
    # This year's activity never changes this year's payment: no activity columns.
    check=_check,
)
