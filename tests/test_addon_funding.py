"""An add-on's funding line, by hand: blocks per team and per place, prices per response and bed-day.

Every expected value is worked out on paper from the definitions in docs/addons.md (a block is
spread over the year's days; a price is paid per unit of activity; amounts rise by the uplift each
contract year), never read back from the code.
"""

from __future__ import annotations

import pandas as pd
import pytest
from builders import small_dict
from pydantic import ValidationError

from fundsim.contracts.addon_funding import AddOnFunding, price_addon
from fundsim.experiment.addon_lines import addon_incidence, with_addon_lines
from fundsim.scenario.addon_models import UrgentResponse
from fundsim.scenario.models import Scenario


def _months(**columns: list[float]) -> pd.DataFrame:
    """Two provider months: 30 days in contract year 1, 36.525 days in contract year 2."""
    return pd.DataFrame({"days": [30.0, 36.525], "contract_year": [1, 2], **columns})


def test_a_block_per_team_is_spread_over_the_days_of_the_year_and_uplifted() -> None:
    funding = AddOnFunding(mode="separate", block_gbp_per_team_per_year=365_250.0, uplift_per_year=0.1)
    line = price_addon(
        _months(ucr_calls=[40.0, 50.0], ucr_staff_cost_gbp=[1_000.0, 2_000.0]), funding, "urgent_response", 3
    )
    # Year 1: 3 teams x 365,250 x 30 / 365.25 = 90,000. Year 2: 3 x 365,250 x 36.525 / 365.25 x 1.1 = 120,532.50.
    assert line["income_gbp"].tolist() == pytest.approx([90_000.0, 120_532.5])
    assert line["cost_gbp"].tolist() == [1_000.0, 2_000.0]
    assert line["funded_activity"].tolist() == [40.0, 50.0]  # a ring-fenced block pays for the service's work
    assert line["unfunded_activity"].tolist() == [0.0, 0.0]


def test_a_price_per_response_pays_each_call() -> None:
    funding = AddOnFunding(mode="separate", price_gbp_per_response=150.0)
    line = price_addon(_months(ucr_calls=[40.0, 7.0]), funding, "urgent_response", 3)
    assert line["income_gbp"].tolist() == pytest.approx([6_000.0, 1_050.0])  # 40 x 150; 7 x 150
    assert line["cost_gbp"].tolist() == [0.0, 0.0]  # no cost column: counted as 0


def test_a_virtual_ward_block_per_place_and_price_per_bed_day() -> None:
    months = _months(vw_occupied_place_days=[100.0, 0.0], vw_places_days=[600.0, 730.5], vw_cost_gbp=[5.0, 6.0])
    per_place = price_addon(
        months, AddOnFunding(mode="separate", block_gbp_per_place_per_year=36_525.0), "virtual_ward", 2
    )
    # 36,525 a place-year x 600 place-days / 365.25 = 60,000; x 730.5 / 365.25 = 73,050.
    assert per_place["income_gbp"].tolist() == pytest.approx([60_000.0, 73_050.0])
    per_day = price_addon(months, AddOnFunding(mode="separate", price_gbp_per_bed_day=285.0), "virtual_ward", 2)
    assert per_day["income_gbp"].tolist() == pytest.approx([28_500.0, 0.0])  # 100 bed-days x 285
    assert per_day["cost_gbp"].tolist() == [5.0, 6.0]


def test_an_included_add_on_brings_no_money_and_all_its_work_is_unfunded() -> None:
    line = price_addon(_months(ucr_calls=[40.0, 50.0]), AddOnFunding(), "urgent_response", 3)
    assert line["income_gbp"].tolist() == [0.0, 0.0]
    assert line["unfunded_activity"].tolist() == [40.0, 50.0]


@pytest.mark.parametrize(
    ("funding", "words"),
    [
        ({"mode": "separate"}, "exactly one"),
        ({"mode": "separate", "price_gbp_per_response": 1.0, "block_gbp_per_team_per_year": 2.0}, "exactly one"),
        ({"mode": "included", "price_gbp_per_response": 1.0}, "takes no amount"),
        ({"mode": "separate", "price_gbp_per_bed_day": 1.0}, "does not apply to urgent response"),
        ({"mode": "separate", "price_gbp_per_response": -1.0}, "greater than or equal"),
        ({"mode": "separately"}, "included"),
        ({"mode": "separate", "price_per_response": 1.0}, "Extra inputs"),
    ],
)
def test_bad_funding_is_refused_saying_what_is_allowed(funding: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        UrgentResponse.model_validate({"funding": funding})


def _scenario(funding: dict) -> Scenario:
    d = small_dict()
    d["addons"] = {"urgent_response": {"funding": funding}}
    return Scenario.model_validate(d)


def test_every_contract_adds_the_funding_line_and_the_add_on_cost_to_the_provider_accounts() -> None:
    sc = _scenario({"mode": "separate", "price_gbp_per_response": 100.0})
    provider = pd.DataFrame(
        {
            "contract": ["block", "block"],
            "replication": [0, 0],
            "days": [30.0, 30.0],
            "contract_year": [1, 1],
            "income_gbp": [1_000.0, 1_000.0],
            "cost_gbp": [900.0, 1_500.0],
            "commissioner_spend_gbp": [3_000.0, 3_000.0],
            "ucr_calls": [2.0, 3.0],
            "ucr_staff_cost_gbp": [50.0, 400.0],
            "ucr_core_hours": [7.0, 0.0],
        }
    )
    out = with_addon_lines(provider, sc)
    assert out["income_gbp"].tolist() == [1_200.0, 1_300.0]  # + 2 x 100, + 3 x 100
    assert out["cost_gbp"].tolist() == [950.0, 1_900.0]  # + the add-on's own cost
    assert out["surplus_gbp"].tolist() == [250.0, -600.0]
    assert out["absorbed_gbp"].tolist() == [0.0, 600.0]
    assert out["commissioner_spend_gbp"].tolist() == [3_200.0, 3_300.0]
    assert with_addon_lines(out, sc) is out  # never added twice
    # Over the 60 days (60 / 365.25 years): cost 450 - funding 500 < 0, so nothing uncovered; 7 core hours.
    inc = addon_incidence(out, sc).iloc[0]
    assert inc["addon_cost_uncovered_gbp_per_year"] == 0.0
    assert inc["addon_core_hours_per_year"] == pytest.approx(7.0 * 365.25 / 60.0)
    assert inc["urgent_response_unfunded_per_year"] == 0.0


def test_included_work_is_unfunded_in_the_incidence_and_no_add_on_changes_nothing() -> None:
    sc = _scenario({"mode": "included"})
    provider = pd.DataFrame(
        {
            "contract": ["block"],
            "replication": [0],
            "days": [36.525],
            "contract_year": [1],
            "income_gbp": [1_000.0],
            "cost_gbp": [900.0],
            "commissioner_spend_gbp": [3_000.0],
            "ucr_calls": [10.0],
            "ucr_staff_cost_gbp": [300.0],
        }
    )
    inc = addon_incidence(provider, sc).iloc[0]
    assert inc["urgent_response_unfunded_per_year"] == pytest.approx(100.0)  # 10 calls in a tenth of a year
    assert inc["addon_cost_uncovered_gbp_per_year"] == pytest.approx(3_000.0)  # 300 unfunded in a tenth of a year
    plain = Scenario.model_validate(small_dict())
    assert with_addon_lines(provider, plain) is provider
