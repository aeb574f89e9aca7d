"""Month-end snapshots of the lists are taken at the end of the month, of the people really there.

Two independent checks: the month-end waiting list of an M/M/c queue samples the stationary queue,
so its mean is Erlang C's Lq; and the lists are a stock whose month-to-month change is exactly
the month's flows in (accepted referrals) minus the flows out (discharges, episodes ended by an
admission), each counted by its own event time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from builders import build, mmc_dict, modified, small_dict
from scipy import stats

from fundsim import simulate
from fundsim.analytic import erlang_c, mmc_mean_queue

SERVERS, PER_HOUR, SERVICE_MIN = 3, 2.55, 60.0  # utilisation 0.85
REPLICATIONS = 8


@pytest.mark.slow
def test_month_end_waiting_list_matches_erlang_c() -> None:
    """Month-end queue lengths are draws of the stationary queue: their mean is Lq = C(c, a)·ρ/(1 − ρ).

    Snapshots a month apart are far further apart than the queue's relaxation time (hours to days
    at ρ = 0.85), and replication means are independent, so a 99% Student-t interval over the
    replication means must contain Lq.
    """
    scenario = build(mmc_dict(SERVERS, PER_HOUR, SERVICE_MIN, days=365.25))
    means = np.array([simulate(scenario, r).ledger["waiting_list_end"].mean() for r in range(REPLICATIONS)])
    mu = 60.0 / SERVICE_MIN
    rho = PER_HOUR / (SERVERS * mu)
    lq = mmc_mean_queue(PER_HOUR, mu, SERVERS)
    assert lq == pytest.approx(erlang_c(SERVERS, PER_HOUR / mu) * rho / (1.0 - rho))
    half = stats.t.ppf(0.995, REPLICATIONS - 1) * means.std(ddof=1) / math.sqrt(REPLICATIONS)
    assert abs(means.mean() - lq) <= half, f"month-end queue {means.mean():.2f} ± {half:.2f}, Erlang C Lq {lq:.2f}"


def _stock_flow_gap(led: pd.DataFrame) -> np.ndarray:
    """Change of the month-end lists minus (accepted referrals − discharges − episodes ended by admission)."""
    stock = (led["waiting_list_end"] + led["caseload_end"]).to_numpy()
    flow = (
        led["referrals"] - led["referrals_declined"] - led["discharges"] - led["episodes_ended_by_admission"]
    ).to_numpy()
    return np.diff(stock) - flow[1:]


def test_stock_flow_daily() -> None:
    """Daily model: an admission on a month's last day that ends the episode has left the month-end lists."""
    d = modified(
        small_dict(population=20_000), **{"provider_policy.mode": "passive", "hospital.ends_episode_probability": 0.9}
    )
    for tier in d["tiers"]:  # admissions often enough that some fall on a month's last day
        tier["daily_admission_hazard"] *= 10.0
    led = simulate(build(d), 0).ledger
    assert led["episodes_ended_by_admission"].min() > 10
    np.testing.assert_array_equal(_stock_flow_gap(led), 0.0)


def test_stock_flow_continuous() -> None:
    """Continuous model: the month-end lists hold who arrived by the month's end and had not yet left."""
    d = modified(
        mmc_dict(SERVERS, PER_HOUR, SERVICE_MIN, days=200),
        **{"tiers.0.daily_admission_hazard": 0.05, "tiers.0.visits": {"mean": 2, "distribution": "fixed"}},
    )
    led = simulate(build(d), 0).ledger
    assert led["episodes_ended_by_admission"].sum() > 0
    assert led["discharges"].sum() > 0
    np.testing.assert_array_equal(_stock_flow_gap(led), 0.0)
