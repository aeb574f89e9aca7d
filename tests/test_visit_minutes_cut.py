"""The ledger's ``visit_minutes_cut``: face-to-face minutes rationing takes off delivered follow-up visits.

Checked against an identity nobody in the model computes: at a constant rationing level L with
shortening s per level, each delivered follow-up visit keeps (1 − sL) of its planned minutes and
loses sL, so over any period

    cut / (cut + follow-up minutes delivered) = sL,

where follow-up minutes delivered = contact minutes − assessment minutes, and assessments last a
fixed 60 minutes when their coefficient of variation is 0.
"""

from __future__ import annotations

import pytest
import simpy
from builders import build, small_dict

from fundsim.sim.calendar import build_calendar
from fundsim.sim.engine import _working_days
from fundsim.sim.ledger import build_ledger
from fundsim.sim.service import ServiceModel
from fundsim.sim.streams import RandomStreams

ASSESSMENT_MINUTES = 60.0


def _run(level: int, shortening: float):
    d = small_dict(population=20_000, years=0.5, warmup_days=30)
    d["provider_policy"] = {
        "mode": "passive",
        "rationing": {"max_level": 3, "visit_shortening_per_level": shortening},
    }
    for tier in d["tiers"]:
        tier["assessment_minutes"] = {"mean": ASSESSMENT_MINUTES, "cv": 0.0}
    scenario = build(d)
    calendar = build_calendar(scenario.simulation)
    service = ServiceModel(scenario, calendar, RandomStreams(scenario.simulation.seed, 0))
    service.set_ration_level(level, 0)
    env = simpy.Environment()
    env.process(_working_days(env, service, calendar, {"peak_live_people": 0}))
    env.run(until=calendar.n_days)
    service.close_run(float(calendar.n_days))
    return build_ledger(scenario, calendar, service.accounts, 0)


@pytest.mark.parametrize(("level", "shortening"), [(1, 0.05), (2, 0.1), (3, 0.03)])
def test_cut_share_is_the_rationing_shortening(level: int, shortening: float) -> None:
    ledger = _run(level, shortening)
    cut = float(ledger["visit_minutes_cut"].sum())
    follow_up = float(ledger["contact_hours"].sum()) * 60.0 - float(ledger["assessments"].sum()) * ASSESSMENT_MINUTES
    assert cut > 0
    assert cut / (cut + follow_up) == pytest.approx(shortening * level, rel=1e-9)


def test_no_rationing_cuts_nothing() -> None:
    ledger = _run(0, 0.1)
    assert float(ledger["visit_minutes_cut"].sum()) == 0.0
