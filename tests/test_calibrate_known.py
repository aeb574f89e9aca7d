"""Known answers: a small extract built here, every fitted quantity worked out by hand; and the check's interval.

The extract (written as CSV by :func:`_write_extract`) covers 2025-01-01 to 2025-04-30 (120 days;
four whole months) plus the visits of the last referrals, up to 2025-05-14 (May is not whole, so
the fitting window is January to April; day d below counts from 2025-01-01 = day 0, the window
ends on day 119):

* two localities, each its own team: North (population 10,000) and South (5,000);
* one referral a day in each locality, days 0..119: 120 in each, 240 in all;
* North: routine (priority 1), from a GP (A1); care plan: a 60-minute assessment on the day of
  referral, follow-ups on days d+7 and d+14 of 30 minutes each, discharged ("completed") on d+14;
* South: urgent (priority 2 on even days, 3 on odd days: both urgent), from acute care (H1) on
  even days and self-referred (B1) on odd days; care plan: a 75-minute assessment on the day of
  referral, follow-ups on days d+2, d+4, d+6, d+8 of 45 minutes, discharged on d+8;
* workforce: North Band 5 4.0 WTE and Band 6 2.0 WTE; South Band 6 1.5 WTE and Band 3 0.5 WTE;
* admissions (emergency, method 21, two-day stays): the North patients referred on days 0..9,
  each on day d+3; the South patients referred on days 0..19, each on day d+1 (all under care).

Every visit is attended and face to face; the minimum counts behind every value are well over the
small-number rule's 8.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fundsim.calibrate.fit import Calibration, fit_scenario
from fundsim.calibrate.read import read_extract

START = dt.date(2025, 1, 1)
DAYS = 120  # referral days 0..119 (2025-01-01 .. 2025-04-30)
NORTH_PLAN = (0, 7, 14)  # visit days after the referral; discharge on the last
SOUTH_PLAN = (0, 2, 4, 6, 8)
#: Tier-weighted sums equal the hand counts up to the posteriors' distance from 0 and 1 (the
#: mixture's components overlap by far less than 1e-4 for these plans).
POSTERIOR_REL = 1e-4


def _day(d: int) -> str:
    return (START + dt.timedelta(days=d)).isoformat()


def _write_extract(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    refs, contacts = [], []
    for d in range(DAYS):
        for loc, plan, first_min, follow_min in (("North", NORTH_PLAN, 60, 30), ("South", SOUTH_PLAN, 75, 45)):
            pid, rid = f"P{loc[0]}{d:03d}", f"R{loc[0]}{d:03d}"
            if loc == "North":
                priority, source = "1", "A1"
            else:
                priority, source = ("2", "H1") if d % 2 == 0 else ("3", "B1")
            refs.append(
                {
                    "Person_ID": pid,
                    "ServiceRequestId": rid,
                    "ReferralRequestReceivedDate": _day(d),
                    "SourceOfReferralCommunity": source,
                    "PriorityTypeCode": priority,
                    "TeamIDLocal": loc,
                    "ServDischDate": _day(d + plan[-1]),
                    "ReferClosReason": "02",
                }
            )
            for i, k in enumerate(plan):
                contacts.append(
                    {
                        "Person_ID": pid,
                        "ServiceRequestId": rid,
                        "CareContactId": f"C{loc[0]}{d:03d}{i}",
                        "CareContDate": _day(d + k),
                        "ClinContDurOfCareCont": first_min if i == 0 else follow_min,
                        "ConsMechanism": "01",
                        "AttendOrDNACode": "5",
                        "StaffBand": "Band 5" if loc == "North" else "Band 6",
                    }
                )
    admissions = [
        {
            "Person_ID": f"P{loc[0]}{d:03d}",
            "StartDateHospitalProviderSpell": _day(d + after),
            "DischargeDateHospitalProviderSpell": _day(d + after + 2),
            "AdmissionMethod": "21",
        }
        for loc, n, after in (("North", 10, 3), ("South", 20, 1))
        for d in range(n)
    ]
    workforce = [
        {"TeamIDLocal": "North", "AfCBand": "Band 5", "WTE": 4.0},
        {"TeamIDLocal": "North", "AfCBand": "Band 6", "WTE": 2.0},
        {"TeamIDLocal": "South", "AfCBand": "Band 6", "WTE": 1.5},
        {"TeamIDLocal": "South", "AfCBand": "Band 3", "WTE": 0.5},
    ]
    population = [{"Locality": "North", "Population": 10_000}, {"Locality": "South", "Population": 5_000}]
    for name, rows in (
        ("referrals", refs),
        ("contacts", contacts),
        ("admissions", admissions),
        ("workforce", workforce),
        ("population", population),
    ):
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Calibration:
    folder = tmp_path_factory.mktemp("known") / "extract"
    _write_extract(folder)
    extract = read_extract(folder)
    assert not extract.problems, [str(p) for p in extract.problems]
    return fit_scenario(extract, name="known", n_tiers=2)


def _rel(expected: float, rel: float = 2e-3) -> object:
    return pytest.approx(expected, rel=rel)


def test_window_is_the_whole_months(fitted: Calibration) -> None:
    # Contacts run from 2025-01-01 to 2025-05-14 (day 119 + 14): January to April are whole, May is not.
    assert fitted.summary["window"] == "2025-01-01 to 2025-04-30"
    assert fitted.summary["months_fitted"] == 4
    # Under 12 months: neither season nor growth is fitted (defaults are written as assumptions).
    assert not fitted.summary["season_fitted"]
    assert not fitted.summary["growth_fitted"]


def test_referral_rate_per_locality(fitted: Calibration) -> None:
    # The same count every day: the Poisson MLE of a constant rate is the mean daily count, and every
    # weekday's relative rate is 1. Rate per 1,000 a year = (count per day) × 365.25 × 1000 / population:
    # North 1 × 365.25 × 1000 / 10,000 = 36.525; South 1 × 365.25 × 1000 / 5,000 = 73.05.
    rates = {loc["name"]: loc["referral_rate_per_1000_per_year"] for loc in fitted.scenario["localities"]}
    assert rates == {"North": _rel(36.525), "South": _rel(73.05)}
    assert fitted.scenario["demand"]["weekday_profile"] == [_rel(1.0)] * 7


def test_urgent_share_and_sources(fitted: Calibration) -> None:
    demand = fitted.scenario["demand"]
    # Urgent: South's 120 (codes 2 and 3 both urgent) of 240 referrals = 0.5.
    assert demand["urgent_share"] == _rel(0.5)
    # Sources: North's 120 from GPs (A1) = 0.5; South's 60 even days from acute care (H1) = 0.25 and
    # 60 odd days self-referred (B1, grouped as "other") = 0.25.
    assert demand["sources"] == {"gp": _rel(0.5), "hospital_discharge": _rel(0.25), "other": _rel(0.25)}


def test_tiers_of_obvious_episodes(fitted: Calibration) -> None:
    # Two plans differing in every feature (gaps 7 vs 2 days, follow-ups 30 vs 45 minutes,
    # assessments 60 vs 75 minutes): each episode belongs to its plan with posterior ~1. Tiers are
    # ordered by visits a week, so "low" is North's weekly plan and "high" South's two-daily one.
    mixture = fitted.mixture
    assert [t.name for t in mixture.tiers] == ["low", "high"]
    assert mixture.mean_assigned_posterior > 0.999
    assert mixture.posterior.max(axis=1).min() > 0.999
    assert fitted.scenario["demand"]["complexity_mix"] == {"low": _rel(0.5), "high": _rel(0.5)}


def test_visits_interval_and_minutes_per_tier(fitted: Calibration) -> None:
    tiers = {t["name"]: t for t in fitted.scenario["tiers"]}
    # Follow-up visits per episode, censored geometric: the MLE of q is follow-ups ÷ (follow-ups +
    # completed episodes), so the mean q/(1-q) = follow-ups ÷ completed episodes. Visits after the
    # window's end (day 119) are cut and episodes not discharged by then are censored.
    # North: referrals d = 0..105 are discharged by day 119 (d+14 <= 119): 106 × 2 = 212 follow-ups;
    # d = 106..112 have the d+7 visit only (7 follow-ups); d = 113..119 none. 219 ÷ 106 = 2.0660.
    assert tiers["low"]["visits"]["mean"] == _rel(219 / 106)
    # South: d = 0..111 discharged (d+8 <= 119): 112 × 4 = 448; d = 112..119 have 3, 3, 2, 2, 1, 1,
    # 0, 0 follow-ups inside the window = 12. 460 ÷ 112 = 4.1071.
    assert tiers["high"]["visits"]["mean"] == _rel(460 / 112)
    # Interval between visits: the median gap, 7 and 2 days.
    assert tiers["low"]["interval_days"] == 7
    assert tiers["high"]["interval_days"] == 2
    # Face-to-face minutes of follow-ups (30, 45) and assessments (60, 75), all equal: cv 0.
    assert tiers["low"]["face_to_face_minutes"]["mean"] == _rel(30.0)
    assert tiers["high"]["face_to_face_minutes"]["mean"] == _rel(45.0)
    assert tiers["low"]["assessment_minutes"]["mean"] == _rel(60.0)
    assert tiers["high"]["assessment_minutes"]["mean"] == _rel(75.0)
    assert tiers["low"]["face_to_face_minutes"]["cv"] == pytest.approx(0.0, abs=1e-6)
    # Allowed grades: the bands recorded on each tier's visits, plus any band recorded on none
    # (band3 is in post but never on a visit, so every tier may use it).
    assert tiers["low"]["allowed_grades"] == ["band3", "band5"]
    assert tiers["high"]["allowed_grades"] == ["band3", "band6"]


def test_wte_by_band_and_locality(fitted: Calibration) -> None:
    grades = {g["name"]: g["fte"] for g in fitted.scenario["workforce"]["grades"]}
    # Band 3: 0.5 (South); Band 5: 4.0 (North); Band 6: 2.0 (North) + 1.5 (South) = 3.5.
    assert grades == {"band3": _rel(0.5), "band5": _rel(4.0), "band6": _rel(3.5)}
    # Locality staff shares: North 6.0 of 8.0 WTE = 0.75, South 2.0 of 8.0 = 0.25.
    shares = {loc["name"]: loc["staff_share"] for loc in fitted.scenario["localities"]}
    assert shares == {"North": _rel(0.75), "South": _rel(0.25)}


def test_admission_hazard_by_tier(fitted: Calibration) -> None:
    # Person-days under care: first visit to discharge, the discharge day included, cut at the
    # window's end (day 119 is the last day counted).
    # North: d = 0..105 discharged on d+14: 106 × 15 = 1,590 days; d = 106..119 under care from d to
    # day 119: 14 + 13 + … + 1 = 105 days. 1,695 person-days; 10 admissions: 10 ÷ 1,695 = 0.0058997.
    # South: d = 0..111 discharged on d+8: 112 × 9 = 1,008; d = 112..119: 8 + 7 + … + 1 = 36.
    # 1,044 person-days; 20 admissions: 20 ÷ 1,044 = 0.019157.
    af = fitted.admission_fit
    assert af is not None
    assert af.hazard_by_tier["low"].value == pytest.approx(10 / 1695, rel=POSTERIOR_REL)
    assert af.hazard_by_tier["high"].value == pytest.approx(20 / 1044, rel=POSTERIOR_REL)
    # The scenario holds them to 3 significant digits: 0.00590 and 0.0192.
    tiers = {t["name"]: t for t in fitted.scenario["tiers"]}
    assert tiers["low"]["daily_admission_hazard"] == _rel(10 / 1695, 5e-3)
    assert tiers["high"]["daily_admission_hazard"] == _rel(20 / 1044, 5e-3)
    assert af.person_days_by_tier["low"] == pytest.approx(1695, rel=POSTERIOR_REL)
    assert af.person_days_by_tier["high"] == pytest.approx(1044, rel=POSTERIOR_REL)
    # Length of stay: every stay 2 days.
    assert fitted.scenario["hospital"]["length_of_stay_days"]["mean"] == _rel(2.0)


def test_expected_admissions_per_referral(fitted: Calibration) -> None:
    # Referral to 60 days after discharge, for referrals followed that long inside the window: the
    # follow-up ends on (discharge day + 1) + 60, which must be at most day 120 (the day after the window).
    # North: discharge d+14 -> d + 75 <= 120 -> d = 0..45: 46 referrals holding all 10 admissions
    # (d = 0..9): 10 ÷ 46 = 0.21739. South: discharge d+8 -> d + 69 <= 120 -> d = 0..51: 52 referrals,
    # 20 admissions (d = 0..19): 20 ÷ 52 = 0.38462.
    af = fitted.admission_fit
    assert af is not None
    assert af.expected_per_referral["low"].value == pytest.approx(10 / 46, rel=POSTERIOR_REL)
    assert af.expected_per_referral["high"].value == pytest.approx(20 / 52, rel=POSTERIOR_REL)
    expected = fitted.scenario["contracts"]["outcomes"]["expected_admissions_per_referral"]
    assert expected == {"low": _rel(10 / 46, 5e-3), "high": _rel(20 / 52, 5e-3)}
    assert af.referrals_followed == {
        "low": pytest.approx(46, rel=POSTERIOR_REL),
        "high": pytest.approx(52, rel=POSTERIOR_REL),
    }


def test_predictive_interval_order_statistics() -> None:
    from fundsim.calibrate.check import predictive_interval

    # R = 39: k = floor(0.025 × 40) = 1, the smallest to the largest; coverage (40 − 2)/40 = 0.95.
    assert predictive_interval(np.arange(1.0, 40.0)) == (1.0, 39.0, 0.95)
    # R = 79: k = floor(0.025 × 80) = 2, the 2nd smallest to the 2nd largest; (80 − 4)/80 = 0.95.
    assert predictive_interval(np.arange(1.0, 80.0)) == (2.0, 78.0, 0.95)
    # R = 5: k = max(1, floor(0.15)) = 1; coverage (6 − 2)/6 = 2/3: stated, not pretended to be 95%.
    low, high, level = predictive_interval(np.array([5.0, 1.0, 4.0, 2.0, 3.0]))
    assert (low, high) == (1.0, 5.0)
    assert level == pytest.approx(2 / 3)


def test_predictive_interval_covers_one_more_draw_as_stated() -> None:
    from fundsim.calibrate.check import predictive_interval

    # 4,000 trials: 19 replications and one more draw from the same (skewed, discrete) distribution,
    # Poisson(25) like a month's referrals. Stated coverage (20 − 2)/20 = 0.90 is exact for continuous
    # draws and a lower bound with ties, so the hit rate must be at least 0.90 less sampling error:
    # binomial sd sqrt(0.9 × 0.1 / 4000) = 0.0047; 3.3 sd (one-sided 0.0005) below 0.90 is 0.884.
    rng = np.random.default_rng(20251)
    hits = 0
    for _ in range(4000):
        draws = rng.poisson(25, size=20).astype(float)
        low, high, level = predictive_interval(draws[:19])
        hits += low <= draws[19] <= high
    assert level == pytest.approx(0.9)
    assert hits / 4000 >= 0.884
    # Continuous draws: exact 0.90, two-sided 3.3 sd: 0.884–0.916.
    hits = 0
    for _ in range(4000):
        draws = rng.lognormal(0.0, 1.0, size=20)
        low, high, _level = predictive_interval(draws[:19])
        hits += low <= draws[19] <= high
    assert 0.884 <= hits / 4000 <= 0.916


def test_coverage_table_counts_and_binomial_interval() -> None:
    from fundsim.calibrate.check import coverage_table

    # Four held-out months of one measure: 3 within, 1 above; one fitted month (not counted).
    sides = ["within", "within", "above", "within", "below"]
    table = pd.DataFrame(
        {
            "measure": ["contacts"] * 5,
            "label": ["Contacts"] * 5,
            "held_out": [True, True, True, True, False],
            "side": sides,
            "within": [s == "within" for s in sides],
            "expected_share": [0.95] * 5,
        }
    )
    row = coverage_table(table).iloc[0]
    assert (row["months_compared"], row["months_within"], row["months_above"], row["months_below"]) == (4, 3, 1, 0)
    assert row["share_within"] == 0.75
    # Clopper–Pearson for 3 of 4: lower = the 2.5% point of Beta(3, 2) = 0.1941; upper = the 97.5%
    # point of Beta(4, 1), whose distribution function is x^4, so 0.975^(1/4) = 0.99369.
    assert row["share_ci_low"] == pytest.approx(0.1941, abs=1e-4)
    assert row["share_ci_high"] == pytest.approx(0.975**0.25, abs=1e-4)
    assert row["consistent"] == "yes"


def test_suppressed_months_are_neither_shown_nor_compared() -> None:
    from fundsim.calibrate.check import compare

    # Month 1: 3 referrals and 5 contacts (1-7: suppressed), so their hours are not shown either;
    # month 2: 20 referrals (shown as 20), 40 contacts (40). Five replications valued 0..4 give the
    # band 0-4 (k = 1) with stated coverage (6 - 2)/6 = 2/3.
    months = [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]
    observed = pd.DataFrame(
        {
            "month": months,
            "referrals": [3.0, 20.0],
            "contacts": [5.0, 40.0],
            "contact_hours": [2.5, 20.0],
            "caseload_end": [0.0, 12.0],
            "wait_mean_days": [float("nan"), 3.0],
        }
    )
    sim = pd.concat(
        pd.DataFrame({"month": months, **{c: [float(i)] * 2 for c in observed.columns if c != "month"}})
        for i in range(5)
    )
    table = compare(observed, sim, months, holdout_months=1).set_index(["measure", "month"])
    first, second = "2025-01-01", "2025-02-01"
    for measure in ("referrals", "contacts", "contact_hours"):
        assert pd.isna(table.loc[(measure, first), "observed"])
        assert table.loc[(measure, first), "side"] == ""
    assert table.loc[("caseload_end", first), "observed"] == 0  # a zero is shown and compared
    assert table.loc[("caseload_end", first), "side"] == "within"
    assert table.loc[("referrals", second), "observed"] == 20
    assert table.loc[("referrals", second), "side"] == "above"
    assert table.loc[("caseload_end", second), "observed"] == 10  # 12 rounded to the nearest 5
    assert table.loc[("wait_mean_days", second), "side"] == "within"
    assert table.loc[("referrals", second), "expected_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert list(table.loc[("referrals", second), ["sim_low", "sim_high"]]) == [0.0, 4.0]


@pytest.fixture(scope="module")
def known_extract(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("known-state") / "extract"
    _write_extract(folder)
    extract = read_extract(folder)
    return extract, fit_scenario(extract, name="known", n_tiers=2)


def test_start_state_on_a_given_day(known_extract) -> None:
    """The lists open on 2025-01-31 (day 30), as the check starts from them, worked out by hand.

    North (weekly plan, tier low; discharged on d+14): open on day 30 when received by then and
    discharged after it, d = 17..30, 14 referrals, each visited on its referral day; follow-ups made
    by day 30 (visits on d+7 <= 30): 1 for d = 17..23, 0 for d = 24..30, so all 14 are in the 0-1
    band: shown as 15 (rounded to 5), the published total 15. South (two-daily plan, tier high;
    discharged on d+8): d = 23..30, 8 referrals; follow-ups made (d+2, d+4, d+6 <= 30): 3, 3, 2, 2
    for d = 23..26 (band 2-4) and 1, 1, 0, 0 for d = 27..30 (band 0-1): two cells of 4, both
    suppressed (1-7), sharing out the published total of 8 rounded to 10: 5 each. Nobody waits
    (every first visit is on the referral day). Contacts after day 30 are not looked at.
    """
    from fundsim.calibrate.initial_state import start_state

    extract, cal = known_extract
    state = start_state(extract, cal, as_of=pd.Timestamp("2025-01-31"))
    assert state.section["as_of"] == "2025-01-31"
    assert state.caseload_open == 14 + 8
    assert state.waiting_open == 0
    by_loc = {loc["locality"]: loc for loc in state.section["localities"]}
    north = [(c["tier"], c["visits_made_min"], c["people"]) for c in by_loc["North"]["caseload"]]
    assert north == [("low", 0, 15)]
    south = sorted((c["tier"], c["visits_made_min"], c["people"]) for c in by_loc["South"]["caseload"])
    assert south == [("high", 0, 5), ("high", 2, 5)]
    assert state.suppressed_cells == 2
    assert "waiting" not in by_loc["North"]
    assert "waiting" not in by_loc["South"]


def test_observed_wait_of_a_same_day_first_contact_is_zero(known_extract) -> None:
    # Every first visit is on the referral day: 0 days between the dates, less the half day of the
    # model's arrival time, is below 0 and counts as 0 (the contact came after the referral that day).
    from fundsim.calibrate.check import observed_monthly

    extract, cal = known_extract
    observed = observed_monthly(extract, cal.months)
    assert observed["wait_mean_days"].tolist() == [0.0, 0.0, 0.0, 0.0]
