"""Unfunded activity by each contract's own payment rule, on hand-made ledgers worked out by hand.

One contract year of 12,000 contacts a month (144,000 a year) against 130,000 contracted or agreed.
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import build, example_dict
from test_contract_properties import make_ledger

from fundsim.contracts.accounting import settle

DELIVERED_PER_MONTH = 12_000.0


def _ledger() -> pd.DataFrame:
    ledger = make_ledger(seed=1, replications=1, months=12, scale=1.0, empty_share=0.0)
    ledger["contacts"] = DELIVERED_PER_MONTH
    return ledger


def _year_unfunded(contract: str, **changes: object) -> float:
    """max(0, delivered − funded) over the contract year, after pricing with settle()."""
    d = example_dict()
    d["contracts"][contract].update(changes)
    scenario = build(d)
    out = settle(_ledger(), contract, getattr(scenario.contracts, contract), scenario.contract_context())
    assert (out["unfunded_activity"] >= 0).all()
    return max(0.0, out["delivered_activity"].sum() - out["funded_activity"].sum())


def test_block_funds_only_the_contracted_activity() -> None:
    assert _year_unfunded("block") == pytest.approx(144_000 - 130_000)


def test_cost_and_volume_at_full_marginal_rate_funds_everything() -> None:
    assert _year_unfunded("cost_and_volume", marginal_rate_above=1.0) == pytest.approx(0.0, abs=1e-6)


def test_cost_and_volume_at_half_rate_funds_half_of_what_lies_above_the_band() -> None:
    # band top 130,000 × 1.03 = 133,900; paid volume 133,900 + 0.5 × (144,000 − 133,900) = 138,950.
    assert _year_unfunded("cost_and_volume", marginal_rate_above=0.5) == pytest.approx(144_000 - 138_950)


def test_cost_and_volume_cap_leaves_what_it_cuts_off_unfunded() -> None:
    # A cap of 73.08 × 135,000 a year pays for 135,000 contacts at full price.
    cap = 73.08 * 135_000
    got = _year_unfunded("cost_and_volume", marginal_rate_above=1.0, cap_gbp_per_year=cap)
    assert got == pytest.approx(144_000 - 135_000)


def test_blended_half_funds_the_activity_above_plan() -> None:
    # agreed 130,000; above plan paid at 50% of the unit price: funded 130,000 + 0.5 × 14,000.
    assert _year_unfunded("blended") == pytest.approx(0.5 * 14_000)


def test_blended_with_no_variable_element_is_a_block() -> None:
    assert _year_unfunded("blended", variable_share_of_unit_price=0.0) == pytest.approx(14_000)


def test_capitation_and_outcomes_fund_their_reference_activity() -> None:
    assert _year_unfunded("capitation") == pytest.approx(14_000)
    assert _year_unfunded("outcomes") == pytest.approx(14_000)
    # With no reference activity there is no activity to call unfunded.
    assert _year_unfunded("capitation", reference_activity_per_year=None) == pytest.approx(0.0)


def test_under_plan_nothing_is_unfunded() -> None:
    for contract in ("block", "cost_and_volume", "blended", "capitation", "outcomes"):
        d = example_dict()
        scenario = build(d)
        ledger = _ledger()
        ledger["contacts"] = 9_000.0  # 108,000 a year, below every plan
        out = settle(ledger, contract, getattr(scenario.contracts, contract), scenario.contract_context())
        assert out["unfunded_activity"].sum() == pytest.approx(0.0, abs=1e-9), contract
