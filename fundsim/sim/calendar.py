"""The simulation calendar: days, months, weekdays and contract years.

Simulated time is a float number of days from the start of the warm-up. Statistics are kept
by calendar month from ``simulation.start_date``; warm-up days have month index -1. Contract years
are whole runs of 12 calendar months from the start date (as the ledger's ``contract_year``), so a
yearly step such as the pay award lands on the start date's anniversary, whatever the leap years.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fundsim.scenario.models import Simulation

DAYS_PER_YEAR = 365.25


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Calendar:
    """Day-indexed lookup arrays for one simulation run."""

    n_days: int
    warmup_days: int
    month_starts: tuple[dt.date, ...]  # first date of each reported month
    month_start_day: np.ndarray  # simulation day of each month start, plus the end (n_months + 1)
    month_of_day: np.ndarray  # month index per day, -1 in warm-up
    weekday: np.ndarray  # 0 = Monday
    day_of_year: np.ndarray
    years_from_start: np.ndarray  # (day - warmup) / 365.25, negative in warm-up (continuous growth)
    contract_year_of_day: np.ndarray  # 0-based contract year per day (month index // 12); warm-up is year 0

    @property
    def n_months(self) -> int:
        """Number of reported months."""
        return len(self.month_starts)

    @property
    def end_day(self) -> float:
        """Simulation time at which the horizon ends."""
        return float(self.n_days)


def build_calendar(sim: Simulation) -> Calendar:
    """Lay out the days of the warm-up and the horizon for ``sim``."""
    n_months = max(1, round(sim.horizon_years * 12))
    starts = [add_months(sim.start_date, m) for m in range(n_months + 1)]
    origin = sim.start_date - dt.timedelta(days=sim.warmup_days)
    month_start_day = np.array([(s - origin).days for s in starts], dtype=np.int64)
    n_days = int(month_start_day[-1])
    days = np.arange(n_days)
    month_of_day = np.searchsorted(month_start_day, days, side="right") - 1
    month_of_day[days < sim.warmup_days] = -1
    dates = np.datetime64(origin) + days.astype("timedelta64[D]")
    weekday = (days + origin.weekday()) % 7
    year_start = dates.astype("datetime64[Y]")
    day_of_year = (dates - year_start).astype(np.int64) + 1
    return Calendar(
        n_days=n_days,
        warmup_days=sim.warmup_days,
        month_starts=tuple(starts[:-1]),
        month_start_day=month_start_day,
        month_of_day=month_of_day,
        weekday=weekday,
        day_of_year=day_of_year,
        years_from_start=(days - sim.warmup_days) / DAYS_PER_YEAR,
        contract_year_of_day=np.maximum(month_of_day, 0) // 12,
    )
