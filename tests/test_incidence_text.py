"""The incidence headline says what the table says: hand-made tables, expected sentences written out."""

from __future__ import annotations

import math

import pandas as pd

from fundsim.report.incidence_text import incidence_sentences, policy_bracket_sentence


def _table(contract: str, **values: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"contract": contract, "measure": m, "mean": v[0], "ci_low": v[1], "ci_high": v[2]} for m, v in values.items()]
    )


BLOCK = _table(
    "block",
    unfunded_activity_per_year=(13_108, 6_490, 19_727),
    deficit_gbp_per_year=(0.0, 0.0, 0.0),
    unpaid_overtime_hours_per_year=(9_344, 7_409, 11_279),
    unpaid_overtime_value_gbp_per_year=(511_000, 400_000, 620_000),
    referrals_declined_per_year=(729, 593, 864),
    visit_deferrals_per_year=(31_700, 30_000, 33_400),
    visits_missed_per_year=(0.2, -0.3, 0.4),
    extra_wait_days_per_year=(4_300, 3_900, 4_700),
    extra_admissions_per_year=(33, 20, 46),
    extra_hospital_cost_gbp_per_year=(86_000, 50_000, 120_000),
)


def test_every_bearer_is_named_with_its_numbers() -> None:
    assert incidence_sentences(BLOCK, "block", "responsive") == [
        "Under the block contract, if the provider manages to its contract (hiring, shedding, unpaid overtime, "
        "rationing), 13,108 (95% CI 6,490 to 19,727) contacts a year are delivered that it does not pay for.",
        "The provider's finances carry none of it (no deficit).",
        "Staff carry 9,344 (95% CI 7,409 to 11,279) hours a year of unpaid overtime, worth £511k at the paid "
        "overtime rate.",
        "Patients carry 729 (95% CI 593 to 864) referrals declined, 31,700 (95% CI 30,000 to 33,400) visits "
        "deferred and 4,300 (95% CI 3,900 to 4,700) extra days waiting for assessment a year.",
        "The hospital sees +33 (95% CI +20 to +46) emergency admissions a year beyond a service funded to meet "
        "its demand, costing £86k a year.",
    ]


def test_a_contract_that_pays_for_everything_says_so() -> None:
    table = _table(
        "cost_and_volume",
        unfunded_activity_per_year=(0.0, 0.0, 0.0),
        deficit_gbp_per_year=(0.0, math.nan, math.nan),
    )
    assert incidence_sentences(table, "cost_and_volume", "passive") == [
        "Under the cost and volume contract, if the provider does not respond to its contract, the contract pays "
        "for all the activity delivered.",
        "The provider's finances carry none of it (no deficit).",
    ]


def test_the_policy_bracket_names_both_assumptions() -> None:
    passive = _table("block", deficit_gbp_per_year=(738_000, 600_000, 876_000))
    text = policy_bracket_sentence(BLOCK, passive, "block")
    assert text == (
        "How much the block contract hides depends on the provider: managing to the contract its deficit is £0 "
        "(95% CI £0 to £0) a year; not responding to it, £738k (95% CI £600k to £876k) a year, with the same "
        "patients and the same random draws."
    )


def test_intervals_of_measures_that_cannot_be_negative_start_at_zero_but_extras_keep_their_sign() -> None:
    table = pd.DataFrame(
        [
            {"contract": "block", "measure": m, "mean": v[0], "ci_low": v[1], "ci_high": v[2], "against_reference": r}
            for m, v, r in (
                ("unfunded_activity_per_year", (100.0, 50.0, 150.0), False),
                ("referrals_declined_per_year", (4.0, -3.0, 11.0), False),
                ("extra_wait_days_per_year", (20.0, -15.0, 55.0), True),
                ("visits_missed_per_year", (0.4, -6.0, 7.0), False),
            )
        ]
    )
    text = " ".join(incidence_sentences(table, "block", "passive"))
    assert "4 (95% CI 0 to 11) referrals declined" in text
    assert "20 (95% CI −15 to 55) extra days waiting" in text
    assert "visits missed" not in text  # a mean that rounds to 0 is left to the table


def test_add_on_money_in_the_provider_accounts_is_named() -> None:
    """With add-ons the headline says what their funding and own cost put into the provider's finances."""
    with_addons = pd.concat(
        [
            BLOCK,
            _table(
                "block",
                addon_core_hours_per_year=(55_400, 54_000, 56_800),
                addon_income_gbp_per_year=(5_150_000, 5_100_000, 5_200_000),
                addon_own_cost_gbp_per_year=(250_000, 240_000, 260_000),
            ),
        ],
        ignore_index=True,
    )
    sentences = incidence_sentences(with_addons, "block", "responsive")
    assert (
        "Add-on services took 55,400 (95% CI 54,000 to 56,800) core staff hours a year and brought £5.2m a year "
        "of their own funding against £250k a year of their own staff cost; the provider's finances above include "
        "both."
    ) in sentences
    # Without add-on rows, no such sentence.
    assert not any(s.startswith("Add-on services") for s in incidence_sentences(BLOCK, "block", "responsive"))
