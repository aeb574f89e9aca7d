"""Continuous-time scheduling: every visit queues for a staff member, one SimPy process per person.

This is the validation path. With staff on duty round the clock, one visit per episode,
exponential times and no deterioration it is exactly an M/M/c queue, so its waits can be checked
against Erlang C. It shares referrals, care plans, hazards and the ledger with the daily model;
it ignores grade restrictions, overtime and deferral (a queue waits instead), and resolves
emergency admissions at day boundaries.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from fundsim.sim.calendar import Calendar
from fundsim.sim.service import ServiceModel

MINUTES_PER_DAY = 1440.0
MINUTES_PER_HOUR = 60.0


def staff_on_duty(service: ServiceModel, locality: int) -> int:
    """Servers of a locality's continuous queue: its mean staff on duty, rounded (at least one)."""
    return max(1, round(float(service.rosters[locality].present_fte.mean(axis=0).sum())))


def _person(
    env: simpy.Environment, team: ServiceModel, staff: simpy.PriorityResource, slot: int
) -> Generator[simpy.Event, object, None]:
    """One person's episode: wait for assessment, then visits at the planned interval."""
    c = team.people.cols
    loc = int(c["locality"][slot])
    uid = int(c["uid"][slot])
    one = np.array([slot])
    arrival = float(c["referral_day"][slot])
    if arrival > env.now:
        yield env.timeout(arrival - env.now)

    def still_here() -> bool:
        return int(c["uid"][slot]) == uid

    visit = -1  # -1 is the assessment
    while still_here():
        back = float(c["return_day"][slot])
        if back > env.now:  # in hospital: the plan resumes on return
            yield env.timeout(back - env.now)
            continue
        with staff.request(priority=0 if (visit < 0 and c["urgent"][slot]) else 1) as req:
            yield req
            if not still_here():
                return
            if visit < 0:
                minutes = float(c["assessment_minutes"][slot] + c["assessment_travel_minutes"][slot])
                f2f = float(c["assessment_minutes"][slot])
            else:
                pos = int(c["visit_offset"][slot] + c["visits_done"][slot])
                f2f = float(team.visit_buffer.f2f_minutes[pos])
                minutes = f2f + float(team.visit_buffer.travel_minutes[pos])
            start = env.now
            team.accounts.add_at("contact_hours", loc, start, f2f / MINUTES_PER_HOUR)
            team.accounts.add_at("travel_hours", loc, start, (minutes - f2f) / MINUTES_PER_HOUR)
            if visit < 0:
                team.complete_assessments(one, start)
            else:
                team.complete_visits(one, start)
            yield env.timeout(minutes / MINUTES_PER_DAY)
        visit += 1
        if not still_here():
            return
        yield env.timeout(float(c["interval_days"][slot]))


def _days(
    env: simpy.Environment,
    service: ServiceModel,
    staff: list[simpy.PriorityResource],
    calendar: Calendar,
    stats: dict,
) -> Generator[simpy.Event, object, None]:
    month_end_days = set(calendar.month_start_day[1:].tolist())
    for day in range(calendar.n_days):
        # A month ends at the start of a day, once every event of the month's last day has happened
        # (visits in progress, people whose referral time has come) and before this day's referrals.
        if day in month_end_days:
            service.end_month(day)
        service.admit(day)
        service.restore_hazards(day)
        acc = service.accounts
        acc.add_day("rostered_hours", day, service.on_duty_hours_by_loc[day])
        acc.add_day("paid_hours", day, service.paid_hours_by_loc)
        acc.add_day("staff_cost_gbp", day, service.base_staff_cost_gbp * service.pay_index[day])
        slots = service.arrive(day)
        for slot, loc in zip(slots.tolist(), service.people.cols["locality"][slots].tolist(), strict=True):
            env.process(_person(env, service, staff[loc], slot))
        stats["peak_live_people"] = max(stats["peak_live_people"], service.live_people())
        yield env.timeout(1)


def run_continuous(env: simpy.Environment, service: ServiceModel, calendar: Calendar, stats: dict) -> None:
    """Run the continuous-time model to the end of the horizon."""
    staff = [simpy.PriorityResource(env, capacity=staff_on_duty(service, i)) for i in range(service.n_localities)]
    env.process(_days(env, service, staff, calendar, stats))
    env.run(until=calendar.n_days)
    service.end_month(calendar.n_days)  # the last month ends with the horizon
