"""Cost and volume: a price per unit of activity, with a tolerance band around a baseline volume.

Activity is counted in ``unit`` (contacts, face-to-face hours or episodes started). With
``tier_prices_gbp`` each unit of tier *t* counts price_t / price_gbp units (case-mix weighted
activity, as NHS baselines are set in weighted activity); without it, weighted activity = activity.

For a weighted volume V against a baseline B, with band share t, marginal rates a (above) and
b (below), the volume paid for is

    E(V, B) = V                                  if B(1 − t) ≤ V ≤ B(1 + t)
            = B(1 + t) + a·(V − B(1 + t))         if V > B(1 + t)
            = B(1 − t) − b·(B(1 − t) − V)         if V < B(1 − t)

and the settlement is clip(price_y × E, floor, cap), price_y = price × (1 + uplift − efficiency)^(year − 1).

Reconciliation is year to date: after the k-th month of a contract year the cumulative settlement
S_k uses the year-to-date volume against the pro-rata baseline B·k/12 (floor and cap pro rata too),
and the month is paid S_k − S_(k−1). The monthly payments of a year therefore sum to the annual
settlement, and since S_k never falls as k rises, no month is negative.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig
from fundsim.contracts.table import Table, column, like
from fundsim.contracts.years import YearGroups

#: The ledger column counting each unit, and the prefix of its per-tier columns.
UNIT_COLUMNS: dict[str, tuple[str, str]] = {
    "contacts": ("contacts", "contacts_tier_"),
    "contact_hours": ("contact_hours", "contact_hours_tier_"),
    "episodes": ("caseload_entries", "episodes_tier_"),
}

Price = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


class CostAndVolumeContract(UpliftedConfig):
    """A price per unit of activity, paid in full inside a tolerance band and at a marginal rate beyond it."""

    unit: Literal["contacts", "contact_hours", "episodes"] = Field(
        "contacts", description="What is priced: contacts, face-to-face hours, or episodes started."
    )
    price_gbp: float = Field(
        gt=0, le=1e6, allow_inf_nan=False, description="Price per unit in contract year 1 (£ per unit)."
    )
    tier_prices_gbp: dict[str, Price] | None = Field(
        None,
        description="Optional price per unit by complexity tier in year 1 (£ per unit); tiers left out use price_gbp.",
    )
    baseline_volume_per_year: float = Field(
        gt=0, le=1e9, allow_inf_nan=False, description="Baseline (planned) weighted volume per contract year (units)."
    )
    tolerance_band_share: float = Field(
        0.03,
        ge=0,
        le=0.5,
        allow_inf_nan=False,
        description="Half-width of the band around the baseline in which volume is paid at full price (share).",
    )
    marginal_rate_above: float = Field(
        0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the price paid for volume above the band (share of price).",
    )
    marginal_rate_below: float = Field(
        0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description=(
            "Share of the price deducted for each unit of shortfall below the band floor (share of price): "
            "1 pays actual volume, 0 pays the band floor whatever the shortfall."
        ),
    )
    floor_gbp_per_year: float | None = Field(
        None, ge=0, le=1e11, allow_inf_nan=False, description="Least paid in a contract year (£ a year)."
    )
    cap_gbp_per_year: float | None = Field(
        None, gt=0, le=1e11, allow_inf_nan=False, description="Most paid in a contract year (£ a year)."
    )

    @model_validator(mode="after")
    def _floor_below_cap(self) -> CostAndVolumeContract:
        if self.floor_gbp_per_year is not None and self.cap_gbp_per_year is not None:
            if self.floor_gbp_per_year > self.cap_gbp_per_year:
                raise ValueError(
                    f"floor_gbp_per_year ({self.floor_gbp_per_year}) exceeds cap_gbp_per_year ({self.cap_gbp_per_year})"
                )
        return self


def paid_volume(volume: np.ndarray, baseline: np.ndarray, config: CostAndVolumeContract) -> np.ndarray:
    """The volume paid for, E(V, B): full inside the band, marginal rates outside (non-decreasing in V and B)."""
    low = baseline * (1.0 - config.tolerance_band_share)
    high = baseline * (1.0 + config.tolerance_band_share)
    above = high + config.marginal_rate_above * (volume - high)
    below = low - config.marginal_rate_below * (low - volume)
    return np.where(volume > high, above, np.where(volume < low, below, volume))


def weighted_activity(periods: Table, config: CostAndVolumeContract) -> np.ndarray:
    """Each row's activity in ``config.unit``, each tier's units weighted by its price relative to price_gbp."""
    total_col, prefix = UNIT_COLUMNS[config.unit]
    volume = column(periods, total_col).copy()
    for tier, price in (config.tier_prices_gbp or {}).items():
        volume += (price / config.price_gbp - 1.0) * column(periods, prefix + tier)
    return volume


def _check_tiers(periods: Table, config: CostAndVolumeContract, context: ContractContext) -> None:
    unknown = sorted(set(config.tier_prices_gbp or {}) - set(context.tier_names))
    if unknown:
        raise ValueError(
            f"cost_and_volume.tier_prices_gbp names unknown tier(s) {unknown}; tiers are {list(context.tier_names)}"
        )
    prefix = UNIT_COLUMNS[config.unit][1]
    missing = [prefix + t for t in config.tier_prices_gbp or {} if prefix + t not in periods]
    if missing:
        raise ValueError(f"cost_and_volume.tier_prices_gbp needs the ledger column(s) {missing}")


def _price(contract_year: np.ndarray, config: CostAndVolumeContract) -> np.ndarray:
    """Default price per unit in each row's contract year: year-1 price × (1 + uplift − efficiency)^(year − 1)."""
    return config.price_gbp * config.uplift(contract_year)


def pay(periods: Table, config: CostAndVolumeContract, context: ContractContext) -> Table:
    """Cost-and-volume payments for each row of the provider's monthly ledger (year-to-date reconciliation)."""
    _check_tiers(periods, config, context)
    months = float(context.months_per_year)
    volume = weighted_activity(periods, config)
    price = _price(column(periods, "contract_year"), config)
    years, order = YearGroups.in_month_order(periods)  # the year-to-date runs month by month
    k = years.rank().astype(float) + 1.0  # month number within the contract year
    ytd_volume = years.cumsum(volume[order])
    settled = price[order] * paid_volume(ytd_volume, config.baseline_volume_per_year * k / months, config)
    if config.floor_gbp_per_year is not None:
        settled = np.maximum(settled, config.floor_gbp_per_year * k / months)
    if config.cap_gbp_per_year is not None:
        settled = np.minimum(settled, config.cap_gbp_per_year * k / months)
    income = np.empty(len(order))
    # Only rounding can make S_k − S_(k−1) negative.
    income[order] = np.maximum(settled - years.previous(settled), 0.0)
    return like(
        periods,
        {
            "income_gbp": income,
            "contracted_activity": config.baseline_volume_per_year / months,
            "delivered_activity": volume,
            "full_price_gbp": price * volume,
            # Units paid for at full price: over a contract year, the paid volume (inside the band all
            # of it, beyond it the marginal share), less whatever a cap cuts off.
            "funded_activity": income / price,
        },
    )


CONTRACT = ContractType(
    name="cost_and_volume",
    config=CostAndVolumeContract,
    pay=pay,
    reads_column_tables=True,
    summary="price per unit of activity, full price inside a tolerance band and a marginal rate beyond it",
    label="cost and volume",
    colour="#E69F00",
    scaled_fields=("baseline_volume_per_year", "floor_gbp_per_year", "cap_gbp_per_year"),
    planned_activity_field="baseline_volume_per_year",
    tier_keyed_fields=("tier_prices_gbp",),
    activity_columns=tuple(total for total, _ in UNIT_COLUMNS.values()),
    activity_tier_metrics=tuple(prefix.removesuffix("_tier_") for _, prefix in UNIT_COLUMNS.values()),
)
