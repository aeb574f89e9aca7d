"""Behaviour of the daily model: reproducibility, common random numbers, Poisson demand, Little's law."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import build, modified, small_dict
from scipy import stats

from fundsim import simulate


@pytest.fixture(scope="module")
def small() -> dict:
    # The core model without management: staffing changes here must not be undone by hiring.
    return modified(small_dict(), **{"provider_policy.mode": "passive"})


@pytest.fixture(scope="module")
def base_run(small: dict) -> pd.DataFrame:
    return simulate(build(small), 0).ledger


def test_same_seed_same_ledger(small: dict, base_run: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(simulate(build(small), 0).ledger, base_run)


def test_different_seed_or_replication_differs(small: dict, base_run: pd.DataFrame) -> None:
    other_rep = simulate(build(small), 1).ledger
    other_seed = simulate(build(modified(small, **{"simulation.seed": 99})), 0).ledger
    assert not other_rep["referrals"].equals(base_run["referrals"])
    assert not other_seed["referrals"].equals(base_run["referrals"])


def _referral_draws(d: dict, first_days: tuple[int, ...] = (0, 28, 56)) -> list[dict[str, np.ndarray]]:
    """What each referral block draws: who is referred, when, and their deterioration and stays."""
    from fundsim.sim.calendar import build_calendar
    from fundsim.sim.service import ServiceModel
    from fundsim.sim.streams import RandomStreams

    sc = build(d)
    team = ServiceModel(sc, build_calendar(sc.simulation), RandomStreams(sc.simulation.seed, 0))
    names = ("time", "tier", "budgets", "ends", "los", "planned_end", "window_end")
    return [{k: getattr(team.referrals.draw(day), k) for k in names} for day in first_days]


def test_counterfactual_draws_unchanged_by_staffing(small: dict, base_run: pd.DataFrame) -> None:
    """Common random numbers: the same people deteriorate the same way whatever the staffing.

    The no-care admissions are counted over each person's follow-up window, which ends with their
    actual care (so its length moves with staffing); the draws they are counted from do not.
    """
    d = modified(small)
    for g in d["workforce"]["grades"]:
        g["fte"] = g["fte"] * 0.6
    short = simulate(build(d), 0).ledger
    np.testing.assert_array_equal(short["referrals"], base_run["referrals"])
    for ours, theirs in zip(_referral_draws(small), _referral_draws(d), strict=True):
        for name, values in ours.items():
            np.testing.assert_array_equal(theirs[name], values, err_msg=name)
    # ...while the care actually delivered, and so the admissions, do change.
    assert short["contacts"].sum() < base_run["contacts"].sum()
    assert short["visits_missed"].sum() > base_run["visits_missed"].sum()
    assert short["admissions"].sum() > base_run["admissions"].sum()


def test_fewer_staff_longer_waits(small: dict, base_run: pd.DataFrame) -> None:
    d = modified(small)
    for g in d["workforce"]["grades"]:
        g["fte"] = g["fte"] * 0.8
    short = simulate(build(d), 0).ledger
    assert short["waiting_list_mean"].mean() > base_run["waiting_list_mean"].mean()


def test_ample_staff_nothing_missed_or_waiting_long(small: dict) -> None:
    d = modified(small)
    for g in d["workforce"]["grades"]:
        g["fte"] = g["fte"] * 4
    led = simulate(build(d), 0).ledger
    assert led["visits_missed"].sum() == 0
    assert led["overtime_hours"].sum() == 0
    # Referrals arriving during a day are seen the next day: with ample staff nobody waits past it,
    # except for weekends staffed at half strength.
    assert led["wait_p90_days"].max() < 3.0


def _expected_referrals_per_month(d: dict) -> pd.DataFrame:
    """Integrate the referral rate day by day from the scenario's own words (independent of fundsim)."""
    sim, dem = d["simulation"], d["demand"]
    start = dt.date.fromisoformat(str(sim["start_date"]))
    months = round(sim["horizon_years"] * 12)
    end = (pd.Timestamp(start) + pd.DateOffset(months=months)).date()
    days = pd.date_range(start, end - dt.timedelta(days=1), freq="D")
    years = (days - pd.Timestamp(start)).days / 365.25
    profile = np.array(dem.get("weekday_profile", [1] * 7), dtype=float)
    season = dem.get("seasonality", {})
    amp, peak = season.get("winter_amplitude", 0.1), season.get("peak_day_of_year", 15)
    rows = []
    for loc in d["localities"]:
        rate = (
            loc["population"] / 1000 * loc["referral_rate_per_1000_per_year"] / 365.25
            * (1 + dem["growth_per_year"]) ** years
            * (1 + amp * np.cos(2 * np.pi * (days.day_of_year - peak) / 365.25))
            * profile[days.day_of_week] / profile.mean()
        )  # fmt: skip
        per_month = pd.Series(rate, index=days).groupby(days.to_period("M")).sum()
        rows.append(
            pd.DataFrame(
                {"locality": loc["name"], "month": per_month.index.to_timestamp(), "expected": per_month.values}
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_referrals_are_poisson_with_the_integrated_rate() -> None:
    """Monthly referral counts over several replications: chi-square against the integrated rate."""
    d = small_dict(population=60_000, years=2.0, warmup_days=0)
    scenario = build(d)
    expected = _expected_referrals_per_month(d)
    observed = pd.concat([simulate(scenario, r).ledger for r in range(3)])
    merged = observed.merge(expected, on=["locality", "month"], how="left", validate="many_to_one")
    assert merged["expected"].notna().all()
    chi2 = (((merged["referrals"] - merged["expected"]) ** 2) / merged["expected"]).sum()
    dof = len(merged)
    # Under H0 chi2 ~ chi-square(dof): a 0.1% test in each tail (too good a fit is also suspicious).
    assert stats.chi2.ppf(0.001, dof) < chi2 < stats.chi2.ppf(0.999, dof)
    # Dispersion: Poisson counts have variance = mean, so a shifted rate would show in the total too.
    total_z = (merged["referrals"].sum() - merged["expected"].sum()) / np.sqrt(merged["expected"].sum())
    assert abs(total_z) < 3.29


def test_littles_law_on_caseload() -> None:
    """Little's law on the caseload: time-average caseload L = entry rate λ × time on the caseload W.

    L comes from the integrated person-days (``caseload_days``), λ from the counted entries
    (``caseload_entries``) and W from the care plan by hand: with ample staff, no deterioration and
    every plan exactly 3 visits 7 days apart, each person is on the caseload from assessment to the
    third visit, W = 21 days. The model starts empty (no warm-up), so over the horizon T the only
    gap is the people still on the caseload at T, each short of W by at most W:
    0 ≤ N·W − L·T ≤ caseload_end(T)·W. A caseload area that counted the wait, dropped the part of a
    stay after a month boundary, or an entry count that double-counted, would break it.
    """
    d = modified(
        small_dict(population=30_000, years=2.0, warmup_days=0),
        **{"provider_policy.mode": "passive", "hospital.ends_episode_probability": 0.0},
    )
    for g in d["workforce"]["grades"]:
        g["fte"] = g["fte"] * 4
    for tier in d["tiers"]:
        tier.update(visits={"mean": 3, "distribution": "fixed"}, interval_days=7, daily_admission_hazard=0.0)
    led = simulate(build(d), 0).ledger
    # The premises W = 21 rests on: nothing deferred, missed or cut short by an admission.
    assert led[["visit_deferrals", "visits_missed", "admissions"]].to_numpy().sum() == 0
    w_days = 3 * 7.0
    area = led["caseload_days"].sum()  # L·T
    entries = led["caseload_entries"].sum()  # N = λ·T
    open_at_end = led["caseload_end"].iloc[-1]
    assert entries > 1000
    assert open_at_end > 0
    assert entries * w_days - open_at_end * w_days - 1e-6 <= area <= entries * w_days + 1e-6


def test_ledger_identities(base_run: pd.DataFrame) -> None:
    led = base_run
    np.testing.assert_allclose(led["contacts"], led["assessments"] + led["visits_delivered"])
    np.testing.assert_allclose(led["overtime_hours"], led["paid_overtime_hours"] + led["unpaid_overtime_hours"])
    np.testing.assert_allclose(
        led["admissions"],
        led["admissions_from_caseload"]
        + led["admissions_from_waiting_list"]
        + led["admissions_after_discharge"]
        + led["admissions_declined_referrals"],
    )
    np.testing.assert_allclose(led["admissions_avoided"], led["counterfactual_admissions"] - led["admissions"])
    bands = [c for c in led.columns if c.startswith("waiting_") and c.endswith("_weeks")]
    np.testing.assert_allclose(led[bands].sum(axis=1), led["waiting_list_end"])
    assert (led[["referrals", "visits_delivered", "contact_hours", "staff_cost_gbp"]] >= 0).all().all()
    # Contact and travel time fit in rostered patient-facing time plus overtime.
    assert (led["contact_hours"] + led["travel_hours"] <= led["rostered_hours"] + led["overtime_hours"] + 1e-6).all()


def test_referral_sources_add_up(base_run: pd.DataFrame, small: dict) -> None:
    cols = [f"referrals_from_{s}" for s in small["demand"]["sources"]]
    np.testing.assert_allclose(base_run[cols].sum(axis=1), base_run["referrals"])
    # Shares match the scenario's mix within binomial noise (99.9% two-sided).
    n = base_run["referrals"].sum()
    for s, share in small["demand"]["sources"].items():
        got = base_run[f"referrals_from_{s}"].sum()
        assert abs(got - n * share) <= 3.29 * np.sqrt(n * share * (1 - share))


def test_visit_buffer_compaction_changes_no_number(small: dict, base_run: pd.DataFrame, monkeypatch) -> None:
    """Dropping the durations nobody will use again must not move a single visit's duration."""
    from fundsim.sim.service import ServiceModel

    monkeypatch.setattr(ServiceModel, "compact_visit_buffer", lambda self: None)
    pd.testing.assert_frame_equal(simulate(build(small), 0).ledger, base_run)


def test_visit_buffer_follows_the_caseload_not_the_horizon(small: dict) -> None:
    """After a month-end compaction the buffer holds only what live people still need."""
    from fundsim.sim.calendar import build_calendar
    from fundsim.sim.engine import run_day
    from fundsim.sim.patients import FREE
    from fundsim.sim.service import ServiceModel
    from fundsim.sim.streams import RandomStreams

    sc = build(small)
    cal = build_calendar(sc.simulation)
    team = ServiceModel(sc, cal, RandomStreams(sc.simulation.seed, 0))
    for day in range(cal.n_days):
        run_day(team, day)
    drawn = team.visit_buffer.used
    team.compact_visit_buffer()
    c = team.people.cols
    live = c["stage"] != FREE
    still_needed = int(np.maximum(c["n_visits"][live] - c["visits_done"][live], 0).sum())
    assert team.visit_buffer.used == still_needed
    assert still_needed < drawn / 3
