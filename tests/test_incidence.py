"""Who absorbs the over-performance: identities by hand, the reference, and pairing by replication."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build, example_dict, small_dict
from test_contract_properties import make_ledger

from fundsim import run_scenario
from fundsim.contracts.accounting import settle
from fundsim.experiment.incidence import (
    MEASURES,
    incidence_table,
    overtime_rate_gbp,
    reference_scenario,
    replication_incidence,
    with_reference,
)
from fundsim.scenario.sizing import size_scenario


def _block_year(delivered_per_month: float, staff_cost_per_month: float, income_per_year: float) -> pd.DataFrame:
    d = example_dict()
    d["contracts"]["block"].update(annual_value_gbp=income_per_year, contracted_activity_per_year=12_000)
    scenario = build(d)
    ledger = make_ledger(seed=2, replications=1, months=12, scale=1.0, empty_share=0.0)
    ledger["contacts"] = delivered_per_month
    ledger["staff_cost_gbp"] = staff_cost_per_month
    ledger["days"] = 365.25 / 12  # exactly one year
    ledger["unpaid_overtime_hours"] = 100.0
    ledger["waiting_list_days"] = 0.0
    priced = settle(ledger, "block", scenario.contracts.block, scenario.contract_context())
    return replication_incidence(priced, scenario)


def test_passive_block_deficit_is_unfunded_cost_minus_surplus_on_funded_work_by_hand() -> None:
    # 1,200 contacts a month against 1,000 contracted; £84,000 a month of staff cost: £70 a contact.
    # Income £840,000: funded work costs 12,000 × 70 = £840,000, so no surplus on it; the 2,400
    # unfunded contacts cost £168,000, which is the deficit (£1,008,000 − £840,000).
    row = _block_year(1_200, 84_000, 840_000).iloc[0]
    assert row["unfunded_activity_per_year"] == pytest.approx(2_400)
    assert row["unfunded_cost_gbp_per_year"] == pytest.approx(168_000)
    assert row["surplus_on_funded_gbp_per_year"] == pytest.approx(0.0, abs=1e-6)
    assert row["deficit_gbp_per_year"] == pytest.approx(168_000)
    # Income £900,000: a £60,000 surplus on funded work offsets part: deficit £108,000.
    row = _block_year(1_200, 84_000, 900_000).iloc[0]
    assert row["surplus_on_funded_gbp_per_year"] == pytest.approx(60_000)
    assert row["deficit_gbp_per_year"] == pytest.approx(108_000)
    assert row["deficit_gbp_per_year"] == pytest.approx(
        row["unfunded_cost_gbp_per_year"] - row["surplus_on_funded_gbp_per_year"]
    )


@pytest.mark.parametrize("seed", range(6))
def test_signed_deficit_identity_on_random_ledgers(seed: int) -> None:
    """cost − income = unfunded × u − (income − funded × u) whenever delivered ≥ funded."""
    d = example_dict()
    scenario = build(d)
    ledger = make_ledger(seed=seed, replications=2, months=24, scale=1.3, empty_share=0.0)
    ledger["waiting_list_days"] = 0.0
    priced = settle(ledger, "block", scenario.contracts.block, scenario.contract_context())
    yearly = priced.groupby(["replication", "contract_year"])[["delivered_activity", "funded_activity"]].sum()
    assert (yearly["delivered_activity"] >= yearly["funded_activity"]).all()
    inc = replication_incidence(priced, scenario)
    for rep, months in priced.groupby("replication"):
        years = months["days"].sum() / 365.25
        signed = (months["cost_gbp"].sum() - months["income_gbp"].sum()) / years
        row = inc[inc["replication"] == rep].iloc[0]
        assert signed == pytest.approx(row["unfunded_cost_gbp_per_year"] - row["surplus_on_funded_gbp_per_year"])


def test_unpaid_overtime_is_valued_at_the_paid_overtime_rate() -> None:
    scenario = build(example_dict())
    # FTE-weighted hourly cost: (58 × 43 + 54 × 35 + 26 × 25) / 138 = £36.478; × 1.5 premium.
    hourly = (58 * 43 + 54 * 35 + 26 * 25) / 138 * 1.5
    assert overtime_rate_gbp(scenario, np.array([1, 2, 3])) == pytest.approx(hourly * 1.029 ** np.array([0, 1, 2]))
    row = _block_year(1_200, 84_000, 840_000).iloc[0]
    assert row["unpaid_overtime_hours_per_year"] == pytest.approx(1_200)
    assert row["unpaid_overtime_value_gbp_per_year"] == pytest.approx(1_200 * hourly)


def test_reference_is_passive_and_staffed_to_meet_the_last_years_need() -> None:
    scenario = build(example_dict())
    ref = reference_scenario(scenario)
    assert ref.provider_policy.mode == "passive"
    k = ref.workforce.grades[0].fte / scenario.workforce.grades[0].fte
    assert k > 1
    pairs = zip(ref.workforce.grades, scenario.workforce.grades, strict=True)
    assert all(g.fte == pytest.approx(o.fte * k) for g, o in pairs)
    assert max(r.need_ratio_last_year for r in size_scenario(ref).localities) <= 0.8 + 1e-9
    assert scenario.workforce.grades[0].fte == 58  # the caller's scenario is not changed


def test_an_ample_service_is_its_own_reference_apart_from_the_policy() -> None:
    d = example_dict()
    for g in d["workforce"]["grades"]:
        g["fte"] *= 3
    scenario = build(d)
    ref = reference_scenario(scenario)
    assert [g.fte for g in ref.workforce.grades] == [g.fte for g in scenario.workforce.grades]


def test_extra_measures_are_paired_by_replication() -> None:
    per_rep = pd.DataFrame(
        {
            "contract": ["block"] * 3,
            "replication": [0, 1, 2],
            "waiting_list_days_per_year": [110.0, 205.0, 330.0],
            "admissions_per_year": [12.0, 13.0, 15.0],
            "hospital_cost_gbp_per_year": [100.0, 200.0, 300.0],
        }
    )
    ref = pd.DataFrame(
        {
            "contract": ["block"] * 3,
            "replication": [2, 0, 1],  # any order
            "waiting_list_days_per_year": [300.0, 100.0, 200.0],
            "admissions_per_year": [14.0, 10.0, 13.0],
            "hospital_cost_gbp_per_year": [250.0, 90.0, 200.0],
        }
    )
    out = with_reference(per_rep, ref)
    assert list(out["extra_wait_days_per_year"]) == [10.0, 5.0, 30.0]
    assert list(out["extra_admissions_per_year"]) == [2.0, 0.0, 1.0]
    assert list(out["extra_hospital_cost_gbp_per_year"]) == [10.0, 0.0, 50.0]
    with pytest.raises(ValueError, match="no replication"):
        with_reference(per_rep, ref[ref["replication"] != 1])


def test_an_understaffed_service_burdens_patients_against_the_reference() -> None:
    d = small_dict(population=30_000, years=1.0, warmup_days=60)
    for g in d["workforce"]["grades"]:
        g["fte"] *= 0.8
    d["provider_policy"] = {"mode": "passive"}
    scenario = build(d)
    actual = run_scenario(scenario, 3)
    reference = run_scenario(reference_scenario(scenario), 3)
    per_rep = with_reference(
        replication_incidence(actual.provider, scenario), replication_incidence(reference.provider, scenario)
    )
    table = incidence_table(per_rep).set_index("measure")
    assert set(table.index) == {m.column for m in MEASURES}
    # Same people, fewer staff: every replication waits longer than its own reference.
    assert (per_rep["extra_wait_days_per_year"] > 0).all()
    assert table.loc["extra_admissions_per_year", "ci_low"] > 0
    assert table.loc["unfunded_activity_per_year", "mean"] >= 0


def test_a_passive_ample_service_is_its_own_reference_exactly() -> None:
    """Common random numbers: when the reference is the same simulation, every 'extra' is exactly 0."""
    from fundsim.experiment.runner import run_replications

    d = small_dict(population=20_000, years=0.5, warmup_days=30)
    for g in d["workforce"]["grades"]:
        g["fte"] *= 4
    d["provider_policy"] = {"mode": "passive"}
    results = run_replications(build(d), 2, incidence=True)
    assert results.simulations == 4  # two replications and their references; no passive bracket
    table = results.incidence.set_index("measure")
    assert set(results.incidence["policy"]) == {"passive"}
    for measure in ("extra_wait_days_per_year", "extra_admissions_per_year", "extra_hospital_cost_gbp_per_year"):
        assert table.loc[measure, "mean"] == 0.0
        assert table.loc[measure, "ci_high"] == 0.0


def test_compare_measures_every_contract_under_both_policies() -> None:
    from fundsim.experiment.compare import compare

    d = small_dict(population=20_000, years=0.5, warmup_days=30)
    result = compare(build(d), ["block", "cost_and_volume"], replications=2, risk=False)
    # 2 contracts × 2 replications, plus 2 references and 2 passive runs priced under both contracts.
    assert result.simulations == 8
    inc = result.incidence
    assert set(inc["policy"]) == {"responsive", "passive"}
    assert set(inc["contract"]) == {"block", "cost_and_volume"}
    # The passive bracket is one simulation priced twice: its clinical burden is the same under both.
    passive = inc[inc["policy"] == "passive"].pivot(index="measure", columns="contract", values="mean")
    for measure in ("extra_wait_days_per_year", "referrals_declined_per_year", "visit_deferrals_per_year"):
        assert passive.loc[measure, "block"] == passive.loc[measure, "cost_and_volume"]
    # Under the passive policy the incidence deficit is the summary's absorbed cost of a passive run.
    per_rep = result.incidence_per_replication
    block = per_rep[(per_rep["policy"] == "responsive") & (per_rep["contract"] == "block")]
    summary = result.per_replication[result.per_replication["contract"] == "block"]
    assert list(block["deficit_gbp_per_year"]) == pytest.approx(list(summary["absorbed_gbp_per_year"]))


def test_valuation_prices_only_what_the_scenario_prices_and_keeps_the_sign() -> None:
    from fundsim.experiment.incidence import add_valuation, measures_for, price_sources

    d = example_dict()
    assert measures_for(build(d)) == MEASURES  # off by default: natural units only
    d["valuation"] = {
        "wait_day": {"gbp": 2.5, "source": '=HYPERLINK("x") local estimate'},
        "visit_minute_cut": {"gbp": 0.75, "source": "assumption"},
    }
    scenario = build(d)
    columns = [m.column for m in measures_for(scenario)]
    # Each valued row follows the row it prices.
    assert columns.index("wait_day_value_gbp_per_year") == columns.index("extra_wait_days_per_year") + 1
    assert columns.index("visit_minute_cut_value_gbp_per_year") == columns.index("visit_minutes_cut_per_year") + 1
    assert len(columns) == len(MEASURES) + 2
    per_rep = pd.DataFrame(
        {
            "contract": "block",
            "replication": [0, 1],
            "extra_wait_days_per_year": [400.0, -40.0],
            "visit_minutes_cut_per_year": [1_000.0, 0.0],
        }
    )
    out = add_valuation(per_rep, scenario)
    assert list(out["wait_day_value_gbp_per_year"]) == [1_000.0, -100.0]
    assert list(out["visit_minute_cut_value_gbp_per_year"]) == [750.0, 0.0]
    assert price_sources(scenario)["wait_day_value_gbp_per_year"] == (
        '£2.50 per person-day (=HYPERLINK("x") local estimate)'
    )


def test_a_run_with_valuation_carries_the_priced_rows_and_their_sources() -> None:
    from fundsim.experiment.runner import run_replications

    d = small_dict(population=20_000, years=0.5, warmup_days=30)
    d["valuation"] = {"declined_referral": {"gbp": 100.0, "source": "a local audit"}}
    results = run_replications(build(d), 2, incidence=True)
    inc = results.incidence[results.incidence["policy"] == "responsive"].set_index("measure")
    declined = inc.loc["referrals_declined_per_year"]
    valued = inc.loc["declined_referral_value_gbp_per_year"]
    assert valued["mean"] == pytest.approx(100.0 * declined["mean"])
    assert valued["ci_high"] == pytest.approx(100.0 * declined["ci_high"])
    assert valued["source"] == "£100.00 per referral (a local audit)"
    assert inc.loc["referrals_declined_per_year", "source"] == ""
