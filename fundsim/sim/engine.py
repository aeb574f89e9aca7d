"""Run one replication of a scenario: the SimPy timeline over the localities' teams."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import simpy

from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import Calendar, build_calendar
from fundsim.sim.locality import LocalityModel
from fundsim.sim.streams import RandomStreams


@dataclass(frozen=True)
class RunResult:
    """What one replication produced: the monthly ledger and run diagnostics."""

    scenario_name: str
    replication: int
    ledger: pd.DataFrame
    events: int  # simulated events: referrals, assessments, visits, admissions, day and month steps
    peak_live_people: int


def _working_days(env: simpy.Environment, teams: list[LocalityModel], calendar: Calendar, stats: dict) -> object:
    """The daily process: admissions overnight, then the day's work, then the day's referrals."""
    month_end_days = set(calendar.month_start_day[1:].tolist())
    month = 0
    for day in range(calendar.n_days):
        for team in teams:
            team.admit(day)
            team.restore_hazards(day)
            team.plan_day(day)
            team.arrive(day)
        if day + 1 in month_end_days:
            for team in teams:
                team.close_month(month, day + 1)
            month += 1
        live = sum(team.live_people() for team in teams)
        stats["peak_live_people"] = max(stats["peak_live_people"], live)
        yield env.timeout(1)


def simulate(scenario: Scenario, replication: int = 0) -> RunResult:
    """Simulate ``scenario`` once; ``replication`` selects the random streams (common random numbers).

    The same ``(scenario.simulation.seed, replication)`` always gives the same ledger.
    """
    from fundsim.ledger import build_ledger  # local import: the ledger module depends on sim types

    calendar = build_calendar(scenario.simulation)
    streams = RandomStreams(scenario.simulation.seed, replication)
    teams = [LocalityModel(scenario, calendar, i, streams) for i in range(len(scenario.localities))]
    env = simpy.Environment()
    stats = {"peak_live_people": 0}
    if scenario.simulation.scheduling == "continuous":
        from fundsim.sim.continuous import run_continuous

        run_continuous(env, teams, calendar, stats)
    else:
        env.process(_working_days(env, teams, calendar, stats))
        if scenario.provider_policy.mode == "responsive":
            from fundsim.sim.management import ProviderManager

            manager = ProviderManager(scenario, calendar, teams, replication)
            env.process(manager.run(env))
        env.run(until=calendar.n_days)
    for team in teams:
        team.close_run(float(calendar.n_days))
    ledger = build_ledger(scenario, calendar, [t.accounts for t in teams], replication)
    events = int(
        ledger[["referrals", "assessments", "visits_delivered", "admissions"]].to_numpy().sum()
        + calendar.n_days * (1 + len(teams))
    )
    return RunResult(scenario.name, replication, ledger, events, int(stats["peak_live_people"]))


__all__ = ["RunResult", "simulate"]
