"""Admissions avoided compare each person's actual and no-care admissions over the same window.

If the two paths were counted over different windows (the no-care one stopping at the planned end
of care + follow-up while the actual one runs on through a long wait), a badly under-staffed
service would show admissions "caused" by nothing but the longer count. These tests pin the
estimator: when care does not change the hazard, nothing is avoided however long the waits; when
care never raises the hazard, a collapsed service avoids nothing but cannot show harm; when waiting
is set to be riskier than no care at all, the harm shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import build, modified, small_dict

from fundsim import simulate
from fundsim.experiment.stats import mean_ci

REPLICATIONS = 5
FOLLOW_UP_DAYS = 14.0


def _scenario(staff_factor: float, waiting: float, untreated: float, missed: float, post: float) -> dict[str, Any]:
    d = modified(
        small_dict(population=20_000, years=1.0, warmup_days=60),
        **{
            "provider_policy.mode": "passive",
            "outcomes.waiting_hazard_multiplier": waiting,
            "outcomes.untreated_hazard_multiplier": untreated,
            "outcomes.missed_visit_hazard_multiplier": missed,
            "outcomes.post_discharge_hazard_multiplier": post,
            "outcomes.follow_up_days": FOLLOW_UP_DAYS,
        },
    )
    for g in d["workforce"]["grades"]:
        g["fte"] = g["fte"] * staff_factor
    for tier in d["tiers"]:  # ten times the example's risk: readmissions and admissions that end episodes
        tier["daily_admission_hazard"] *= 10.0
    return d


def _avoided_per_year(d: dict[str, Any]) -> tuple[np.ndarray, pd.DataFrame]:
    sc = build(d)
    ledgers = [simulate(sc, r).ledger for r in range(REPLICATIONS)]
    per_year = np.array([led["admissions_avoided"].sum() / (led["days"].sum() / 365.25) for led in ledgers])
    return per_year, pd.concat(ledgers, ignore_index=True)


def _mean_wait_days(led: pd.DataFrame) -> float:
    w = led["assessments"].where(led["wait_mean_days"].notna(), 0.0)
    return float((led["wait_mean_days"].fillna(0.0) * w).sum() / w.sum())


@pytest.mark.slow
def test_nothing_avoided_when_care_does_not_change_the_hazard() -> None:
    """Every multiplier 1: the actual and no-care hazards are the same function of time, so with the
    same budgets, stays and episode-ending draws the two paths admit the same people at the same
    times; over equal windows nothing is avoided, even with waits many times the follow-up window."""
    d = _scenario(staff_factor=0.35, waiting=1.0, untreated=1.0, missed=1.0, post=1.0)
    avoided, led = _avoided_per_year(d)
    assert _mean_wait_days(led) > 3 * FOLLOW_UP_DAYS  # heavily under-staffed
    assert led["admissions"].sum() > 1000
    mean, lo, hi = mean_ci(avoided, 0.95)
    if np.all(avoided == 0):
        return
    assert lo <= 0.0 <= hi, f"admissions avoided {mean:.1f} a year, 95% CI {lo:.1f} to {hi:.1f}"


@pytest.mark.slow
def test_collapsed_service_shows_no_harm_unless_care_is_harmful() -> None:
    """Almost no staff, care never raising the hazard (waiting, missed visits and after discharge at
    the no-care multiplier 1.5, on the caseload at 1): the few who are seen are helped, nobody is
    harmed, so admissions avoided are not negative beyond noise. Against that: waiting set riskier
    than no care (2× the no-care multiplier) must show as admissions caused (avoided < 0).

    (With every multiplier at or below the no-care one at every moment and the same budgets, each
    admission comes no earlier than without care, so over equal windows avoided ≥ 0 person by person.)
    """
    neutral, led = _avoided_per_year(_scenario(staff_factor=0.05, waiting=1.5, untreated=1.5, missed=1.5, post=1.5))
    assert 0 < led["assessments"].sum() < 0.2 * led["referrals"].sum()  # collapsed: most are never seen
    mean, lo, hi = mean_ci(neutral, 0.95)
    assert hi >= 0.0 or np.all(neutral >= 0), f"admissions avoided {mean:.1f} a year, 95% CI {lo:.1f} to {hi:.1f}"

    harmful, _ = _avoided_per_year(_scenario(staff_factor=0.05, waiting=3.0, untreated=1.5, missed=1.5, post=1.5))
    mean, lo, hi = mean_ci(harmful, 0.95)
    assert hi < 0.0, f"harmful waiting: admissions avoided {mean:.1f} a year, 95% CI {lo:.1f} to {hi:.1f}"
