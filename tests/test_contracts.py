"""The block contract and the money identities, on hand-made tables and on simulated ledgers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build, modified, small_dict
from scipy import stats

from fundsim import run_scenario
from fundsim.contracts.accounting import settle
from fundsim.contracts.base import ContractContext
from fundsim.contracts.block import BlockContract
from fundsim.experiment.stats import mean_ci


def _periods(contacts: list[float], cost: list[float], years: list[int]) -> pd.DataFrame:
    n = len(contacts)
    return pd.DataFrame(
        {
            "replication": 0,
            "month": pd.date_range("2025-04-01", periods=n, freq="MS"),
            "contract_year": years,
            "days": 30.0,
            "contacts": contacts,
            "contact_hours": [c * 0.5 for c in contacts],
            "staff_cost_gbp": cost,
            "hospital_cost_gbp": [1000.0] * n,
        }
    )


def test_block_trace_by_hand() -> None:
    """Year-2 income = 1.2m × (1 + 0.03 − 0.01) / 12 = 102,000; contracted 1,200 / 12 = 100 a month."""
    cfg = BlockContract(
        annual_value_gbp=1_200_000,
        contracted_activity_per_year=1200,
        cost_uplift_per_year=0.03,
        efficiency_per_year=0.01,
    )
    periods = _periods([90, 130, 100], [110_000, 95_000, 102_000], [1, 1, 2])
    out = settle(periods, "block", cfg, ContractContext(population=1000))
    assert out["income_gbp"].tolist() == pytest.approx([100_000, 100_000, 102_000])
    assert out["contracted_activity"].tolist() == pytest.approx([100, 100, 100])
    assert out["over_performance_activity"].tolist() == pytest.approx([0, 30, 0])
    assert out["surplus_gbp"].tolist() == pytest.approx([-10_000, 5_000, 0])
    assert out["absorbed_gbp"].tolist() == pytest.approx([10_000, 0, 0])
    # 30 contacts over at a unit cost of 95,000 / 130.
    assert out["over_performance_cost_gbp"].tolist() == pytest.approx([0, 30 * 95_000 / 130, 0])
    assert out["commissioner_spend_gbp"].tolist() == pytest.approx([101_000, 101_000, 103_000])


def test_block_counts_hours_when_asked() -> None:
    cfg = BlockContract(annual_value_gbp=1.0e6, contracted_activity_per_year=600, activity_unit="contact_hours")
    out = settle(_periods([100, 120], [1, 1], [1, 1]), "block", cfg, ContractContext(population=1))
    assert out["delivered_activity"].tolist() == pytest.approx([50, 60])


@pytest.fixture(scope="module")
def pair() -> tuple:
    d = small_dict(population=30_000, years=1.0, warmup_days=60)
    doubled = modified(
        d, **{"localities.0.referral_rate_per_1000_per_year": 2 * d["localities"][0]["referral_rate_per_1000_per_year"]}
    )
    return run_scenario(build(d), 2), run_scenario(build(doubled), 2)


def test_money_identities_on_simulated_ledger(pair: tuple) -> None:
    for res in pair:
        p = res.provider
        np.testing.assert_allclose(p["surplus_gbp"], p["income_gbp"] - p["cost_gbp"])
        np.testing.assert_allclose(p["absorbed_gbp"], np.maximum(0.0, p["cost_gbp"] - p["income_gbp"]))
        np.testing.assert_allclose(p["commissioner_spend_gbp"], p["income_gbp"] + p["hospital_cost_gbp"])
        assert (p["income_gbp"] >= 0).all()
        # Provider totals are the sum of the localities.
        np.testing.assert_allclose(p["contacts"].sum(), res.ledger["contacts"].sum())


def test_block_income_does_not_move_with_demand(pair: tuple) -> None:
    base, doubled = pair
    np.testing.assert_array_equal(base.provider["income_gbp"], doubled.provider["income_gbp"])
    assert doubled.provider["delivered_activity"].sum() > base.provider["delivered_activity"].sum()
    assert doubled.provider["absorbed_gbp"].sum() >= base.provider["absorbed_gbp"].sum()


def test_summary_ci_is_the_student_t_interval(pair: tuple) -> None:
    """The summary's interval is scipy's two-sided 95% Student-t interval of the per-replication values."""
    res = pair[1]
    s = res.summary.set_index("measure")
    checked = 0
    for measure in s.index:
        x = res.per_replication[measure].dropna().to_numpy(dtype=float)
        assert s.loc[measure, "mean"] == pytest.approx(x.mean(), rel=1e-12, abs=1e-9), measure
        if x.std(ddof=1) == 0:  # a constant measure: a zero-width interval at the mean
            assert s.loc[measure, "ci_low"] == pytest.approx(x.mean()) == s.loc[measure, "ci_high"], measure
            continue
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert (s.loc[measure, "ci_low"], s.loc[measure, "ci_high"]) == pytest.approx((lo, hi), rel=1e-9), measure
        checked += 1
    assert checked >= 10


def test_mean_ci_covers_a_known_mean_95_percent_of_the_time() -> None:
    """Coverage on synthetic normal samples of 5: a z interval (~88%) or a population s.d. (~92%) fail this."""
    rng = np.random.default_rng(20251)
    trials, n, mu = 4000, 5, 3.0
    covered = 0
    for _ in range(trials):
        _, lo, hi = mean_ci(rng.normal(mu, 2.0, n), 0.95)
        covered += lo <= mu <= hi
    # Binomial(4000, 0.95): a 99.9% two-sided band is 0.95 ± 3.29·sqrt(0.95·0.05/4000) = 0.95 ± 0.0113.
    band = 3.29 * np.sqrt(0.95 * 0.05 / trials)
    assert abs(covered / trials - 0.95) <= band, covered / trials


@pytest.fixture(scope="module")
def capitation_acute_and_plain() -> tuple:
    """Capitation with and without the acute budget, passive provider: the same simulated ledger."""
    d = modified(
        small_dict(population=30_000, years=1.0, warmup_days=60),
        # A reference below what the service delivers, so there is over-performance to price.
        **{
            "contract": "capitation",
            "provider_policy.mode": "passive",
            "contracts.capitation.reference_activity_per_year": 12_000.0,
        },
    )
    acute = modified(
        d,
        **{
            "contracts.capitation.include_acute_budget": True,
            "contracts.capitation.acute_budget_per_head_gbp_per_year": 21.0,
        },
    )
    return run_scenario(build(acute), 2), run_scenario(build(d), 2)


def test_over_performance_cost_is_valued_at_community_staff_unit_cost(capitation_acute_and_plain: tuple) -> None:
    """Headline cost of over-performance = over × (staff cost ÷ delivered) ÷ years, from horizon totals.

    One name, one meaning: the monthly ``over_performance_cost_gbp`` prices at staff cost per unit
    of activity, so the headline does too; the hospital cost the acute budget makes the provider
    bear is not a cost of a contact.
    """
    acute, plain = capitation_acute_and_plain
    pd.testing.assert_frame_equal(acute.ledger, plain.ledger)
    assert (acute.provider["hospital_cost_borne_gbp"] > 0).all()
    assert (plain.provider["hospital_cost_borne_gbp"] == 0).all()
    for res in (acute, plain):
        per_rep = res.per_replication.set_index("replication")
        for rep, months in res.provider.groupby("replication"):
            years = months["days"].sum() / 365.25
            delivered = months["delivered_activity"].sum()
            over = max(0.0, delivered - months["contracted_activity"].sum())
            expected = over * months["staff_cost_gbp"].sum() / delivered / years
            assert over > 0
            assert per_rep.loc[rep, "over_performance_cost_gbp_per_year"] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        acute.per_replication["over_performance_cost_gbp_per_year"],
        plain.per_replication["over_performance_cost_gbp_per_year"],
        rtol=1e-12,
    )
    # ...while the provider's total cost does carry the hospital cost it bears.
    assert (acute.per_replication["cost_gbp_per_year"] > plain.per_replication["cost_gbp_per_year"]).all()
