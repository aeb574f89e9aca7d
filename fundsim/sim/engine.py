"""Run one replication of a scenario: the SimPy timeline over the service's days."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import pandas as pd
import simpy

from fundsim.interrupts import interrupt_in
from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import Calendar, build_calendar
from fundsim.sim.checks import check_allocation, check_day
from fundsim.sim.decisions import decision_table
from fundsim.sim.ledger import build_ledger
from fundsim.sim.policy import Decision
from fundsim.sim.retender import start_passive_relets
from fundsim.sim.service import ServiceModel
from fundsim.sim.streams import RandomStreams


@dataclass(frozen=True)
class RunResult:
    """What one replication produced: the monthly ledger, the provider's decisions and run diagnostics.

    ``decisions`` has one row per month: the staff, unpaid-overtime share and rationing level in
    force, and the hires and sheds decided (:mod:`fundsim.sim.decisions`); flat under a passive policy.
    """

    scenario_name: str
    replication: int
    ledger: pd.DataFrame
    events: int  # simulated events: referrals, assessments, visits, admissions, day and month steps
    peak_live_people: int
    peak_state_bytes: int = 0  # most bytes held by per-person state (table and visit buffers) at a month end
    checks_run: int = 0  # invariant checks made (simulate(check=True)); 0 when not checking
    decisions: pd.DataFrame | None = None  # month × lever (fundsim.sim.decisions); simulate() always sets it


def run_day(service: ServiceModel, day: int) -> None:
    """One working day of the daily model: admissions overnight, the day's work, then the day's referrals.

    With ``service.check`` the day's allocation is verified as soon as it is made (the model
    records it; the engine, not the model, runs the checks).
    """
    service.admit(day)
    service.restore_hazards(day)
    service.plan_day(day)
    if service.check and service.last_allocation is not None:
        alloc = service.last_allocation
        service.checks_run += check_allocation(
            day,
            alloc.rostered_minutes,
            alloc.overtime_cap_minutes,
            alloc.used_minutes,
            alloc.done_minutes_by_locality(service.n_localities),
        )
    service.arrive(day)


def _working_days(
    env: simpy.Environment, service: ServiceModel, calendar: Calendar, stats: dict
) -> Generator[simpy.Event, object, None]:
    """The daily process: one :func:`run_day` a simulated day, closing each month at its end."""
    month_end_days = set(calendar.month_start_day[1:].tolist())
    for day in range(calendar.n_days):
        run_day(service, day)
        if day + 1 in month_end_days:  # the end of the day is the end of the month
            service.end_month(day + 1)
            stats["peak_state_bytes"] = max(stats.get("peak_state_bytes", 0), service.state_nbytes())
        stats["peak_live_people"] = max(stats["peak_live_people"], service.live_people())
        if service.check:
            service.checks_run += check_day(service, day)
        yield env.timeout(1)


def simulate(scenario: Scenario, replication: int = 0, *, check: bool = False) -> RunResult:
    """Simulate ``scenario`` once; ``replication`` selects the random streams (common random numbers).

    The same ``(scenario.simulation.seed, replication)`` always gives the same ledger. With
    ``check`` the model's invariants (:mod:`fundsim.sim.checks`) are verified every day; a
    violation raises :class:`~fundsim.sim.checks.InvariantError`. Checking never changes a number.
    A Ctrl-C, SIGTERM or SIGHUP arriving while compiled code runs is raised as itself, not as the
    ``SystemError`` it comes back as (:func:`fundsim.interrupts.interrupt_in`), so every caller's
    clean-up for an interrupt runs.
    """
    try:
        return _simulate(scenario, replication, check)
    except SystemError as exc:
        interrupt = interrupt_in(exc)
        if interrupt is None:
            raise
        raise interrupt from exc


def _simulate(scenario: Scenario, replication: int, check: bool) -> RunResult:
    calendar = build_calendar(scenario.simulation)
    streams = RandomStreams(scenario.simulation.seed, replication)
    service = ServiceModel(scenario, calendar, streams)
    service.check = check
    env = simpy.Environment()
    stats = {"peak_live_people": 0}
    reviews: list[tuple[int, Decision]] = []  # the provider's (month, decision) pairs; none under a passive policy
    if scenario.simulation.scheduling == "continuous":
        from fundsim.sim.continuous import run_continuous

        run_continuous(env, service, calendar, stats)
    else:
        env.process(_working_days(env, service, calendar, stats))
        if scenario.provider_policy.mode == "responsive":
            from fundsim.sim.management import ProviderManager

            manager = ProviderManager(scenario, calendar, service, replication)
            reviews = manager.decisions
            env.process(manager.run(env))
        elif (retendering := scenario.provider_policy.retendering) is not None:
            # Passive: no review carries the re-lets' transition and staff loss, so they act directly.
            lag_months = scenario.provider_policy.hiring.lag_months
            start_passive_relets(env, retendering, calendar, service, lag_months)
        env.run(until=calendar.n_days)
    service.close_run(float(calendar.n_days))
    ledger = build_ledger(scenario, calendar, service.accounts, replication)
    events = int(
        ledger[["referrals", "assessments", "visits_delivered", "admissions"]].to_numpy().sum()
        + calendar.n_days * (1 + service.n_localities)
    )
    return RunResult(
        scenario.name,
        replication,
        ledger,
        events,
        int(stats["peak_live_people"]),
        int(stats.get("peak_state_bytes", 0)),
        service.checks_run,
        decision_table(calendar, service.month_end_levers, reviews, replication),
    )


__all__ = ["RunResult", "run_day", "simulate"]
