"""Reserves, failure and re-tendering in a running simulation (the example scenario, two years).

Checks identities and common random numbers, not seeded numbers: the provider's monthly reading
of its reserves at a year's end equals the yearly close; a provider that fails holds every lever
from then on; reserves that never reach a threshold, and a re-let with no cost at the same value,
change nothing in the ledger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fundsim.contracts import REGISTRY
from fundsim.experiment.runner import Results, run_replications
from fundsim.scenario import Scenario, load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example.yaml"
YEARS = 2


def scenario(**policy: Any) -> Scenario:
    """The example over ``YEARS`` years, with ``policy`` added to its provider_policy."""
    data = load_scenario(EXAMPLE).model_dump(mode="json")
    data["simulation"]["horizon_years"] = YEARS
    data["provider_policy"].update(policy)
    return Scenario.model_validate(data)


_RUNS: dict[str, Results] = {}


def run(**policy: Any) -> Results:
    """One replication of :func:`scenario` (each policy simulated once per session)."""
    key = json.dumps(policy, sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = run_replications(scenario(**policy), 1)
    return _RUNS[key]


def test_untriggered_reserves_change_nothing() -> None:
    plain = run()
    rich = run(reserves={"opening_gbp": 1e9, "recovery_threshold_gbp": -1e9, "failure_floor_gbp": -1e9})
    pd.testing.assert_frame_equal(plain.ledger, rich.ledger, check_exact=True)
    assert (rich.decisions["reserve_status"] == "normal").all()


def test_monthly_reading_matches_the_yearly_close() -> None:
    opening = 1e9
    res = run(reserves={"opening_gbp": opening, "recovery_threshold_gbp": -1e9, "failure_floor_gbp": -1e9})
    by_year = res.reserves
    assert by_year is not None
    # Independent of the year table: the last closing is opening + Σ monthly (income − cost).
    months = res.provider
    total = float(np.sum(months["income_gbp"].to_numpy() - months["cost_gbp"].to_numpy()))
    assert by_year["closing_gbp"].iloc[-1] == pytest.approx(opening + total, rel=0, abs=1e-3)
    assert (by_year["opening_gbp"] + by_year["surplus_gbp"] - by_year["deficit_gbp"] == by_year["closing_gbp"]).all()
    # The review opening year 2 reads the reserves after year 1 closed (a block contract pays a
    # twelfth a month, so its year to date is the year).
    start_y2 = res.decisions.iloc[12]
    assert start_y2["reserves_gbp"] == pytest.approx(by_year["closing_gbp"].iloc[0], rel=1e-12)


def test_failed_provider_holds_its_levers() -> None:
    res = run(reserves={"opening_gbp": 50_000, "recovery_threshold_gbp": 0, "failure_floor_gbp": 0})
    dec = res.decisions.reset_index(drop=True)
    failed = dec.index[dec["reserve_status"] == "failed"]
    assert len(failed), "the example's first-year deficit should exhaust £50k"
    first = int(failed[0])
    assert (dec.loc[first:, "reserve_status"] == "failed").all()  # failure is final
    after = dec.loc[first:]
    assert (after["hire_share"] == 0).all()
    assert (after["shed_share"] == 0).all()
    assert after["ration_level"].nunique() == 1
    assert after["unpaid_overtime_share"].nunique() == 1
    # The review that failed read reserves at or below the floor; the one before did not.
    assert dec.loc[first, "reserves_gbp"] <= 0 < dec.loc[first - 1, "reserves_gbp"] or first == 1
    outcome = res.reserve_outcomes.iloc[0]
    assert outcome["failed"]
    assert outcome["failure_month"] == dec.loc[first, "month"]


def test_retendering_at_no_cost_and_same_value_changes_nothing() -> None:
    plain = run()
    relet = run(retendering={"every_years": 1})
    ledger = relet.ledger
    assert (ledger["mobilisation_cost_gbp"] == 0).all()
    assert (ledger["contract_value_factor"] == 1).all()
    pd.testing.assert_frame_equal(plain.ledger, ledger[plain.ledger.columns], check_exact=True)
    for col in ("income_gbp", "cost_gbp", "surplus_gbp"):
        assert relet.provider[col].tolist() == plain.provider[col].tolist()


def test_retendering_costs_and_value() -> None:
    res = run(retendering={"every_years": 1, "mobilisation_cost_gbp": 120_000, "bid_value_share": 0.9})
    prov = res.provider
    extra = prov["cost_gbp"] - prov["staff_cost_gbp"] - prov["hospital_cost_borne_gbp"]
    # The whole mobilisation cost in the first month of year 2, nothing elsewhere.
    assert extra.iloc[12] == pytest.approx(120_000, rel=1e-12)
    assert np.allclose(extra.drop(index=12), 0.0)
    # Income: the contract's own payment on the same months, × 0.9 from year 2.
    s = res.scenario
    raw = REGISTRY[s.contract].pay(prov, getattr(s.contracts, s.contract), s.contract_context())["income_gbp"]
    factor = np.where(prov["contract_year"] >= 2, 0.9, 1.0)
    assert np.allclose(prov["income_gbp"], raw * factor, rtol=1e-12)


def test_recovery_plan_freezes_hiring_and_deepens_rationing() -> None:
    # A threshold no provider can be above: the plan is in force from the first review on.
    res = run(reserves={"opening_gbp": 0, "recovery_threshold_gbp": 1e9, "failure_floor_gbp": -1e9})
    dec = res.decisions.iloc[1:]
    assert (dec["reserve_status"] == "recovery").all()
    assert (dec["hire_share"] == 0).all()
    assert (dec["ration_level"] >= 1).all()  # the rule's level + 1, capped at max_level (3)


FROZEN_STAFF = {"hiring": {"step_share": 0.0, "lag_months": 3}, "shedding": {"step_share": 0.0}}


def test_staff_lost_at_a_relet_are_replaced_after_the_hiring_lag() -> None:
    res = run(**FROZEN_STAFF, retendering={"every_years": 1, "staff_lost_share": 0.2})
    fte = res.decisions["fte_share"].to_numpy()
    # Staff only change at the re-let (1 April 2026, month 12): 20% leave; replacements start after
    # round(3 × 365.25 / 12) = 91 days, on 1 July 2026 (month 15).
    assert np.allclose(fte[:12], 1.0)
    assert np.allclose(fte[12:15], 0.8)
    assert np.allclose(fte[15:], 1.0)


def test_transition_lowers_activity_only_in_its_months() -> None:
    plain = run(**FROZEN_STAFF)
    relet = run(
        **FROZEN_STAFF,
        retendering={"every_years": 1, "transition_months": 2, "transition_productivity_loss_share": 0.5},
    )
    before, during = slice(0, 12), slice(12, 14)
    # Common random numbers: nothing differs before the re-let ...
    pd.testing.assert_frame_equal(
        plain.ledger[plain.ledger["contract_year"] == 1],
        relet.ledger[relet.ledger["contract_year"] == 1][plain.ledger.columns],
    )
    assert plain.provider["contacts"].iloc[before].tolist() == relet.provider["contacts"].iloc[before].tolist()
    # ... and with half the visit time in the transition, fewer contacts at the same paid hours.
    assert (
        relet.provider["contacts"].iloc[during].to_numpy() < plain.provider["contacts"].iloc[during].to_numpy()
    ).all()
    assert relet.provider["paid_hours"].iloc[during].tolist() == plain.provider["paid_hours"].iloc[during].tolist()


def passive(**policy: Any) -> Results:
    """One replication under the passive policy, as the comparison's passive bracket builds it.

    The loader refuses ``mode: passive`` with re-tendering (staff loss and the transition act through
    the provider's review); ``fundsim.experiment.compare.passive_variant`` copies a validated
    scenario's policy to passive, keeping its re-tendering, and that run is what this checks.
    """
    from fundsim.experiment.compare import passive_variant

    key = "passive:" + json.dumps(policy, sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = run_replications(passive_variant(scenario(**policy)), 1)
    return _RUNS[key]


def test_passive_retendering_at_no_cost_and_same_value_changes_nothing() -> None:
    plain = passive()
    relet = passive(retendering={"every_years": 1})
    assert relet.scenario.provider_policy.mode == "passive"
    ledger = relet.ledger
    assert (ledger["mobilisation_cost_gbp"] == 0).all()
    assert (ledger["contract_value_factor"] == 1).all()
    pd.testing.assert_frame_equal(plain.ledger, ledger[plain.ledger.columns], check_exact=True)
    for col in ("income_gbp", "cost_gbp", "surplus_gbp"):
        assert relet.provider[col].tolist() == plain.provider[col].tolist()


def test_passive_retendering_moves_money_only() -> None:
    """Passive: mobilisation cost and bid value apply; with no transition or staff lost the service is the same."""
    plain = passive()
    res = passive(retendering={"every_years": 1, "mobilisation_cost_gbp": 120_000, "bid_value_share": 0.9})
    prov = res.provider
    # Common random numbers and no provider response: every activity column is the plain run's.
    for col in ("contacts", "assessments", "visits_delivered", "admissions", "staff_cost_gbp", "paid_hours"):
        assert prov[col].tolist() == plain.provider[col].tolist(), col
    extra = prov["cost_gbp"] - prov["staff_cost_gbp"] - prov["hospital_cost_borne_gbp"]
    assert extra.iloc[12] == pytest.approx(120_000, rel=1e-12)
    assert np.allclose(extra.drop(index=12), 0.0)
    factor = np.where(prov["contract_year"] >= 2, 0.9, 1.0)
    assert np.allclose(prov["income_gbp"], plain.provider["income_gbp"] * factor, rtol=1e-12)


def test_passive_retendering_carries_the_transition_and_the_staff_lost() -> None:
    """Passive too: a re-let's transition and staff loss act (no review carries them, the engine does).

    Year 1 is the plain run's, draw for draw; in the re-let's transition months visit time is cut by
    the loss share, so fewer contacts are delivered than in the plain run's same months, and the paid
    staff cost falls by the staff lost until they are replaced after the hiring lag.
    """
    plain = passive()
    policy = {
        "every_years": 1,
        "staff_lost_share": 0.2,
        "transition_months": 2,
        "transition_productivity_loss_share": 0.5,
    }
    res = passive(retendering=policy)
    year1 = res.ledger["contract_year"] == 1
    pd.testing.assert_frame_equal(
        plain.ledger[year1].reset_index(drop=True),
        res.ledger[year1][plain.ledger.columns].reset_index(drop=True),
        check_exact=True,
    )
    months = res.provider["contract_year"] == 2
    first = res.provider.index[months][:2]  # the two transition months
    assert (res.provider.loc[first, "contacts"] < plain.provider.loc[first, "contacts"]).all()
    assert (res.provider.loc[first, "staff_cost_gbp"] < plain.provider.loc[first, "staff_cost_gbp"]).all()
