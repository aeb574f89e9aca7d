"""Validation against queueing theory: Erlang C and Little's law.

With one visit per episode, exponential inter-arrival and service times, staff on duty round the
clock and no deterioration, the continuous-scheduling model is an M/M/c queue. Its mean wait and
probability of waiting must match Erlang C within a 99% confidence interval over replications.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import build, mmc_dict
from scipy import stats

from fundsim import simulate
from fundsim.analytic import erlang_c, mmc_mean_wait, mmc_p0

REPLICATIONS = 10


def _ci99(x: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


def test_erlang_c_formula_against_direct_sum() -> None:
    # Known textbook value: M/M/2 with a = 1 erlang waits with probability 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-12)
    for c, a in ((1, 0.5), (3, 2.4), (5, 4.0), (10, 9.0)):
        direct = a**c / math.factorial(c) * c / (c - a) * mmc_p0(c, a)
        assert erlang_c(c, a) == pytest.approx(direct, rel=1e-12)
    # M/M/1: P(wait) = rho and Wq = rho / (mu - lambda).
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(0.7, 1.0, 1) == pytest.approx(0.7 / 0.3)


def _replicate(servers: int, per_hour: float, service_min: float) -> dict[str, np.ndarray]:
    scenario = build(mmc_dict(servers, per_hour, service_min, days=150))
    out: dict[str, list[float]] = {"wait_h": [], "p_wait": [], "lq": [], "lam_w": []}
    for r in range(REPLICATIONS):
        led = simulate(scenario, r).ledger
        n = led["assessments"].sum()
        wait_days = (led["wait_mean_days"] * led["assessments"]).sum() / n
        out["wait_h"].append(wait_days * 24.0)
        out["p_wait"].append(1.0 - led["assessed_without_wait"].sum() / n)
        days = led["days"].sum()
        out["lq"].append(led["waiting_list_days"].sum() / days)
        out["lam_w"].append(n / days * wait_days)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("servers", "per_hour", "service_min"),
    [(5, 4.0, 60.0), (10, 13.5, 40.0)],  # utilisation 0.80 and 0.90
)
def test_mmc_matches_erlang_c(servers: int, per_hour: float, service_min: float) -> None:
    mu_per_hour = 60.0 / service_min
    assert per_hour / (servers * mu_per_hour) >= 0.8
    runs = _replicate(servers, per_hour, service_min)
    theory_wait_h = mmc_mean_wait(per_hour, mu_per_hour, servers)
    theory_p = erlang_c(servers, per_hour / mu_per_hour)
    mean, half = _ci99(runs["wait_h"])
    assert abs(mean - theory_wait_h) <= half, f"mean wait {mean:.4f} h ± {half:.4f}, Erlang C {theory_wait_h:.4f} h"
    mean, half = _ci99(runs["p_wait"])
    assert abs(mean - theory_p) <= half, f"P(wait) {mean:.4f} ± {half:.4f}, Erlang C {theory_p:.4f}"
    # Little's law on the waiting list: time-average queue = arrival rate x mean wait.
    diff = runs["lq"] - runs["lam_w"]
    mean, half = _ci99(diff)
    assert abs(mean) <= max(half, 0.01 * runs["lq"].mean()), f"Lq - lambda*Wq = {mean:.4f} ± {half:.4f}"


def test_more_servers_never_wait_longer() -> None:
    """Extremes: with ample staff nobody waits."""
    scenario = build(mmc_dict(60, 4.0, 60.0, days=60))
    led = simulate(scenario, 0).ledger
    assert led["assessed_without_wait"].sum() == led["assessments"].sum() > 0
