"""The provider's management rules, on hand-made signals (no simulation)."""

from __future__ import annotations

import math

import pytest

from fundsim.scenario.models import ProviderPolicy
from fundsim.sim.policy import WEEKS_PER_MONTH, Signals, State, decide, under_pressure

POLICY = ProviderPolicy()


def signals(**kw: float) -> Signals:
    """A calm, break-even month unless told otherwise."""
    base = {
        "income_ytd_gbp": 1_000_000.0,
        "cost_ytd_gbp": 1_000_000.0,
        "marginal_income_per_contact_gbp": 0.0,
        "unit_cost_per_contact_gbp": 70.0,
        "waiting_list": 10.0,
        "assessments_per_month": 1000.0,
        "visits_due": 10_000.0,
        "visits_missed": 0.0,
        "visit_deferrals": 0.0,
        "funded_activity_ytd": 100_000.0,
        "delivered_activity_ytd": 110_000.0,
    }
    base.update(kw)
    return Signals(**base)


def test_waiting_weeks_is_list_over_weekly_assessments() -> None:
    s = signals(waiting_list=500.0, assessments_per_month=1000.0)
    assert s.waiting_weeks == pytest.approx(500.0 / (1000.0 / WEEKS_PER_MONTH))
    assert signals(waiting_list=5.0, assessments_per_month=0.0).waiting_weeks == math.inf


def test_pressure_from_each_signal() -> None:
    assert not under_pressure(signals(), POLICY)
    weekly = 1000.0 / WEEKS_PER_MONTH
    assert under_pressure(signals(waiting_list=weekly * (POLICY.pressure_waiting_weeks + 0.1)), POLICY)
    assert not under_pressure(signals(waiting_list=weekly * (POLICY.pressure_waiting_weeks - 0.1)), POLICY)
    assert under_pressure(signals(visits_missed=10_000.0 * POLICY.pressure_missed_share * 1.1), POLICY)
    assert under_pressure(signals(visit_deferrals=10_000.0 * POLICY.pressure_deferral_share * 1.1), POLICY)


def test_hires_when_activity_pays_and_under_pressure() -> None:
    d = decide(signals(visits_missed=500.0, marginal_income_per_contact_gbp=80.0), State(), POLICY, 0.6)
    assert d.pressure
    assert d.pays_its_way
    assert d.hire_share == POLICY.hiring.step_share
    assert d.shed_share == 0.0
    assert d.ration_level == 0


def test_no_hiring_beyond_workforce_supply() -> None:
    state = State(hired_last_12_months_share=POLICY.hiring.max_growth_per_year - 0.005)
    d = decide(signals(visits_missed=500.0, marginal_income_per_contact_gbp=80.0), state, POLICY, 0.6)
    assert d.hire_share == pytest.approx(0.005)
    full = State(hired_last_12_months_share=POLICY.hiring.max_growth_per_year)
    d = decide(signals(visits_missed=500.0, marginal_income_per_contact_gbp=80.0), full, POLICY, 0.6)
    assert d.hire_share == 0.0


def test_block_under_pressure_absorbs_then_rations() -> None:
    """Marginal income 0 (a block contract): no hiring; unpaid overtime up; rationing up a level."""
    d = decide(signals(visits_missed=500.0), State(unpaid_overtime_share=0.6), POLICY, 0.6)
    assert d.hire_share == 0.0
    assert d.unpaid_overtime_share == pytest.approx(0.6 + POLICY.overtime.step)
    assert d.ration_level == 1
    top = State(unpaid_overtime_share=POLICY.overtime.max_unpaid_share, ration_level=POLICY.rationing.max_level)
    d = decide(signals(visits_missed=500.0), top, POLICY, 0.6)
    assert d.unpaid_overtime_share == POLICY.overtime.max_unpaid_share
    assert d.ration_level == POLICY.rationing.max_level


def test_no_rationing_within_funded_activity() -> None:
    within = signals(visits_missed=500.0, delivered_activity_ytd=90_000.0)
    assert decide(within, State(), POLICY, 0.6).ration_level == 0
    anyway = POLICY.model_copy(
        update={"rationing": POLICY.rationing.model_copy(update={"only_above_funded_activity": False})}
    )
    assert decide(within, State(), anyway, 0.6).ration_level == 1


def test_surplus_allows_hiring_even_on_a_block() -> None:
    rich = signals(visits_missed=500.0, cost_ytd_gbp=1_000_000.0 * (1 - POLICY.hiring.surplus_headroom_share - 0.01))
    assert decide(rich, State(), POLICY, 0.6).hire_share > 0


def test_deficit_sheds_staff_down_to_the_floor() -> None:
    deficit = signals(cost_ytd_gbp=1_000_000.0 * (1 + POLICY.deficit_tolerance_share + 0.01))
    d = decide(deficit, State(), POLICY, 0.6)
    assert d.shed_share == POLICY.shedding.step_share
    at_floor = State(fte_share=POLICY.shedding.floor_share)
    assert decide(deficit, at_floor, POLICY, 0.6).shed_share == 0.0
    # ...but not when more activity would pay its way.
    paying = signals(cost_ytd_gbp=1.1e6, marginal_income_per_contact_gbp=90.0)
    assert decide(paying, State(), POLICY, 0.6).shed_share == 0


def test_calm_month_unwinds_rationing_and_overtime() -> None:
    d = decide(signals(), State(unpaid_overtime_share=0.8, ration_level=2), POLICY, 0.6)
    assert d.ration_level == 1
    assert d.unpaid_overtime_share == pytest.approx(0.8 - POLICY.overtime.step)
    assert decide(signals(), State(unpaid_overtime_share=0.6), POLICY, 0.6).unpaid_overtime_share == 0.6
