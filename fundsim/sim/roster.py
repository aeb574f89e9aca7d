"""Rostered staff capacity: who is on duty each day, and what that costs.

Each grade's whole-time equivalents (FTE) are split across localities. A grade's contract hours
become shifts; shifts are spread over the week so that a weekend day has
``weekend_staffing_ratio`` times the staff of a weekday. Annual leave and sickness remove a
random share of the scheduled staff each day (binomial on whole people, so small teams are
noisier than large ones, as in life).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fundsim.scenario.models import Grade, Scenario
from fundsim.sim.calendar import Calendar

MINUTES_PER_HOUR = 60.0


@dataclass(frozen=True)
class Roster:
    """Day-by-grade capacity of one locality's team."""

    present_fte: np.ndarray  # (n_days, n_grades) staff on duty after leave and sickness
    visit_minutes: np.ndarray  # (n_days, n_grades) on-duty minutes available for visits and travel
    overtime_minutes_cap: np.ndarray  # (n_days, n_grades) most overtime that can be worked
    on_duty_hours: np.ndarray  # (n_days, n_grades)
    paid_hours_per_day: np.ndarray  # (n_grades,) contracted hours paid each day, on duty or not
    hourly_cost_gbp: np.ndarray  # (n_grades,) in contract year 1
    pay_index: np.ndarray  # (n_days,) pay relative to contract year 1 (a pay award on each contract year's first day)

    def staff_cost_gbp(self, day: int) -> float:
        """Pay for the contracted hours of ``day`` (on duty or on leave alike)."""
        return float((self.paid_hours_per_day * self.hourly_cost_gbp).sum() * self.pay_index[day])


def weekday_duty_share(grade: Grade) -> float:
    """FTE-share on duty on a weekday so that a week holds the contracted shifts."""
    shifts_per_week = grade.contract_hours_per_week / grade.shift_hours
    return shifts_per_week / (5.0 + 2.0 * grade.weekend_staffing_ratio)


def build_roster(scenario: Scenario, calendar: Calendar, locality: int, rng: np.random.Generator) -> Roster:
    """Draw the daily on-duty staff of ``locality`` for the whole run."""
    share = scenario.staff_shares()[locality]
    grades = scenario.workforce.grades
    weekend = calendar.weekday >= 5
    n_days, n_grades = calendar.n_days, len(grades)
    present = np.zeros((n_days, n_grades))
    for g, grade in enumerate(grades):
        weekday_share = weekday_duty_share(grade)
        scheduled = grade.fte * share * np.where(weekend, weekday_share * grade.weekend_staffing_ratio, weekday_share)
        p_present = max(0.0, 1.0 - grade.annual_leave_share - grade.sickness_share)
        whole = np.floor(scheduled)
        # Whole people are absent at random; the fractional remainder contributes its expectation,
        # which keeps capacity smooth in FTE (sweeps over FTE are not staircases).
        present[:, g] = rng.binomial(whole.astype(np.int64), p_present) + (scheduled - whole) * p_present
    shift_h = np.array([g.shift_hours for g in grades])
    facing = np.array([g.patient_facing_share for g in grades])
    ot_cap = np.array([g.overtime_cap_hours_per_shift for g in grades])
    return Roster(
        present_fte=present,
        visit_minutes=present * shift_h * facing * MINUTES_PER_HOUR,
        overtime_minutes_cap=present * ot_cap * MINUTES_PER_HOUR,
        on_duty_hours=present * shift_h,
        paid_hours_per_day=np.array([g.fte * share * g.contract_hours_per_week / 7.0 for g in grades]),
        hourly_cost_gbp=np.array([g.hourly_cost_gbp for g in grades]),
        # Pay years are contract years by calendar date (the warm-up is paid at year-1 rates).
        pay_index=(1.0 + scenario.workforce.pay_uplift_per_year) ** calendar.contract_year_of_day,
    )
