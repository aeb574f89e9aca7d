"""The sizing check made before a run: hand-computed figures, queueing theory, and its warnings."""

from __future__ import annotations

import pytest
from builders import build, example_dict, mmc_dict, modified

from fundsim.scenario.sizing import size_scenario


def _one_tier(fte: float) -> dict:
    """One locality, one tier, one grade: every figure can be worked out by hand."""
    d = mmc_dict(servers=1, arrivals_per_hour=1.0, service_minutes=60.0)
    d["simulation"]["scheduling"] = "daily"
    d["localities"] = [{"name": "A", "population": 10_000, "referral_rate_per_1000_per_year": 100}]
    d["tiers"][0].update(
        assessment_minutes={"mean": 60, "distribution": "fixed"},
        visits={"mean": 4, "distribution": "fixed"},
        interval_days=7,
        face_to_face_minutes={"mean": 40, "distribution": "fixed"},
        travel_minutes={"mean": 20, "distribution": "fixed"},
    )
    d["workforce"]["grades"][0].update(
        fte=fte,
        hourly_cost_gbp=30,
        contract_hours_per_week=37.5,
        shift_hours=7.5,
        annual_leave_share=0.1,
        sickness_share=0.0,
        patient_facing_share=0.5,
        overtime_cap_hours_per_shift=1.0,
    )
    d["contracts"]["block"]["contracted_activity_per_year"] = 5_000
    return d


def test_figures_match_a_hand_calculation() -> None:
    row = size_scenario(build(_one_tier(fte=5))).localities[0]
    # 10,000 people × 100 per 1,000 = 1,000 referrals; each: (60 + 20) + 4 × (40 + 20) = 320 minutes.
    assert row.referrals_per_year == pytest.approx(1_000)
    assert row.care_hours_needed_per_year == pytest.approx(1_000 * 320 / 60)
    # 5 FTE × 37.5 h/week = 26.786 h a day × 365.25 × (1 − 0.1) × 0.5 patient-facing.
    assert row.staff_care_hours_per_year == pytest.approx(5 * 37.5 / 7 * 365.25 * 0.9 * 0.5)
    # 5 shifts a week per FTE, 1 h overtime cap per shift worked.
    assert row.overtime_cap_hours_per_year == pytest.approx(5 * 5 / 7 * 365.25 * 0.9 * 1.0)
    assert row.contacts_per_year == pytest.approx(1_000 * 5)
    assert row.contacts_per_1000 == pytest.approx(500)
    assert row.cost_per_contact_gbp == pytest.approx(5 * 37.5 / 7 * 365.25 * 30 / 5_000)
    # Little's law: 1,000/365.25 referrals a day × 28 days on the caseload, over 5 WTE.
    assert row.caseload_per_wte == pytest.approx(1_000 / 365.25 * 28 / 5)


@pytest.mark.parametrize(("servers", "per_hour", "minutes"), [(1, 0.5, 60.0), (3, 2.55, 60.0), (10, 13.5, 40.0)])
def test_need_ratio_is_the_traffic_intensity_of_the_mmc_queue(servers: int, per_hour: float, minutes: float) -> None:
    """With round-the-clock servers and one visit per episode, need ÷ capacity is ρ = λ / (c μ)."""
    row = size_scenario(build(mmc_dict(servers, per_hour, minutes))).localities[0]
    assert row.need_ratio == pytest.approx(per_hour * minutes / 60.0 / servers)


def test_short_staffing_is_named_with_its_numbers() -> None:
    report = size_scenario(build(_one_tier(fte=3)))
    (short,) = [w for w in report.warnings if "short of staff" in w]
    assert short.startswith("localities[0] (A):")
    assert "5,333 care hours" in short  # 1,000 × 320 / 60
    assert "fte" in short


def test_a_service_relying_on_overtime_is_told_so_but_not_called_short() -> None:
    # 5 FTE: 4,402 patient-facing hours < 5,333 needed <= 4,402 + 1,174 of overtime.
    warnings = size_scenario(build(_one_tier(fte=5))).warnings
    assert any("relies on overtime" in w for w in warnings)
    assert not any("short of staff" in w for w in warnings)


def test_an_ample_service_gets_no_staffing_warning() -> None:
    warnings = size_scenario(build(_one_tier(fte=10))).warnings
    assert not any("short" in w or "overtime" in w or "last contract year" in w for w in warnings)


def test_the_undersized_example_a_new_user_wrote_is_warned() -> None:
    """400,000 people in two localities with the example's staff: about a third short."""
    d = example_dict()
    d["localities"] = [
        {**d["localities"][0], "population": 200_000, "staff_share": 0.5},
        {**d["localities"][1], "population": 200_000, "staff_share": 0.5},
    ]
    report = size_scenario(build(d))
    assert sum("short of staff" in w for w in report.warnings) == 2


def test_implausible_inputs_are_named() -> None:
    d = modified(_one_tier(fte=10), **{"demand.growth_per_year": 0.25})
    d["tiers"][0]["travel_minutes"] = {"mean": 3, "distribution": "fixed"}
    d["localities"][0]["referral_rate_per_1000_per_year"] = 0.5
    warnings = size_scenario(build(d)).warnings
    assert any(w.startswith("demand.growth_per_year is 0.25") for w in warnings)
    assert any(w.startswith("tiers[0] (only).travel_minutes.mean is 3") for w in warnings)
    assert any("referral_rate_per_1000_per_year is 0.5" in w for w in warnings)


def test_skill_mix_shortage_is_found_even_when_total_hours_suffice() -> None:
    d = _one_tier(fte=10)
    d["workforce"]["grades"].append({**d["workforce"]["grades"][0], "name": "hca", "fte": 40})
    d["workforce"]["grades"][0]["fte"] = 1  # the only grade allowed to see tier "only"
    d["tiers"].append({**d["tiers"][0], "name": "easy", "allowed_grades": ["nurse", "hca"]})
    d["demand"]["complexity_mix"] = {"only": 0.5, "easy": 0.5}
    warnings = size_scenario(build(d)).warnings
    assert any(w.startswith("skill mix: tier(s) only may only be seen by nurse") for w in warnings)


def test_the_shipped_example_is_stretched_but_not_short() -> None:
    warnings = size_scenario(build(example_dict())).warnings
    assert not any("short of staff" in w for w in warnings)
    assert any("relies on overtime" in w or "last contract year" in w for w in warnings)
