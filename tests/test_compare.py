"""Contracts side by side: behaviour, common random numbers, accounting and parallel reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from builders import build, example_dict, modified, small_dict
from click.testing import CliRunner
from scipy import stats

from fundsim import simulate
from fundsim.cli import main
from fundsim.columns import provider_totals
from fundsim.experiment.compare import compare

#: Ledger columns that describe what happened to patients and staff (not money paid).
CLINICAL = [
    "referrals",
    "referrals_declined",
    "assessments",
    "visits_delivered",
    "visits_missed",
    "visit_deferrals",
    "contact_hours",
    "admissions",
    "counterfactual_admissions",
    "waiting_list_end",
    "caseload_end",
    "wait_mean_days",
    "staff_cost_gbp",
    "unpaid_overtime_hours",
]


def _with_policy(d: dict, mode: str) -> dict:
    return modified(d, **{"provider_policy.mode": mode})


@pytest.fixture(scope="module")
def small() -> dict:
    return small_dict(population=40_000, years=1.0)


def test_passive_contract_changes_no_clinical_number(small: dict) -> None:
    """Under a passive provider the contract only moves money."""
    d = _with_policy(small, "passive")
    ledgers = {c: simulate(build(modified(d, contract=c)), 0).ledger for c in ("block", "cost_and_volume", "outcomes")}
    for c in ("cost_and_volume", "outcomes"):
        pd.testing.assert_frame_equal(ledgers[c][CLINICAL], ledgers["block"][CLINICAL])


def test_passive_compare_simulates_once_per_replication(small: dict) -> None:
    result = compare(build(_with_policy(small, "passive")), replications=2, risk=False)
    assert result.simulations == 2 + 2  # one per replication, plus its reference service (incidence)
    assert compare(build(_with_policy(small, "passive")), replications=2, risk=False, incidence=False).simulations == 2
    assert set(result.contracts) == {"block", "cost_and_volume", "capitation", "outcomes", "blended"}
    # Same trace under every contract: every clinical measure identical, money differs.
    per = result.per_replication.set_index(["contract", "replication"])
    for measure in ("admissions_per_year", "delivered_activity_per_year", "wait_mean_days"):
        assert per[measure].groupby("replication").nunique().max() == 1
    assert per["income_gbp_per_year"].groupby("replication").nunique().min() > 1


def test_responsive_cost_and_volume_buys_more_activity_than_block(small: dict) -> None:
    """Demand above funded capacity; a contact priced above unit cost makes hiring pay.

    The block provider gets nothing for extra contacts, so it does not hire (and sheds staff
    when in deficit); the cost-and-volume provider hires. Paired by replication (CRN).
    """
    d = _with_policy(small, "responsive")
    d = modified(d, **{"simulation.horizon_years": 2.0})
    result = compare(build(d), ["block", "cost_and_volume"], replications=3, risk=False)
    per = result.per_replication.pivot(index="replication", columns="contract")
    # The scenario really is over-performing against its block and a contact pays its way under C&V.
    assert (per[("over_performance_pct", "block")] > 0).all()
    unit_cost = per[("cost_gbp_per_year", "block")] / per[("delivered_activity_per_year", "block")]
    assert (unit_cost < d["contracts"]["cost_and_volume"]["price_gbp"]).all()
    extra = per[("delivered_activity_per_year", "cost_and_volume")] - per[("delivered_activity_per_year", "block")]
    assert (extra > 0).all()
    assert per[("paid_hours_per_year", "cost_and_volume")].mean() > per[("paid_hours_per_year", "block")].mean()


def test_accounting_identities_on_a_real_comparison(small: dict) -> None:
    result = compare(build(_with_policy(small, "passive")), replications=2, risk=False)
    p = result.provider
    np.testing.assert_allclose(p["surplus_gbp"], p["income_gbp"] - p["cost_gbp"], rtol=1e-12)
    np.testing.assert_allclose(
        p["commissioner_spend_gbp"], p["income_gbp"] + p["hospital_cost_gbp"] - p["hospital_cost_borne_gbp"], rtol=1e-12
    )
    totals = p.groupby(["contract", "replication"])[["income_gbp", "cost_gbp", "surplus_gbp"]].sum()
    np.testing.assert_allclose(totals["surplus_gbp"], totals["income_gbp"] - totals["cost_gbp"], rtol=1e-9)
    # The blended parts add up to its income, month by month.
    b = p[p["contract"] == "blended"]
    np.testing.assert_allclose(b["pay_fixed_gbp"] + b["pay_variable_gbp"] + b["pay_incentive_gbp"], b["income_gbp"])


def test_jobs_do_not_change_the_numbers(small: dict) -> None:
    sc = build(_with_policy(small, "responsive"))
    one = compare(sc, ["block", "capitation"], replications=2, jobs=1, risk=False)
    two = compare(sc, ["block", "capitation"], replications=2, jobs=2, risk=False)
    pd.testing.assert_frame_equal(one.per_replication, two.per_replication)
    pd.testing.assert_frame_equal(one.provider, two.provider)
    pd.testing.assert_frame_equal(one.summary, two.summary)


def test_common_random_numbers_narrow_the_difference_at_least_threefold() -> None:
    """95% CI half-width of the block − cost-and-volume difference in admissions, CRN vs independent.

    With CRN both contracts see the same people and draws (replication r, same seed); with
    independent streams the cost-and-volume run uses another master seed. The half-widths share n,
    so their ratio is the ratio of the standard deviations of the paired differences.
    """
    d = modified(example_dict(), **{"simulation.horizon_years": 1.0, "provider_policy.mode": "responsive"})
    n = 6
    base = build(d)
    other_seed = build(modified(d, **{"simulation.seed": d["simulation"]["seed"] + 7919}))
    admissions = {}
    for label, sc, contract in (
        ("block", base, "block"),
        ("cv_crn", base, "cost_and_volume"),
        ("cv_independent", other_seed, "cost_and_volume"),
    ):
        variant = sc.model_copy(update={"contract": contract})
        admissions[label] = np.array(
            [provider_totals(simulate(variant, r).ledger)["admissions"].sum() for r in range(n)]
        )
    t = stats.t.ppf(0.975, n - 1)
    half_crn = t * np.std(admissions["cv_crn"] - admissions["block"], ddof=1) / np.sqrt(n)
    half_ind = t * np.std(admissions["cv_independent"] - admissions["block"], ddof=1) / np.sqrt(n)
    assert half_ind >= 3.0 * half_crn, (half_crn, half_ind)


def test_cli_compare_writes_tidy_tables_and_manifest(tmp_path, small: dict) -> None:
    import yaml

    scenario = tmp_path / "small.yaml"
    d = _with_policy(small, "passive")
    # Growth large enough (+22% referrals over the year on average) that more delivered activity is
    # a signal, not two replications' noise.
    d["risk_view"] = {"demand_growth_per_year": [0.0, 0.5], "replications": 2}
    scenario.write_text(yaml.safe_dump(d), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["compare", str(scenario), "-r", "2", "-j", "1", "-o", str(out), "-q", "-c", "block,outcomes"]
    )
    assert result.exit_code == 0, result.output
    for name in (
        "comparison.parquet",
        "comparison.csv",
        "replications.csv",
        "risk.csv",
        "outcomes.csv",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["contract"]) == {"block", "outcomes"}
    # The paired difference of the baseline from itself is exactly zero.
    assert (table.loc[table["contract"] == "block", "diff_mean"] == 0).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["contracts"] == ["block", "outcomes"]
    # passive: one per replication at 3 growth values, plus a reference service per replication
    assert manifest["simulations"] == 2 + 2 * 2 + 2
    risk = pd.read_csv(out / "risk.csv")
    assert sorted(risk["demand_growth_per_year"].unique()) == [0.0, 0.5]
    # Under a block the provider's income does not move with demand: the provider carries the risk.
    income = risk[risk["measure"] == "income_gbp_per_year"].set_index(["contract", "demand_growth_per_year"])["mean"]
    assert income[("block", 0.5)] == pytest.approx(income[("block", 0.0)], rel=1e-12)
    activity = risk[risk["measure"] == "delivered_activity_per_year"].set_index(["contract", "demand_growth_per_year"])
    assert activity.loc[("block", 0.5), "mean"] > activity.loc[("block", 0.0), "mean"]


def test_cli_compare_rejects_unknown_contract(tmp_path) -> None:
    from builders import EXAMPLE

    result = CliRunner().invoke(main, ["compare", str(EXAMPLE), "-c", "block,bogus", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "bogus" in result.output
    assert "Traceback" not in result.output
