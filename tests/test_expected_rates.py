"""Expected admissions per referral by tier, made from the reference service one tier at a time."""

from __future__ import annotations

import pytest
from builders import build, small_dict

from fundsim.experiment.expected_rates import as_yaml, expected_admissions_per_referral, one_tier


def _two_tiers(hazards: tuple[float, float]) -> dict:
    d = small_dict(population=40_000, years=1.0, warmup_days=60)
    base = d["tiers"][0]
    d["tiers"] = [
        {
            **base,
            "name": name,
            "visits": {"mean": 4, "distribution": "fixed"},
            "interval_days": 7,
            "allowed_grades": [g["name"] for g in d["workforce"]["grades"]],
            "daily_admission_hazard": h,
        }
        for name, h in zip(("a", "b"), hazards, strict=True)
    ]
    d["demand"]["complexity_mix"] = {"a": 0.5, "b": 0.5}
    d["demand"].pop("complexity_mix_end", None)
    d["contracts"] = {"block": d["contracts"]["block"]}
    d["contract"] = "block"
    d["risk_view"] = None
    return d


def test_one_tier_sends_every_referral_to_that_tier() -> None:
    scenario = one_tier(build(_two_tiers((0.001, 0.002))), "b")
    assert scenario.demand.complexity_mix == {"a": 0.0, "b": 1.0}
    assert scenario.demand.complexity_mix_end is None


def test_rates_follow_the_hazard_and_time_at_risk() -> None:
    """With hazard h a day and little waiting, a referral is at risk for about the planned episode
    (4 visits 7 days apart) plus the 60-day follow-up: about 88 days, so about 88·h admissions.
    The model's details (the day of assessment, hospital stays, episodes ended by admission) move
    this by a few per cent, so the check allows 15% on top of the simulation's own interval."""
    rates = expected_admissions_per_referral(build(_two_tiers((0.0, 0.001))), replications=3).set_index("tier")
    assert rates.loc["a", "mean"] == 0.0
    b = rates.loc["b"]
    assert b["ci_low"] * 0.85 <= 88 * 0.001 <= b["ci_high"] * 1.15
    text = as_yaml(rates.reset_index(), "two")
    assert text.splitlines()[1:] == ["  a: 0.000", f"  b: {b['mean']:.3f}"]


@pytest.mark.parametrize("tier", ["a", "b"])
def test_rates_do_not_depend_on_the_staffing_given(tier: str) -> None:
    """The reference is staffed to meet demand, so halving the scenario's staff changes nothing."""
    d = _two_tiers((0.001, 0.002))
    half = _two_tiers((0.001, 0.002))
    for g in half["workforce"]["grades"]:
        g["fte"] /= 2
    full_rates = expected_admissions_per_referral(build(d), replications=2).set_index("tier")
    half_rates = expected_admissions_per_referral(build(half), replications=2).set_index("tier")
    assert full_rates.loc[tier, "mean"] == pytest.approx(half_rates.loc[tier, "mean"], rel=0.05)


@pytest.mark.slow
def test_the_shipped_scenarios_rates_are_what_the_command_makes() -> None:
    """The example's risk model is not hand-copied: it is what `fundsim expected-rates -r 3` prints."""
    import yaml
    from builders import EXAMPLE

    from fundsim import load_scenario

    rates = expected_admissions_per_referral(load_scenario(EXAMPLE), replications=3, jobs=1)
    printed = yaml.safe_load(as_yaml(rates, "example"))["expected_admissions_per_referral"]
    for name in ("example.yaml", "tiny.yaml", "large.yaml"):
        shipped = yaml.safe_load((EXAMPLE.parent / name).read_text(encoding="utf-8"))
        assert shipped["contracts"]["outcomes"]["expected_admissions_per_referral"] == printed, name
