"""The annual pay award lands on the first day of each contract year (1 April), not a day later.

Expected staff costs are worked out from the calendar by hand: contract year y runs from the
start date's month plus 12(y − 1) months; every day of it is paid at (1 + uplift)^(y − 1).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import build, mmc_dict, modified

from fundsim import simulate
from fundsim.sim.calendar import build_calendar

UPLIFT = 0.5
FTE = 2.0
HOURLY_GBP = 40.0
HOURS_PER_WEEK = 168.0


def one_grade_dict(scheduling: str, uplift: float = UPLIFT, years: int = 3) -> dict[str, Any]:
    """One grade of ``FTE`` staff on 168-hour contracts, no overtime, light demand, ``years`` contract years."""
    d = mmc_dict(int(FTE), arrivals_per_hour=0.05, service_minutes=30.0, days=years * 365.25)
    d["provider_policy"] = {"mode": "passive"}  # no hiring or shedding: the establishment stays put
    return modified(
        d,
        **{
            "simulation.scheduling": scheduling,
            "simulation.warmup_days": 10,
            "workforce.pay_uplift_per_year": uplift,
            "workforce.grades.0.hourly_cost_gbp": HOURLY_GBP,
            "workforce.grades.0.contract_hours_per_week": HOURS_PER_WEEK,
        },
    )


def _expected_staff_cost(start: dt.date, n_months: int) -> pd.Series:
    """Paid hours per day × hourly cost × (1 + u)^(contract year − 1) × days in the month, by month."""
    paid_hours_per_day = FTE * HOURS_PER_WEEK / 7.0
    rows = {}
    for m in range(n_months):
        year, month = start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1
        months_from_start = (year - start.year) * 12 + (month - start.month)
        contract_year = months_from_start // 12 + 1
        days = calendar.monthrange(year, month)[1]
        rows[pd.Timestamp(year, month, 1)] = (
            paid_hours_per_day * HOURLY_GBP * (1.0 + UPLIFT) ** (contract_year - 1) * days
        )
    return pd.Series(rows)


@pytest.mark.parametrize("scheduling", ["daily", "continuous"])
def test_staff_cost_follows_contract_years(scheduling: str) -> None:
    d = one_grade_dict(scheduling)
    led = simulate(build(d), 0).ledger
    assert (led["paid_overtime_hours"] == 0).all()  # no overtime cost: staff cost is pay alone
    expected = _expected_staff_cost(dt.date(2025, 4, 1), 36)
    got = led.set_index("month")["staff_cost_gbp"]
    assert list(got.index) == list(expected.index)
    # The months where a pay award lands: paid at the new rate from their first day.
    for first_day in ("2026-04-01", "2027-04-01"):
        ts = pd.Timestamp(first_day)
        assert got[ts] == pytest.approx(expected[ts], rel=1e-12), first_day
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-12)
    # And the ledger's own contract_year column agrees with the rate paid.
    rate = got / (FTE * HOURS_PER_WEEK / 7.0 * HOURLY_GBP * led.set_index("month")["days"])
    np.testing.assert_allclose(rate, (1.0 + UPLIFT) ** (led["contract_year"].to_numpy() - 1), rtol=1e-12)


def test_contract_year_of_day_by_date() -> None:
    """Day → contract year (0-based; the warm-up is year 0) straight from the dates."""
    sc = build(one_grade_dict("daily"))
    cal = build_calendar(sc.simulation)
    origin = sc.simulation.start_date - dt.timedelta(days=sc.simulation.warmup_days)
    for day in (0, 9, 10, 374, 375, 739, 740, cal.n_days - 1):
        date = origin + dt.timedelta(days=day)
        months = (date.year - 2025) * 12 + date.month - 4
        assert cal.contract_year_of_day[day] == max(0, months // 12), (day, date)
    # 1 April 2026 is day 10 + 365 of the run; 31 March 2026 the day before.
    assert (cal.contract_year_of_day[374], cal.contract_year_of_day[375]) == (0, 1)
