"""The add-ons' effect (net admissions avoided) against the limits issue 17 sets.

* net admissions avoided = admissions the add-on avoids − extra admissions in the core caseload, and
  equally (total admissions without the add-on) − (total with it): an accounting identity, checked
  on hand-made counts and on every replication of real runs;
* a shared add-on with zero demand changes nothing: the net is exactly 0 and the core is unchanged;
* a dedicated add-on whose admission probabilities are all equal (no admission effect) leaves the
  core numbers identical to the run without it, and avoids nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import small_dict

from fundsim.experiment.addon_effect import (
    CONFIGURED,
    OTHER,
    WITHOUT,
    addon_effect,
    effect_scenarios,
    paired_rows,
)
from fundsim.scenario.models import Scenario

#: The core's measures with and without the add-on (per-replication columns).
CORE = (
    ("core_admissions_with_per_year", "core_admissions_without_per_year"),
    ("wait_mean_days_with", "wait_mean_days_without"),
    ("visits_missed_with", "visits_missed_without"),
    ("visit_deferrals_with", "visit_deferrals_without"),
    ("contacts_with", "contacts_without"),
)


def _scenario(ucr: dict) -> Scenario:
    d = small_dict(population=30_000, years=1.0, warmup_days=30)
    d["provider_policy"]["mode"] = "passive"
    d["addons"] = {"urgent_response": ucr}
    return Scenario.model_validate(d)


def _run(year: float, core: float, addon: float, avoided: float, in_core: float = 0.0) -> dict[str, float]:
    return {
        "years": year,
        "core_admissions": core,
        "addon_admissions": addon,
        "addon_admissions_avoided": avoided,
        "addon_avoided_in_core": in_core,
        "wait_mean_days": 3.0,
        "visits_missed": 0.0,
        "visit_deferrals": 0.0,
        "contacts": 0.0,
        "ucr_calls": 0.0,
        "ucr_reached_share": np.nan,
        "vw_occupancy_share": np.nan,
        "vw_bed_days_saved": np.nan,
        "addon_cost_gbp": 0.0,
    }


def test_net_is_avoided_minus_extra_core_on_hand_made_counts() -> None:
    # Over 2 years: core 100 admissions without, 110 with; the add-on's callers had 5 and avoided 20.
    row = paired_rows(_run(2.0, 100.0, 0.0, 0.0), _run(2.0, 110.0, 5.0, 20.0))
    assert row["addon_admissions_avoided_per_year"] == 10.0  # 20 / 2
    assert row["extra_core_admissions_per_year"] == 5.0  # (110 - 100) / 2
    assert row["net_admissions_avoided_per_year"] == 5.0  # (20 - 10) / 2
    # Totals: without = 100 + (5 + 20) = 125; with = 110 + 5 = 115; (125 - 115) / 2 = 5.
    assert row["total_admissions_without_per_year"] - row["total_admissions_with_per_year"] == 5.0


def test_avoided_admissions_of_core_patients_are_not_counted_twice() -> None:
    # A virtual ward avoided 12 admissions over 1 year, 8 of them of caseload step-ups: those 8 are
    # already missing from the core's 100 -> 95 (shared staffing added 3 of its own: 100 - 8 + 3 = 95).
    row = paired_rows(_run(1.0, 100.0, 0.0, 0.0), _run(1.0, 95.0, 2.0, 12.0, in_core=8.0))
    assert row["addon_admissions_avoided_per_year"] == 12.0
    assert row["extra_core_admissions_per_year"] == 3.0  # 95 - 100 + 8
    assert row["net_admissions_avoided_per_year"] == 9.0  # 12 - 3
    # Totals: with = 95 + 2 (GP step-ups admitted from the ward) = 97; without = 100 + 2 + (12 - 8) = 106.
    assert row["total_admissions_without_per_year"] - row["total_admissions_with_per_year"] == 9.0


def test_the_staffing_variants_are_the_same_scenario_but_for_the_add_on() -> None:
    sc = _scenario({"staffing": "shared"})
    variants = effect_scenarios(sc)
    assert variants[WITHOUT].addons is None
    assert variants[CONFIGURED] is sc
    assert variants[OTHER].addons is not None
    assert variants[OTHER].addons.urgent_response is not None
    assert variants[OTHER].addons.urgent_response.staffing == "dedicated"
    same = {k: v for k, v in variants[OTHER].model_dump().items() if k != "addons"}
    assert same == {k: v for k, v in sc.model_dump().items() if k != "addons"}


def test_the_identity_holds_on_every_replication_of_real_runs() -> None:
    sc = _scenario({"staffing": "shared", "calls_per_100k_per_month": 600.0, "shared_cap_share": 0.5})
    table, reps = addon_effect(sc, 2)
    assert len(reps) == 4  # 2 staffing choices x 2 replications
    years = 1.0
    net = reps["net_admissions_avoided_per_year"] * years
    parts = (reps["addon_admissions_avoided_per_year"] - reps["extra_core_admissions_per_year"]) * years
    totals = (reps["total_admissions_without_per_year"] - reps["total_admissions_with_per_year"]) * years
    np.testing.assert_allclose(net, parts, rtol=0, atol=1e-9)
    np.testing.assert_allclose(net, totals, rtol=0, atol=1e-9)
    assert (reps["addon_admissions_avoided_per_year"] > 0).all()  # 600 calls a month, 30% vs 5-15% admitted
    # The shared team takes core time: deferrals rise in every replication (same people, same draws).
    shared = reps[reps["staffing"] == "shared"]
    assert (shared["visit_deferrals_with"] > shared["visit_deferrals_without"]).all()
    # The table's paired mean is the mean of the paired differences.
    row = table[(table["staffing"] == "shared") & (table["measure"] == "visit_deferrals_per_year")].iloc[0]
    assert row["mean"] == pytest.approx((shared["visit_deferrals_with"] - shared["visit_deferrals_without"]).mean())


def test_a_shared_add_on_with_zero_demand_changes_nothing() -> None:
    sc = _scenario({"staffing": "shared", "calls_per_100k_per_month": 0.0})
    table, reps = addon_effect(sc, 2)
    assert (reps["net_admissions_avoided_per_year"] == 0.0).all()
    assert (reps["addon_admissions_avoided_per_year"] == 0.0).all()
    assert (reps["extra_core_admissions_per_year"] == 0.0).all()
    for with_, without in CORE:
        assert (reps[with_] == reps[without]).all(), with_
    net = table[table["measure"] == "net_admissions_avoided_per_year"]
    assert (net["mean"] == 0.0).all()


def test_a_dedicated_add_on_without_an_admission_effect_leaves_the_core_as_without_it() -> None:
    p = 0.05  # admitted with a timely, a late or no response alike: the add-on avoids nothing
    sc = _scenario(
        {
            "staffing": "dedicated",
            "calls_per_100k_per_month": 600.0,
            "admission_probability_reached": p,
            "admission_probability_late": p,
            "admission_probability_without": p,
        }
    )
    _, reps = addon_effect(sc, 2)
    dedicated = reps[reps["configured"]]
    assert (dedicated["staffing"] == "dedicated").all()
    for with_, without in CORE:
        assert (dedicated[with_] == dedicated[without]).all(), with_
    assert (dedicated["addon_admissions_avoided_per_year"] == 0.0).all()
    assert (dedicated["net_admissions_avoided_per_year"] == 0.0).all()
    assert (dedicated["ucr_calls_per_year"] > 0).all()


def test_the_identity_holds_with_a_virtual_ward_beside_the_urgent_response() -> None:
    d = small_dict(population=30_000, years=1.0, warmup_days=30)
    d["provider_policy"]["mode"] = "passive"
    d["addons"] = {
        "urgent_response": {"staffing": "shared", "calls_per_100k_per_month": 300.0},
        "virtual_ward": {"staffing": "dedicated", "places_per_100k": 40.0},
    }
    _, reps = addon_effect(Scenario.model_validate(d), 2)
    assert set(reps["staffing"]) == {
        "urgent response shared, virtual ward dedicated",
        "urgent response dedicated, virtual ward shared",
    }
    net = reps["net_admissions_avoided_per_year"]
    parts = reps["addon_admissions_avoided_per_year"] - reps["extra_core_admissions_per_year"]
    totals = reps["total_admissions_without_per_year"] - reps["total_admissions_with_per_year"]
    np.testing.assert_allclose(net, parts, rtol=0, atol=1e-9)
    np.testing.assert_allclose(net, totals, rtol=0, atol=1e-9)
    assert (reps["vw_occupancy_share"] > 0).all()
    assert (reps["vw_occupancy_share"] <= 1).all()


def test_run_prices_the_add_on_funding_line_as_compare_does() -> None:
    """``fundsim run`` (run_replications) adds each add-on's funding line and cost to the provider's accounts.

    A separate £120,000-a-year block per team for the urgent response: each month's add-on income is
    120,000 × teams × the month's days / 365.25 (a year's block, by the day), and income, cost and
    surplus move by the line exactly (surplus = income − cost).
    """
    from fundsim.experiment.runner import run_replications

    ucr = {"staffing": "dedicated", "funding": {"mode": "separate", "block_gbp_per_team_per_year": 120_000}}
    scenario = _scenario(ucr)
    provider = run_replications(scenario, 1).provider
    teams = len(scenario.localities)
    np.testing.assert_allclose(provider["addon_income_gbp"], 120_000 * teams * provider["days"] / 365.25, rtol=1e-12)
    np.testing.assert_allclose(provider["surplus_gbp"], provider["income_gbp"] - provider["cost_gbp"], rtol=1e-12)
    plain = run_replications(scenario.model_copy(update={"addons": None}), 1).provider
    np.testing.assert_allclose(provider["income_gbp"] - provider["addon_income_gbp"], plain["income_gbp"], rtol=1e-12)
