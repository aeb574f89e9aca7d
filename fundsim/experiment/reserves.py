"""The provider's reserves year by year, and when (and how often) it runs into trouble.

Reserves are closed once a contract year from the priced monthly table (the same income and
cost as every other result): opening + surplus − deficit = closing, where the year's net
result (income − cost) is a surplus when positive and a deficit when negative; the next year opens
with the closing reserves. The provider's own monthly reading of its reserves, and its recovery
plan and failure (:mod:`fundsim.sim.reserves`), are in the decisions table (``reserves_gbp``,
``reserve_status``).

Per replication and contract (:func:`reserve_outcomes`): the first contract year in deficit, the
first year that closes with reserves at or below zero ("run out"), and whether and when the
provider handed the contract back. Across replications (:func:`failure_rates`): the share that
failed, with a Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it for a
binomial proportion with few trials, where the normal interval fails near 0 and 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.scenario.models import Scenario

#: Columns of :func:`reserves_by_year` (``contract`` first when the table has one).
YEAR_COLUMNS = (
    "replication",
    "contract_year",
    "opening_gbp",
    "income_gbp",
    "cost_gbp",
    "surplus_gbp",
    "deficit_gbp",
    "closing_gbp",
)


def _keys(frame: pd.DataFrame) -> list[str]:
    return ["contract", "replication"] if "contract" in frame else ["replication"]


def reserves_by_year(provider: pd.DataFrame, opening_gbp: float) -> pd.DataFrame:
    """Reserves per (contract,) replication and contract year from the priced monthly table.

    ``provider`` has one row per (contract ×) replication × month with ``income_gbp`` and
    ``cost_gbp`` (:func:`fundsim.contracts.accounting.settle`). ``surplus_gbp`` and
    ``deficit_gbp`` are the positive and negative parts of the year's income − cost, so
    ``closing_gbp`` = ``opening_gbp`` + ``surplus_gbp`` − ``deficit_gbp`` holds exactly.
    """
    keys = _keys(provider)
    years = provider.groupby([*keys, "contract_year"], sort=True)[["income_gbp", "cost_gbp"]].sum().reset_index()
    rows = []
    for _, group in years.groupby(keys, sort=True):
        reserves = float(opening_gbp)
        incomes = group["income_gbp"].to_numpy(dtype=float)
        costs = group["cost_gbp"].to_numpy(dtype=float)
        for i, (income, cost) in enumerate(zip(incomes, costs, strict=True)):
            net = income - cost
            surplus, deficit = max(0.0, net), max(0.0, -net)
            closing = reserves + surplus - deficit
            rows.append(
                {
                    **{k: group[k].iloc[i] for k in keys},
                    "contract_year": int(group["contract_year"].to_numpy()[i]),
                    "opening_gbp": reserves,
                    "income_gbp": float(income),
                    "cost_gbp": float(cost),
                    "surplus_gbp": surplus,
                    "deficit_gbp": deficit,
                    "closing_gbp": closing,
                }
            )
            reserves = closing
    columns = [*keys[:-1], *YEAR_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def _first_year(years: pd.DataFrame, mask: pd.Series) -> float:
    hit = years.loc[mask, "contract_year"]
    return float(hit.iloc[0]) if len(hit) else np.nan


def reserve_outcomes(by_year: pd.DataFrame, decisions: pd.DataFrame | None) -> pd.DataFrame:
    """Per (contract,) replication: first deficit year, year reserves ran out, failure and when.

    ``first_deficit_year`` and ``reserves_out_year`` (closing reserves at or below zero) come from
    ``by_year`` (NaN: never). ``failed``, ``failure_month`` (the month the contract was handed
    back) and ``failure_year`` (its contract year) come from the decisions' ``reserve_status``;
    without that column (no reserves configured, or a passive provider) nobody failed.
    """
    keys = _keys(by_year)
    rows = []
    for key, years in by_year.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, object] = dict(zip(keys, key, strict=True))
        row["first_deficit_year"] = _first_year(years, years["deficit_gbp"] > 0)
        row["reserves_out_year"] = _first_year(years, years["closing_gbp"] <= 0)
        row["closing_reserves_gbp"] = float(years["closing_gbp"].iloc[-1])
        failed_month: pd.Timestamp | None = None
        failed_year = np.nan
        if decisions is not None and "reserve_status" in decisions:
            mine = decisions
            for k, v in zip(keys, key, strict=True):
                mine = mine[mine[k] == v]
            months = pd.to_datetime(mine["month"]).sort_values().reset_index(drop=True)
            failed = pd.to_datetime(mine.loc[mine["reserve_status"] == "failed", "month"])
            if len(failed):
                failed_month = pd.Timestamp(failed.min())
                # Its contract year: the month's position in the horizon, 12 months a year.
                since = (failed_month.year - months[0].year) * 12 + failed_month.month - months[0].month
                failed_year = float(since // 12 + 1)
        row["failed"] = failed_month is not None
        row["failure_month"] = failed_month if failed_month is not None else pd.NaT
        row["failure_year"] = failed_year
        rows.append(row)
    return pd.DataFrame(rows)


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (NaN for no trials)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def failure_rates(outcomes: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Share of replications in which the provider failed, per contract, with a Wilson interval."""
    groups = outcomes.groupby("contract", sort=False) if "contract" in outcomes else [("", outcomes)]
    rows = []
    for contract, frame in groups:
        n, k = len(frame), int(frame["failed"].sum())
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                "contract": contract,
                "replications": n,
                "failures": k,
                "failure_rate": k / n if n else math.nan,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return pd.DataFrame(rows)


def opening_reserves(scenario: Scenario) -> float | None:
    """The provider's opening reserves (GBP), or None when the scenario has no reserves section."""
    reserves = scenario.provider_policy.reserves
    return None if reserves is None else reserves.opening_gbp


def reserve_tables(
    opening_gbp: float | None, provider: pd.DataFrame, decisions: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """``(reserves by year, outcomes per replication)``, or ``(None, None)`` without reserves configured."""
    if opening_gbp is None:
        return None, None
    by_year = reserves_by_year(provider, opening_gbp)
    return by_year, reserve_outcomes(by_year, decisions)


__all__ = ["YEAR_COLUMNS", "failure_rates", "reserve_outcomes", "reserve_tables", "reserves_by_year", "wilson_interval"]
