"""The rebased block (``block_rebased``): a hand-worked multi-year example, its refusal of rule none,
and its equality with the block when its rebasing cannot move the value (a cap of 0).

Expected values are worked by hand in the docstrings (the same numbers as docs/contracts.md,
"Rebased block"), from the rule V_y = clip(T_y, (1 − c)·V_(y−1)·g, (1 + c)·V_(y−1)·g).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import build, small_dict
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from test_contract_properties import CONTEXT, FAST, block_rebased_configs, ledgers

from fundsim import compare_scenario
from fundsim.contracts import REGISTRY
from fundsim.contracts.block import BlockContract
from fundsim.contracts.block_rebased import RebasedBlockContract
from fundsim.contracts.rebasing import Rebasing
from fundsim.errors import ScenarioError
from fundsim.scenario import load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parents[1]
TEN_YEAR = ROOT / "scenarios" / "ten-year.yaml"


def months_of(contacts_per_year: list[float], replication: int = 0) -> pd.DataFrame:
    """A provider table of whole contract years, each year's contacts spread evenly over 12 months."""
    rows = []
    start = pd.Timestamp("2025-04-01")
    for y, total in enumerate(contacts_per_year):
        for m in range(12):
            rows.append(
                {
                    "replication": float(replication),
                    "month": start + pd.DateOffset(months=12 * y + m),
                    "contract_year": float(y + 1),
                    "contacts": total / 12.0,
                    "contact_hours": total / 24.0,
                }
            )
    return pd.DataFrame(rows)


def yearly(out: pd.DataFrame, ledger: pd.DataFrame, column: str = "income_gbp") -> list[float]:
    return out[column].groupby(ledger["contract_year"]).sum().tolist()


#: The ten-year scenario's rebased block: £9.5m for 130,000 contacts (£73.08 a contact), uplift 2.9%,
#: efficiency 1.1% (g = 1.018), outturn of the year before, at most 5% from the rolled-forward value.
TEN_YEAR_REBASED = RebasedBlockContract(
    annual_value_gbp=9_500_000,
    contracted_activity_per_year=130_000,
    cost_uplift_per_year=0.029,
    efficiency_per_year=0.011,
    rebasing=Rebasing(rule="outturn", lag_years=1, max_change_share=0.05),
)


def test_worked_example_cap_binds_up_then_down() -> None:
    """Years deliver 140,000, 125,000 and 150,000 contacts; p = 9,500,000 / 130,000 = £73.0769 a contact.

    Year 1: V_1 = £9,500,000.
    Year 2: target p × 1.018 × 140,000 = 9,671,000 × 140/130 = £10,415,076.92; rolled forward
            9,500,000 × 1.018 = £9,671,000; at most 1.05 × 9,671,000 = £10,154,550 (binds):
            V_2 = £10,154,550; contracted activity 10,154,550 / (p × 1.018) = 1.05 × 130,000 = 136,500.
    Year 3: target p × 1.018² × 125,000 = 9,845,078 × 125/130 = £9,466,421.15; rolled forward
            10,154,550 × 1.018 = £10,337,331.90; at least 0.95 × that = £9,820,465.31 (binds):
            V_3 = £9,820,465.31; contracted activity 0.95 × 1.05 × 130,000 = 129,675.
    Year 3's own 150,000 contacts move nothing: a value reads completed earlier years only.
    """
    ledger = months_of([140_000, 125_000, 150_000])
    out = REGISTRY["block_rebased"].pay(ledger, TEN_YEAR_REBASED, CONTEXT)
    assert yearly(out, ledger) == pytest.approx([9_500_000, 10_154_550, 9_820_465.305])
    assert yearly(out, ledger, "contracted_activity") == pytest.approx([130_000, 136_500, 129_675])
    assert yearly(out, ledger, "funded_activity") == pytest.approx([130_000, 136_500, 129_675])
    assert out["income_gbp"].iloc[12] == pytest.approx(10_154_550 / 12)
    # The block rolled forward on the same ledger: 9.5m × 1.018^(y − 1).
    block = REGISTRY["block"].pay(ledger, BlockContract(**TEN_YEAR_REBASED.model_dump(exclude={"rebasing"})), CONTEXT)
    assert yearly(block, ledger) == pytest.approx([9_500_000, 9_671_000, 9_845_078])
    other = months_of([140_000, 125_000, 90_000])
    np.testing.assert_allclose(
        REGISTRY["block_rebased"].pay(other, TEN_YEAR_REBASED, CONTEXT)["income_gbp"], out["income_gbp"]
    )


def test_cap_zero_equals_the_block_exactly() -> None:
    """A cap of 0 keeps V_y = V_(y−1) × g: the block rolled forward, month by month, whatever the outturn."""
    ledger = pd.concat([months_of([140_000, 125_000, 150_000], 0), months_of([90_000, 160_000, 120_000], 1)])
    ledger = ledger.reset_index(drop=True)
    frozen = TEN_YEAR_REBASED.model_copy(update={"rebasing": Rebasing(rule="outturn", max_change_share=0.0)})
    block = BlockContract(**TEN_YEAR_REBASED.model_dump(exclude={"rebasing"}))
    rebased = REGISTRY["block_rebased"].pay(ledger, frozen, CONTEXT)
    plain = REGISTRY["block"].pay(ledger, block, CONTEXT)
    for col in ("income_gbp", "contracted_activity", "delivered_activity", "funded_activity"):
        np.testing.assert_allclose(rebased[col], plain[col], rtol=1e-12, err_msg=col)
    # By hand: 9,500,000 / 12 a month in year 1, × 1.018 in year 2, × 1.018² in year 3.
    assert rebased["income_gbp"].iloc[[0, 12, 24]].tolist() == pytest.approx(
        [9_500_000 / 12, 9_671_000 / 12, 9_845_078 / 12]
    )


def test_rule_none_is_refused_and_rebasing_required() -> None:
    with pytest.raises(ValidationError, match=r"block_rebased needs rebasing\.rule outturn or needs"):
        RebasedBlockContract(annual_value_gbp=1e6, contracted_activity_per_year=1e4, rebasing=Rebasing(rule="none"))
    with pytest.raises(ValidationError, match="rebasing"):
        RebasedBlockContract(annual_value_gbp=1e6, contracted_activity_per_year=1e4)  # type: ignore[call-arg]


def test_rule_none_in_a_scenario_is_a_located_error() -> None:
    text = TEN_YEAR.read_text(encoding="utf-8")
    old = "      rule: outturn                    # year y's value"
    assert text.count(old) == 1
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(
            text.replace(old, "      rule: none                       # year y's value"), "ten-year.yaml"
        )
    problems = info.value.problems
    assert len(problems) == 1, problems
    message = str(info.value)
    assert "ten-year.yaml" in message
    assert "contracts.block_rebased" in message
    assert "configure it under contracts.block" in message


def test_ten_year_scenario_has_both_blocks_from_the_same_money() -> None:
    scenario = load_scenario(TEN_YEAR)
    block, rebased = scenario.contracts.block, scenario.contracts.block_rebased  # type: ignore[attr-defined]
    assert block.rebasing.rule == "none"
    assert rebased.rebasing.rule == "outturn"
    assert rebased.rebasing.lag_years == 1
    assert rebased.rebasing.max_change_share == 0.05
    assert rebased.annual_value_gbp == block.annual_value_gbp
    assert rebased.contracted_activity_per_year == block.contracted_activity_per_year
    assert scenario.provider_policy.reserves is not None


def test_retender_scenario_is_ten_year_plus_retendering_only() -> None:
    """The pair of runs (re-let block vs long rebased block) differs only by the re-tendering section."""
    import yaml

    base = yaml.safe_load(TEN_YEAR.read_text(encoding="utf-8"))
    other = yaml.safe_load((ROOT / "scenarios" / "ten-year-retender.yaml").read_text(encoding="utf-8"))
    retendering = other["provider_policy"].pop("retendering")
    for d in (base, other):
        d.pop("name")
        d.pop("description")
    assert other == base
    assert retendering["every_years"] == 3
    assert load_scenario(ROOT / "scenarios" / "ten-year-retender.yaml").provider_policy.retendering is not None


# --------------------------------------------------------------------------- properties


@FAST
@given(data=st.data())
def test_a_year_is_paid_on_completed_years_only(data: st.DataObject) -> None:
    """Changing the last year's activity changes no payment of that year or any earlier one; priced
    month by month (the provider's review) each month is paid what the whole ledger pays it."""
    ledger = data.draw(ledgers(min_months=24, max_months=36))
    config = data.draw(block_rebased_configs(ledger))
    contract = REGISTRY["block_rebased"]
    last = ledger["contract_year"] == ledger["contract_year"].max()
    other = ledger.copy()
    other.loc[last, ["contacts", "contact_hours"]] *= data.draw(st.floats(0.0, 3.0))
    np.testing.assert_array_equal(
        contract.pay(ledger, config, CONTEXT)["income_gbp"], contract.pay(other, config, CONTEXT)["income_gbp"]
    )
    one = ledger[ledger["replication"] == ledger["replication"].iloc[0]].reset_index(drop=True)
    final = contract.pay(one, config, CONTEXT)["income_gbp"].to_numpy()
    progressive = [contract.pay(one.iloc[: k + 1], config, CONTEXT)["income_gbp"].iloc[-1] for k in range(len(one))]
    np.testing.assert_allclose(progressive, final, rtol=1e-9, atol=1e-6)


@FAST
@given(data=st.data())
def test_capped_value_stays_in_its_band(data: st.DataObject) -> None:
    """With a cap c each year's value is within (1 ± c) × last year's value × g (to rounding)."""
    ledger = data.draw(ledgers(min_months=24, max_months=36))
    config = data.draw(block_rebased_configs(ledger))
    cap = config.rebasing.max_change_share
    out = REGISTRY["block_rebased"].pay(ledger, config, CONTEXT)
    g = 1.0 + config.cost_uplift_per_year - config.efficiency_per_year
    for _, rows in out.groupby(ledger["replication"]):
        values = rows["annual_value_gbp"].groupby(ledger.loc[rows.index, "contract_year"]).first().to_numpy()
        assert values[0] == pytest.approx(config.annual_value_gbp, rel=1e-12)
        if cap is None:
            continue
        for before, after in itertools.pairwise(values):
            assert (1 - cap) * before * g * (1 - 1e-12) <= after <= (1 + cap) * before * g * (1 + 1e-12)


# --------------------------------------------------------------------------- in a comparison


def test_block_and_rebased_block_share_year_one_exactly() -> None:
    """Common random numbers: both blocks pay the same in year 1, so the provider decides the same and
    year 1's ledger is bit-identical; the rebased value then moves within 5% of the rolled-forward one."""
    d = small_dict(population=20_000, years=2.0, warmup_days=30)
    d["contracts"]["block_rebased"] = {
        **d["contracts"]["block"],
        "rebasing": {"rule": "outturn", "lag_years": 1, "max_change_share": 0.05},
    }
    result = compare_scenario(build(d), ["block", "block_rebased"], 1, risk=False, incidence=False)
    assert result.baseline == "block"
    ledger = result.ledger
    year1 = [
        ledger[(ledger["contract"] == c) & (ledger["contract_year"] == 1)]
        .drop(columns="contract")
        .reset_index(drop=True)
        for c in ("block", "block_rebased")
    ]
    pd.testing.assert_frame_equal(year1[0], year1[1], check_exact=True)
    provider = result.provider
    rebased = provider[(provider["contract"] == "block_rebased") & (provider["contract_year"] == 2)]
    block = provider[(provider["contract"] == "block") & (provider["contract_year"] == 2)]
    ratio = rebased["income_gbp"].sum() / block["income_gbp"].sum()
    assert abs(ratio - 1.0) <= 0.05 + 1e-12
