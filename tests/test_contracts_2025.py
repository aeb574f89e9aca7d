"""Rebasing rules and the payment mechanisms in force (NHS Payment Scheme 2025/26, year of care).

Hand-worked multi-year examples (the arithmetic is in each test's docstring, the same numbers as
docs/contracts.md), then properties on random ledgers: a rebased value uses completed years only,
so a year priced month by month (the provider's monthly review) agrees with the year priced at the
end; a cap of 0 is no rebasing; a fixed payment never moves with its own year's activity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import build, small_dict
from hypothesis import given
from hypothesis import strategies as st
from test_contract_properties import (
    CONTEXT,
    FAST,
    KPI_BONUSES,
    aligned_payment_configs,
    blended_configs,
    block_configs,
    ledgers,
    low_volume_block_configs,
    outcomes_ledger,
    rebasings,
    year_of_care_configs,
)

from fundsim import compare_scenario
from fundsim.contracts import REGISTRY
from fundsim.contracts.aligned_payment import AlignedPaymentContract
from fundsim.contracts.base import ContractContext
from fundsim.contracts.blended import BlendedContract
from fundsim.contracts.block import BlockContract
from fundsim.contracts.low_volume_block import LowVolumeBlockContract
from fundsim.contracts.rebasing import Rebasing, need_weighted_population
from fundsim.contracts.year_of_care import YearOfCareContract


def pay(name: str, ledger: pd.DataFrame, config, context: ContractContext = CONTEXT) -> pd.DataFrame:
    return REGISTRY[name].pay(ledger, config, context)


def months_of(per_year: list[float], **extra: list[float] | float) -> pd.DataFrame:
    """One replication, 12 months a year, each year's contacts spread evenly over its months."""
    n = 12 * len(per_year)
    contacts = [v / 12 for v in per_year for _ in range(12)]
    base = {
        "replication": 0.0,
        "month": pd.date_range("2025-04-01", periods=n, freq="MS"),
        "contract_year": [float(m // 12 + 1) for m in range(n)],
        "days": 30.0,
        "contacts": contacts,
        "contact_hours": [c * 0.6 for c in contacts],
        "staff_cost_gbp": 100_000.0,
        "hospital_cost_gbp": 50_000.0,
    }
    return pd.DataFrame(base | extra)


def year_values(out: pd.DataFrame, ledger: pd.DataFrame, column: str = "income_gbp") -> list[float]:
    return out[column].groupby(ledger["contract_year"]).sum().tolist()


# --------------------------------------------------------------------------- rebasing, by hand

#: £1.2m for 12,000 contacts: an implied price of £100 a contact; net uplift g = 1 + 0.03 − 0.01 = 1.02.
OUTTURN_BLOCK = BlockContract(
    annual_value_gbp=1_200_000,
    contracted_activity_per_year=12_000,
    cost_uplift_per_year=0.03,
    efficiency_per_year=0.01,
    rebasing=Rebasing(rule="outturn", lag_years=1, max_change_share=0.05),
)


def test_outturn_rebasing_worked_example() -> None:
    """Outturn, lag 1, cap 5%: the cap binds in year 2 and not in year 3.

    Year 1 delivers 13,200 contacts, year 2 12,480, year 3 12,000 (contacts do not move year 3's pay).
    Year 1: V_1 = £1,200,000 (£100,000 a month).
    Year 2: target = 100 × 1.02 × 13,200 = £1,346,400; rolled forward 1,200,000 × 1.02 = £1,224,000;
            cap ±5% → at most 1.05 × 1,224,000 = £1,285,200 < target, so V_2 = £1,285,200 (binds);
            contracted activity = 1,285,200 / (100 × 1.02) = 12,600 contacts.
    Year 3: target = 100 × 1.02² × 12,480 = 100 × 1.0404 × 12,480 = £1,298,419.20; rolled forward
            1,285,200 × 1.02 = £1,310,904; band 0.95–1.05 × that = £1,245,358.80–£1,376,449.20, so the
            target stands: V_3 = £1,298,419.20 (£108,201.60 a month); contracted activity 12,480.
    """
    ledger = months_of([13_200, 12_480, 12_000])
    out = pay("block", ledger, OUTTURN_BLOCK)
    assert year_values(out, ledger) == pytest.approx([1_200_000, 1_285_200, 1_298_419.20])
    assert out["income_gbp"].iloc[24] == pytest.approx(108_201.60)
    assert year_values(out, ledger, "contracted_activity") == pytest.approx([12_000, 12_600, 12_480])
    # The roll-forward reference the report compares with: 1.2m, 1.224m, 1,248,480.
    assert out["rolled_forward_value_gbp"].iloc[[0, 12, 24]].tolist() == pytest.approx(
        [1_200_000, 1_224_000, 1_248_480]
    )

    # No cap: the targets themselves, £1,346,400 in year 2.
    free = OUTTURN_BLOCK.model_copy(update={"rebasing": Rebasing(rule="outturn", lag_years=1)})
    assert year_values(pay("block", ledger, free), ledger) == pytest.approx([1_200_000, 1_346_400, 1_298_419.20])
    # Lag 2: year 3 is set by year 1 (100 × 1.0404 × 13,200 = £1,373,328); year 2 has no basis and rolls forward.
    lag2 = OUTTURN_BLOCK.model_copy(update={"rebasing": Rebasing(rule="outturn", lag_years=2)})
    assert year_values(pay("block", ledger, lag2), ledger) == pytest.approx([1_200_000, 1_224_000, 1_373_328])
    # Cap 0 is no rebasing: 1.2m × 1.02^(y − 1).
    frozen = OUTTURN_BLOCK.model_copy(update={"rebasing": Rebasing(rule="outturn", max_change_share=0.0)})
    assert year_values(pay("block", ledger, frozen), ledger) == pytest.approx([1_200_000, 1_224_000, 1_248_480])


def test_outturn_uses_completed_years_only() -> None:
    """A year with fewer than 12 months in the ledger is no basis: the next year rolls forward."""
    ledger = months_of([13_200, 12_480])
    partial = ledger.drop(index=0).reset_index(drop=True)  # year 1 lost its first month
    out = pay("block", partial, OUTTURN_BLOCK)
    assert out["income_gbp"].iloc[-1] == pytest.approx(1_224_000 / 12)
    # Year 2 priced alone (no history in the frame) rolls forward too.
    alone = ledger[ledger["contract_year"] == 2].reset_index(drop=True)
    assert pay("block", alone, OUTTURN_BLOCK)["income_gbp"].iloc[0] == pytest.approx(1_224_000 / 12)


def test_needs_rebasing_worked_example() -> None:
    """Needs: locality weights 1.0 / 1.2 / 0.9, tier weights 0.8 / 1.0 / 1.5, £40 a weighted head, cap 5%.

    Weighted people = 100,000 + 1.2 × 90,000 + 0.9 × 60,000 = 262,000; tier factor on the mix
    0.50 / 0.35 / 0.15 = 0.4 + 0.35 + 0.225 = 0.975; P_w = 255,450; needs value 40 × 255,450 =
    £10,218,000 in year-1 money. Block £9.5m for 130,000 contacts, default uplift g = 1.018.
    Year 2: target 10,218,000 × 1.018 = £10,401,924; rolled forward 9,671,000; cap 1.05 × 9,671,000 =
            £10,154,550 (binds).
    Year 3: target 10,218,000 × 1.018² = £10,589,158.632; rolled forward 10,154,550 × 1.018 =
            £10,337,331.90, cap 1.05 × that = £10,854,198.50 (does not bind): V_3 = £10,589,158.632.
            Contracted activity = V_3 / (9,500,000 / 130,000 × 1.018²) = 10,218,000 × 130,000 / 9,500,000
            = 139,825.26 contacts (10,218 × 13.684 21).
    """
    rebasing = Rebasing(
        rule="needs",
        need_rate_gbp_per_weighted_head=40,
        locality_need_weights={"North": 1.0, "Central": 1.2, "South": 0.9},
        tier_need_weights={"low": 0.8, "medium": 1.0, "high": 1.5},
        max_change_share=0.05,
    )
    assert need_weighted_population(rebasing, CONTEXT) == pytest.approx(255_450)
    cfg = BlockContract(annual_value_gbp=9_500_000, contracted_activity_per_year=130_000, rebasing=rebasing)
    ledger = months_of([148_000, 150_000, 152_000])
    out = pay("block", ledger, cfg)
    assert year_values(out, ledger) == pytest.approx([9_500_000, 10_154_550, 10_589_158.632])
    assert year_values(out, ledger, "contracted_activity")[2] == pytest.approx(139_825.26, abs=0.01)
    # Needs does not read activity: any activity gives the same payments.
    other = months_of([1.0, 2.0, 3.0])
    np.testing.assert_allclose(pay("block", other, cfg)["income_gbp"], out["income_gbp"], rtol=1e-12)


def test_blended_fixed_element_rebased_to_outturn() -> None:
    """Blended, fixed £1.2m for 12,000 contacts (£100 implied), price £100, variable 50%, no incentive, g = 1.02.

    Year 1 delivers 13,200: 1,200,000 + 0.5 × 100 × 1,200 = £1,260,000 either way.
    Year 2 delivers 13,200 again. Rolled forward: 1,224,000 + 0.5 × 102 × 1,200 = £1,285,200.
    Rebased to year 1's outturn (no cap): fixed 100 × 1.02 × 13,200 = £1,346,400 for an agreed 13,200
    contacts, so no variable payment: £1,346,400.
    """
    ledger = months_of([13_200, 13_200])
    plain = BlendedContract(
        fixed_gbp_per_year=1_200_000,
        agreed_activity_per_year=12_000,
        unit_price_gbp=100,
        variable_share_of_unit_price=0.5,
        quality_incentive_share=0.0,
        cost_uplift_per_year=0.03,
        efficiency_per_year=0.01,
    )
    assert year_values(pay("blended", ledger, plain), ledger) == pytest.approx([1_260_000, 1_285_200])
    rebased = plain.model_copy(update={"rebasing": Rebasing(rule="outturn")})
    out = pay("blended", ledger, rebased)
    assert year_values(out, ledger) == pytest.approx([1_260_000, 1_346_400])
    assert year_values(out, ledger, "contracted_activity") == pytest.approx([12_000, 13_200])


def test_rebasing_errors_are_located() -> None:
    with pytest.raises(ValueError, match="need_rate_gbp_per_weighted_head"):
        Rebasing(rule="needs")
    cfg = BlockContract(
        annual_value_gbp=1,
        contracted_activity_per_year=1,
        rebasing=Rebasing(rule="needs", need_rate_gbp_per_weighted_head=1, locality_need_weights={"East": 1}),
    )
    with pytest.raises(ValueError, match=r"contracts.block.rebasing.locality_need_weights names unknown localities"):
        REGISTRY["block"].check_scenario(cfg, CONTEXT, "contracts.block")


def test_rebasing_none_is_the_plain_block() -> None:
    """The default (rule none) pays exactly the roll-forward formula and adds no column."""
    ledger = months_of([13_200, 12_480, 12_000])
    plain = BlockContract(annual_value_gbp=1_200_000, contracted_activity_per_year=12_000)
    out = pay("block", ledger, plain)
    assert list(out.columns) == ["income_gbp", "contracted_activity", "delivered_activity", "funded_activity"]
    assert year_values(out, ledger) == pytest.approx([1_200_000, 1_221_600, 1_243_588.8])


# --------------------------------------------------------------------------- mechanisms, by hand


def test_aligned_payment_worked_example() -> None:
    """API: fixed £9.5m for 130,000 contacts, unit price £73, variable at 100%, 2025/26 uplift.

    Year 1 delivers 148,000 contacts (4 months of 11,000, 8 of 13,000): variable = 1.0 × 73 ×
    (148,000 − 130,000) = £1,314,000; income = £10,814,000.
    Year 2 (g = 1 + 0.0483 − 0.02 = 1.0283), one month of 10,000 contacts: fixed = 9,500,000 × 1.0283
    / 12 = £814,070.8333; price 73 × 1.0283 = £75.0659; plan 10,833.3333; variable = 75.0659 ×
    (10,000 − 10,833.3333) = −£62,554.9167; income = £751,515.9167. Without the reduction below
    plan: £814,070.8333. A local quality scheme of 1.25% with the targets of the blended example (two
    of three met) adds 0.0125 × 9,500,000 × 2/3 = £79,166.67 in year 1.
    """
    ledger = months_of([148_000])
    ledger["contacts"] = [11_000.0] * 4 + [13_000.0] * 8
    extra = pd.DataFrame({"contacts": [10_000.0], "contract_year": [2.0]})
    year2 = pd.concat([ledger, extra], ignore_index=True).ffill()
    year2.loc[12, "month"] = pd.Timestamp("2026-04-01")
    cfg = AlignedPaymentContract(fixed_gbp_per_year=9_500_000, planned_activity_per_year=130_000, unit_price_gbp=73)
    out = pay("aligned_payment", year2, cfg)
    assert out["income_gbp"].iloc[:12].sum() == pytest.approx(10_814_000)
    assert out["variable_gbp"].iloc[:12].sum() == pytest.approx(1_314_000)
    assert out["income_gbp"].iloc[12] == pytest.approx(751_515.9167, abs=1e-3)
    above_only = cfg.model_copy(update={"variable_below_plan": False})
    assert pay("aligned_payment", year2, above_only)["income_gbp"].iloc[12] == pytest.approx(814_070.8333, abs=1e-3)

    quality = outcomes_ledger(2_120)
    quality["contacts"] = [11_000.0] * 4 + [13_000.0] * 8
    targets = [{k: v for k, v in b.items() if k != "bonus_share_of_fixed"} for b in KPI_BONUSES]
    local = cfg.model_copy(
        update={
            "quality_share_of_fixed": 0.0125,
            "quality_targets": AlignedPaymentContract(
                fixed_gbp_per_year=1, planned_activity_per_year=1, unit_price_gbp=1, quality_targets=targets
            ).quality_targets,
        }
    )
    got = pay("aligned_payment", quality, local)
    assert got["quality_gbp"].sum() == pytest.approx(79_166.67, abs=0.01)
    assert got["income_gbp"].sum() == pytest.approx(10_814_000 + 79_166.67, abs=0.01)


def test_low_volume_block_worked_example() -> None:
    """LVA: £1.2m for 12,000 contacts (£100 each), 3-year rolling average, lag 1, g = 1.0283.

    Outturn: year 1 13,200, year 2 12,000, year 3 14,400 contacts.
    Year 2: mean of {13,200} → 100 × 1.0283 × 13,200 = £1,357,356.
    Year 3: mean of {13,200, 12,000} = 12,600 → 100 × 1.0283² × 12,600 = 100 × 1.05740089 × 12,600
            = £1,332,325.1214.
    Year 4: mean of all three = 13,200 → 100 × 1.0283³ × 13,200 = 100 × 1.087325335187 × 13,200
            = £1,435,269.4424.
    Within a year every month is paid a twelfth, whatever its activity.
    """
    cfg = LowVolumeBlockContract(annual_value_gbp=1_200_000, expected_activity_per_year=12_000)
    ledger = months_of([13_200, 12_000, 14_400, 5_000])
    ledger.loc[40, "contacts"] = 9_999.0  # one busy month in year 4 changes nothing
    out = pay("low_volume_block", ledger, cfg)
    assert year_values(out, ledger) == pytest.approx([1_200_000, 1_357_356, 1_332_325.1214, 1_435_269.4424])
    assert out["income_gbp"].iloc[36:].nunique() == 1
    big = cfg.model_copy(update={"annual_value_gbp": 2_000_000})
    with pytest.raises(ValueError, match=r"contracts.low_volume_block.annual_value_gbp .* above the LVA"):
        REGISTRY["low_volume_block"].check_scenario(big, CONTEXT, "contracts.low_volume_block")


def test_year_of_care_worked_example() -> None:
    """Year of care: £300 / £600 / £1,200 a person-year (low / medium / high), tier mix 0.50 / 0.35 / 0.15.

    Year 1's first month: caseload_end 3,000, entries 1,300, discharges 1,200, ended by admission
    100 → opening caseload 3,000 − 1,300 + 1,200 + 100 = 3,000, i.e. 1,500 / 1,050 / 450 by tier.
    Episodes started each month: 600 / 450 / 200, so 7,200 / 5,400 / 2,400 in the year.
    Year 1 = 300 × (1,500 + 7,200) + 600 × (1,050 + 5,400) + 1,200 × (450 + 2,400)
           = 2,610,000 + 3,870,000 + 3,420,000 = £9,900,000; month 1 = 300 × 725 + 600 × 537.5
           + 1,200 × 237.5 = £825,000 (later months' caseload columns do not matter).
    Year 2's first month: 3,400 − 1,250 + 1,100 + 50 = 3,300 carried in; that month pays
    1.0283 × [300 × (137.5 + 600) + 600 × (96.25 + 450) + 1,200 × (41.25 + 200)] = 1.0283 × 838,500
    = £862,229.55.
    """
    rows = 13
    ledger = months_of(
        [12_000, 12_000],
        episodes_tier_low=600.0,
        episodes_tier_medium=450.0,
        episodes_tier_high=200.0,
        caseload_end=[3_000.0] + [9_999.0] * 11 + [3_400.0] + [7_777.0] * 11,
        caseload_entries=[1_300.0] + [1.0] * 11 + [1_250.0] + [1.0] * 11,
        discharges=[1_200.0] + [1.0] * 11 + [1_100.0] + [1.0] * 11,
        episodes_ended_by_admission=[100.0] * 12 + [50.0] * 12,
    ).iloc[:rows]
    cfg = YearOfCareContract(rate_gbp_per_person_year={"low": 300, "medium": 600, "high": 1200})
    out = pay("year_of_care", ledger, cfg)
    assert out["income_gbp"].iloc[:12].sum() == pytest.approx(9_900_000)
    assert out["income_gbp"].iloc[0] == pytest.approx(825_000)
    assert out["opening_caseload"].iloc[12] == pytest.approx(3_300)
    assert out["income_gbp"].iloc[12] == pytest.approx(862_229.55)
    # The people paid for in year 1: 3,000 carried in + 15,000 started.
    assert out["people_paid"].iloc[:12].sum() == pytest.approx(18_000)
    with pytest.raises(ValueError, match=r"missing \['high'\]"):
        pay("year_of_care", ledger, YearOfCareContract(rate_gbp_per_person_year={"low": 1, "medium": 1}))


# --------------------------------------------------------------------------- properties


def month_by_month(name: str, ledger: pd.DataFrame, config) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row priced as the provider's review would: the ledger up to and including its month."""
    one = ledger[ledger["replication"] == ledger["replication"].iloc[0]].reset_index(drop=True)
    return np.array([pay(name, one.iloc[: k + 1], config)["income_gbp"].iloc[-1] for k in range(len(one))]), one


@pytest.mark.parametrize(
    ("name", "strategy"),
    [
        ("block", lambda d, led: d.draw(block_configs(led)).model_copy(update={"rebasing": rebasings(d.draw)})),
        ("low_volume_block", lambda d, led: d.draw(low_volume_block_configs(led))),
        (
            "blended",
            lambda d, led: d.draw(blended_configs(led)).model_copy(
                update={"rebasing": rebasings(d.draw), "quality_targets": ()}
            ),
        ),
        ("year_of_care", lambda d, led: d.draw(year_of_care_configs(led))),
        (
            "aligned_payment",
            lambda d, led: d.draw(aligned_payment_configs(led)).model_copy(update={"quality_targets": ()}),
        ),
    ],
)
@FAST
@given(data=st.data())
def test_priced_month_by_month_equals_priced_at_the_end(name: str, strategy, data: st.DataObject) -> None:
    """A month's payment uses only completed years and its own year so far: no later month changes it."""
    ledger = data.draw(ledgers(min_months=12, max_months=30))
    config = strategy(data, ledger)
    progressive, one = month_by_month(name, ledger, config)
    final = pay(name, one, config)["income_gbp"].to_numpy()
    np.testing.assert_allclose(progressive, final, rtol=1e-9, atol=1e-6)


@FAST
@given(data=st.data())
def test_fixed_values_do_not_move_with_their_own_year(data: st.DataObject) -> None:
    """Block (any rebasing) and LVA: changing a year's activity changes no payment of that year or earlier."""
    ledger = data.draw(ledgers(min_months=24, max_months=36))
    block = data.draw(block_configs(ledger)).model_copy(update={"rebasing": rebasings(data.draw)})
    lva = data.draw(low_volume_block_configs(ledger))
    last = ledger["contract_year"] == ledger["contract_year"].max()
    other = ledger.copy()
    other.loc[last, ["contacts", "contact_hours"]] *= data.draw(st.floats(0.0, 3.0))
    for name, cfg in (("block", block), ("low_volume_block", lva)):
        np.testing.assert_array_equal(pay(name, ledger, cfg)["income_gbp"], pay(name, other, cfg)["income_gbp"])


@FAST
@given(data=st.data())
def test_outturn_cap_zero_is_no_rebasing(data: st.DataObject) -> None:
    ledger = data.draw(ledgers(min_months=24, max_months=36))
    plain = data.draw(block_configs(ledger))
    frozen = plain.model_copy(
        update={"rebasing": Rebasing(rule="outturn", lag_years=data.draw(st.integers(1, 2)), max_change_share=0.0)}
    )
    np.testing.assert_allclose(pay("block", ledger, frozen)["income_gbp"], pay("block", ledger, plain)["income_gbp"])


@FAST
@given(data=st.data())
def test_year_of_care_more_episodes_never_pay_less(data: st.DataObject) -> None:
    ledger = data.draw(ledgers())
    cfg = data.draw(year_of_care_configs(ledger))
    more = ledger.copy()
    tier = data.draw(st.sampled_from(["low", "medium", "high"]))
    more[f"episodes_tier_{tier}"] += data.draw(st.floats(0.0, 500.0))
    assert (pay("year_of_care", more, cfg)["income_gbp"] >= pay("year_of_care", ledger, cfg)["income_gbp"] - 1e-6).all()


# --------------------------------------------------------------------------- end to end


def test_new_contracts_compare_end_to_end() -> None:
    """A two-year compare of block (outturn rebasing), API, LVA and year of care runs and settles each."""
    d = small_dict(population=20_000, years=2.0, warmup_days=30)
    d["contracts"]["block"]["rebasing"] = {"rule": "outturn", "lag_years": 1, "max_change_share": 0.05}
    d["contracts"] |= {
        "aligned_payment": {"fixed_gbp_per_year": 760_000, "planned_activity_per_year": 10_400, "unit_price_gbp": 73},
        "low_volume_block": {"annual_value_gbp": 760_000, "expected_activity_per_year": 10_400},
        "year_of_care": {"rate_gbp_per_person_year": {"low": 300, "medium": 600, "high": 1200}},
    }
    scenario = build(d)
    names = ["block", "aligned_payment", "low_volume_block", "year_of_care"]
    result = compare_scenario(scenario, names, 1, risk=False, incidence=False)
    provider = result.provider
    assert set(provider["contract"]) == set(names)
    for name in names:
        rows = provider[provider["contract"] == name]
        assert (rows["income_gbp"] >= 0).all(), name
        assert rows["contract_year"].nunique() == 2, name
    block = provider[provider["contract"] == "block"]
    year2 = block[block["contract_year"] == 2]
    rolled = year2["pay_rolled_forward_value_gbp"].iloc[0]
    assert abs(year2["pay_annual_value_gbp"].iloc[0] / rolled - 1) <= 0.05 + 1e-12
    # Year 2's rebased value is year 1's outturn at the implied price, within 5% of the roll-forward.
    year1 = block[block["contract_year"] == 1]
    price_2 = 760_000 / 10_400 * 1.018
    target = price_2 * year1["delivered_activity"].sum()
    assert year2["pay_annual_value_gbp"].iloc[0] == pytest.approx(min(max(target, 0.95 * rolled), 1.05 * rolled))
