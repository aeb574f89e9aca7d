"""Rebasing: how a contract's fixed annual value moves from one contract year to the next.

A fixed annual value V (a block, the fixed element of aligned payment) buys a planned activity A,
so it carries an implied unit price p = V / A. With g = 1 + cost uplift − efficiency, the value in
contract year y is found year by year (year 1 is the agreed value, V_1 = V):

* ``none``: roll forward, V_y = V_(y−1) × g (fundsim's behaviour before rebasing existed).
* ``outturn``: the target is the outturn activity of an earlier year priced at this year's implied
  price, T_y = p × g^(y−1) × mean(activity of years y − lag − k + 1 … y − lag) over the k =
  ``average_years`` most recent *complete* years among them (12 months in the ledger); without any
  complete year the value rolls forward (T_y = V_(y−1) × g).
* ``needs``: the target is the population weighted by need, T_y = rate × P_w × g^(y−1), with
  P_w = Σ_loc w_loc × pop_loc × Σ_t w_t × mix_t (weights 1 when not given; ``mix_t`` the expected tier
  mix known before the run, so the target never moves with activity).

With a cap c (``max_change_share``) the rebased value stays within c of the rolled-forward value:
V_y = clip(T_y, (1 − c) × V_(y−1) × g, (1 + c) × V_(y−1) × g); without a cap V_y = T_y. So c = 0 is
the ``none`` rule exactly, and c is the largest real-terms change a year. The planned activity moves
with the value at the implied price: A_y = V_y / (p × g^(y−1)).

Everything is computed from the ledger rows the payment function receives, per replication: a year
is used only when all its months are there, so a rebased value never uses a year still in progress.
A caller that passes only the current year's months (no earlier years) gets the rolled-forward value.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from fundsim.contracts.base import ContractConfig, ContractContext
from fundsim.contracts.table import Table, column, n_rows

Weight = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Rebasing(ContractConfig):
    """How the fixed annual value is reset each contract year (``rule: none`` rolls it forward)."""

    rule: Literal["none", "outturn", "needs"] = Field(
        "none",
        description=(
            "none: roll forward with uplift − efficiency; outturn: rebase to an earlier year's delivered "
            "activity at the implied unit price; needs: rebase to population × weighted need × a £ rate."
        ),
    )
    lag_years: int = Field(
        1, ge=1, le=5, description="outturn: the outturn of year y − lag_years sets the value of year y (years)."
    )
    average_years: int = Field(
        1,
        ge=1,
        le=5,
        description="outturn: average the outturn of this many years ending at year y − lag_years (years).",
    )
    max_change_share: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Most the value may move from the rolled-forward value in a year (share); omitted = no cap.",
    )
    need_rate_gbp_per_weighted_head: float | None = Field(
        None,
        gt=0,
        le=1e5,
        allow_inf_nan=False,
        description="needs: £ a year per need-weighted resident in contract year 1 (uplifted like the value).",
    )
    locality_need_weights: dict[str, Weight] | None = Field(
        None, description="needs: need weight of each locality's population (default 1)."
    )
    tier_need_weights: dict[str, Weight] | None = Field(
        None, description="needs: need weight of each complexity tier, applied to the expected tier mix (default 1)."
    )

    @model_validator(mode="after")
    def _needs_has_a_rate(self) -> Rebasing:
        if self.rule == "needs" and self.need_rate_gbp_per_weighted_head is None:
            raise ValueError("rebasing.rule needs requires need_rate_gbp_per_weighted_head (£ per weighted head)")
        return self


def check_rebasing(rebasing: Rebasing, context: ContractContext, where: str) -> None:
    """Raise ``ValueError`` (message starting with ``where``) if the need weights name unknown localities or tiers."""
    pairs = (
        ("locality_need_weights", rebasing.locality_need_weights, list(context.locality_populations), "localities"),
        ("tier_need_weights", rebasing.tier_need_weights, list(context.tier_names), "tiers"),
    )
    for name, weights, known, what in pairs:
        unknown = sorted(set(weights or {}) - set(known))
        if unknown:
            raise ValueError(f"{where}.rebasing.{name} names unknown {what} {unknown}; {what} are {known}")


def need_weighted_population(rebasing: Rebasing, context: ContractContext) -> float:
    """P_w = Σ_loc w_loc·pop_loc × Σ_t w_t·mix_t (people); weights default to 1."""
    check_rebasing(rebasing, context, "contract")
    loc_w = rebasing.locality_need_weights or {}
    tier_w = rebasing.tier_need_weights or {}
    if context.locality_populations:
        people = sum(loc_w.get(name, 1.0) * pop for name, pop in context.locality_populations.items())
    else:
        people = float(context.population)
    factor = sum(tier_w.get(t, 1.0) * share for t, share in context.expected_tier_mix.items()) if tier_w else 1.0
    return float(people * factor)


def _targets(
    years: np.ndarray, complete: dict[int, float], rebasing: Rebasing, price_1: float, g: float, needs: float
) -> dict[int, float | None]:
    """The rebasing target T_y of each year (None: no basis, roll forward)."""
    out: dict[int, float | None] = {}
    for y in years:
        if rebasing.rule == "needs":
            out[int(y)] = needs * g ** (y - 1)
            continue
        last = int(y) - rebasing.lag_years
        window = [complete[k] for k in range(last - rebasing.average_years + 1, last + 1) if k in complete]
        out[int(y)] = price_1 * g ** (y - 1) * float(np.mean(window)) if window else None
    return out


def annual_values(
    periods: Table,
    value_gbp: float,
    activity_per_year: float,
    g: float,
    rebasing: Rebasing,
    context: ContractContext,
    activity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's annual value (£ in its year's money) and planned activity per year under ``rebasing``.

    ``activity`` is each row's delivered activity in the contract's unit (what outturn rebasing reads);
    ``g`` the net annual uplift factor 1 + uplift − efficiency.
    """
    n = n_rows(periods)
    value = np.empty(n)
    planned = np.empty(n)
    if n == 0:
        return value, planned
    price_1 = value_gbp / activity_per_year
    needs = (
        rebasing.need_rate_gbp_per_weighted_head * need_weighted_population(rebasing, context)
        if rebasing.rule == "needs" and rebasing.need_rate_gbp_per_weighted_head is not None
        else 0.0
    )
    cap = rebasing.max_change_share
    frame = pd.DataFrame(
        {
            "replication": column(periods, "replication", None),
            "year": column(periods, "contract_year").astype(int),
            "activity": activity,
        }
    )
    for _, rows in frame.groupby("replication", sort=False):
        by_year = rows.groupby("year")["activity"].agg(["sum", "size"])
        sums = by_year["sum"].to_numpy(dtype=float)
        sizes = by_year["size"].to_numpy(dtype=int)
        years_seen = by_year.index.to_numpy(dtype=int)
        complete = {
            int(y): float(s) for y, s, k in zip(years_seen, sums, sizes, strict=True) if k >= context.months_per_year
        }
        last_year = int(by_year.index.max())
        targets = _targets(np.arange(1, last_year + 1), complete, rebasing, price_1, g, needs)
        values = {1: value_gbp}
        for y in range(2, last_year + 1):
            rolled = values[y - 1] * g
            target = targets[y]
            if rebasing.rule == "none" or target is None:
                values[y] = rolled
            elif cap is None:
                values[y] = target
            else:
                values[y] = min(max(target, (1.0 - cap) * rolled), (1.0 + cap) * rolled)
        idx = rows.index.to_numpy()
        years = rows["year"].to_numpy()
        row_values = np.array([values[int(y)] for y in years])
        value[idx] = row_values
        planned[idx] = row_values / (price_1 * g ** (years - 1.0))
    return value, planned
