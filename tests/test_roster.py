"""Exact traces of ``build_roster`` for rosters with no absence (every scheduled person present).

One grade of 10 FTE on 37.5-hour contracts in 7.5-hour shifts: 5 shifts a week each. With weekend
days staffed at half a weekday, a week is 5 weekdays + 2 × 0.5 = 6 weekday-equivalents, so a
weekday has 10 × 5/6 = 25/3 people on duty and a weekend day 25/6. Check: 5 × 25/3 + 2 × 25/6 = 50
shifts = 10 people × 5 shifts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from builders import build, mmc_dict, modified

from fundsim.sim.calendar import build_calendar
from fundsim.sim.roster import build_roster


def _scenario_dict(localities: int = 1, uplift: float = 0.0) -> dict[str, Any]:
    d = modified(
        mmc_dict(10, 1.0, 30.0, days=2 * 365.25),
        **{
            "simulation.scheduling": "daily",
            "simulation.warmup_days": 1,  # day 0 is Monday 31 March 2025
            "workforce.pay_uplift_per_year": uplift,
        },
    )
    d["workforce"]["grades"][0].update(
        fte=10.0,
        hourly_cost_gbp=30.0,
        contract_hours_per_week=37.5,
        shift_hours=7.5,
        weekend_staffing_ratio=0.5,
        annual_leave_share=0.0,
        sickness_share=0.0,
        patient_facing_share=0.8,
        overtime_cap_hours_per_shift=1.5,
    )
    if localities == 2:
        loc = d["localities"][0]
        d["localities"] = [{**loc, "name": "A", "staff_share": 0.3}, {**loc, "name": "B", "staff_share": 0.7}]
    return d


def test_weekday_and_weekend_capacity_by_hand() -> None:
    sc = build(_scenario_dict())
    cal = build_calendar(sc.simulation)
    roster = build_roster(sc, cal, 0, np.random.default_rng(1))
    origin = dt.date(2025, 3, 31)
    assert origin.weekday() == 0
    assert cal.weekday[0] == 0
    weekday, weekend = 25.0 / 3.0, 25.0 / 6.0
    # The first week, Monday to Sunday.
    expected_present = [weekday] * 5 + [weekend] * 2
    assert roster.present_fte[:7, 0].tolist() == pytest.approx(expected_present, rel=1e-12)
    # Visit minutes = present × 7.5 h × 0.8 patient-facing × 60: 3,000 on a weekday, 1,500 at the weekend.
    assert roster.visit_minutes[:7, 0].tolist() == pytest.approx([3000.0] * 5 + [1500.0] * 2, rel=1e-12)
    # Overtime cap = present × 1.5 h × 60: 750 and 375 minutes.
    assert roster.overtime_minutes_cap[:7, 0].tolist() == pytest.approx([750.0] * 5 + [375.0] * 2, rel=1e-12)
    # On-duty hours = present × 7.5: 62.5 and 31.25; a week holds the 375 contracted hours.
    assert roster.on_duty_hours[:7, 0].tolist() == pytest.approx([62.5] * 5 + [31.25] * 2, rel=1e-12)
    assert roster.on_duty_hours[:7, 0].sum() == pytest.approx(375.0, rel=1e-12)
    # Paid every calendar day: 10 × 37.5 / 7 hours at £30.
    assert roster.paid_hours_per_day.tolist() == pytest.approx([375.0 / 7.0], rel=1e-12)
    assert roster.staff_cost_gbp(0) == pytest.approx(375.0 / 7.0 * 30.0, rel=1e-12)
    # With no absence the whole run repeats the week exactly (no randomness left).
    by_weekday = np.where(cal.weekday >= 5, weekend, weekday)
    np.testing.assert_allclose(roster.present_fte[:, 0], by_weekday, rtol=1e-12)


def test_staff_split_between_localities() -> None:
    sc = build(_scenario_dict(localities=2))
    cal = build_calendar(sc.simulation)
    a = build_roster(sc, cal, 0, np.random.default_rng(1))
    b = build_roster(sc, cal, 1, np.random.default_rng(2))
    # 3 FTE and 7 FTE: weekday 3 × 5/6 = 2.5 and 7 × 5/6 = 35/6 on duty.
    assert a.present_fte[0, 0] == pytest.approx(2.5, rel=1e-12)
    assert b.present_fte[0, 0] == pytest.approx(35.0 / 6.0, rel=1e-12)
    assert a.paid_hours_per_day[0] == pytest.approx(3 * 37.5 / 7, rel=1e-12)
    assert b.paid_hours_per_day[0] == pytest.approx(7 * 37.5 / 7, rel=1e-12)


def test_absence_removes_whole_people_and_the_fraction_its_expectation() -> None:
    """Leave + sickness 0.25: on a weekday 25/3 = 8 whole people + 1/3 are scheduled; present is
    Binomial(8, 0.75) whole people + 0.75 × 1/3 = 0.25 (the fraction contributes its expectation)."""
    d = _scenario_dict()
    d["workforce"]["grades"][0].update(annual_leave_share=0.15, sickness_share=0.1)
    sc = build(d)
    cal = build_calendar(sc.simulation)
    roster = build_roster(sc, cal, 0, np.random.default_rng(1))
    weekday = cal.weekday < 5
    whole = roster.present_fte[weekday, 0] - 0.25
    np.testing.assert_allclose(whole, np.round(whole), atol=1e-9)
    assert whole.min() >= 0
    assert whole.max() <= 8
    assert roster.paid_hours_per_day[0] == pytest.approx(375.0 / 7.0)  # paid on leave and sick all the same


def test_pay_index_steps_on_the_first_day_of_each_contract_year() -> None:
    """Uplift 10%: 1 in the warm-up day and year 1, 1.1 from 1 April 2026 (day 1 + 365 = 366)."""
    sc = build(_scenario_dict(uplift=0.1))
    cal = build_calendar(sc.simulation)
    roster = build_roster(sc, cal, 0, np.random.default_rng(1))
    assert roster.pay_index[[0, 1, 365, 366, cal.n_days - 1]].tolist() == pytest.approx([1.0, 1.0, 1.0, 1.1, 1.1])
    assert roster.staff_cost_gbp(366) == pytest.approx(375.0 / 7.0 * 30.0 * 1.1, rel=1e-12)
