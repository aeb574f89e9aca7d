"""The ledger: what happened each month in each locality, as one tidy table.

One row per (replication, locality, month). Counts are people or events; ``_hours``, ``_days``
and ``_gbp`` say the unit. Contracts read this table and nothing else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundsim.columns import (
    SNAPSHOT_METRICS,
    SUM_METRICS,
    add_derived_columns,
    source_columns,
    tier_columns,
    wait_band_names,
)
from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts
from fundsim.sim.calendar import Calendar


def _wait_stats(waits: np.ndarray) -> tuple[float, float, float, float]:
    if len(waits) == 0:
        return (np.nan, np.nan, np.nan, np.nan)
    p50, p90 = np.percentile(waits, [50, 90])
    return float(waits.mean()), float(p50), float(p90), float(len(waits))


def build_ledger(scenario: Scenario, calendar: Calendar, accounts: Accounts, replication: int) -> pd.DataFrame:
    """Assemble the monthly accumulators of every locality into the tidy ledger."""
    frames = []
    days = np.diff(calendar.month_start_day).astype(float)
    months = pd.to_datetime(list(calendar.month_starts))
    acc = accounts
    for i, loc in enumerate(scenario.localities):
        data: dict[str, object] = {
            "replication": replication,
            "locality": loc.name,
            "month": months,
            "contract_year": np.arange(calendar.n_months) // 12 + 1,
            "days": days,
            "population": float(loc.population),
        }
        for metric in (*SUM_METRICS, *source_columns(acc.sources), *tier_columns(acc.tiers), *acc.extra_metrics):
            data[metric] = acc.sums[metric][i]
        for metric in (*SNAPSHOT_METRICS, *wait_band_names()):
            data[metric] = acc.snapshots[metric][i]
        stats = np.array([_wait_stats(acc.waits_of(i, m)) for m in range(calendar.n_months)]).reshape(-1, 4)
        data["wait_mean_days"] = stats[:, 0]
        data["wait_p50_days"] = stats[:, 1]
        data["wait_p90_days"] = stats[:, 2]
        frames.append(pd.DataFrame(data))
    ledger = pd.concat(frames, ignore_index=True)
    if scenario.provider_policy.retendering is not None:  # its columns only when configured
        from fundsim.sim.retender import add_retendering_columns

        ledger = add_retendering_columns(ledger, scenario.provider_policy.retendering, scenario.total_population)
    return add_derived_columns(ledger)
