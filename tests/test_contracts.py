"""The block contract and the money identities, on hand-made tables and on simulated ledgers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build, modified, small_dict

from fundsim import run_scenario
from fundsim.contracts.accounting import settle
from fundsim.contracts.base import ContractContext
from fundsim.contracts.block import BlockContract


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


def test_summary_ci_brackets_mean(pair: tuple) -> None:
    s = pair[0].summary.set_index("measure")
    finite = s.dropna()
    assert (finite["ci_low"] <= finite["mean"] + 1e-9).all()
    assert (finite["mean"] <= finite["ci_high"] + 1e-9).all()
