"""The ``initial_state`` section: a run can start from today's caseload and waiting list (issue 18).

* theory: on an M/G/inf caseload (ample staff, fixed care plans, no admissions) the steady-state
  caseload is λ × n × d (Little's law: arrivals a day × days on the caseload). Seeded with it, the
  first month's mean caseload equals it within a 95% confidence interval; a cold start without a
  warm-up is far below it (the bias the section removes);
* a seeded waiting list drains and its waits count from the seeded wait;
* bad sections give located errors through :func:`fundsim.load_scenario`;
* seeding draws from its own stream: the referrals are the same with and without it;
* the round trip: calibrate the shipped extract, load, run, and start near its open caseload.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import poisson
from scipy.stats import t as t_dist

import fundsim
from fundsim.errors import ScenarioError
from fundsim.scenario.models import Scenario
from fundsim.sim.engine import simulate

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"

#: The M/G/inf test service: λ = 100,000 / 1000 × 14.61 / 365.25 = 4 referrals a day, every episode
#: n = 10 follow-up visits d = 6 days apart, so n × d = 60 days on the caseload and L = 240.
LAMBDA_PER_DAY = 4.0
N_VISITS, INTERVAL_DAYS = 10, 6
STEADY_CASELOAD = LAMBDA_PER_DAY * N_VISITS * INTERVAL_DAYS
REPLICATIONS = 20


def _tiny() -> dict:
    return yaml.safe_load(TINY.read_text(encoding="utf-8"))


def _mg_inf(initial_state: dict | None) -> Scenario:
    """One locality, one tier with a fixed plan, staff far beyond the work, no admissions, flat demand."""
    d = _tiny()
    d["simulation"]["warmup_days"] = 0
    d["demand"].update(growth_per_year=0.0, weekday_profile=[1] * 7, urgent_share=0.0)
    d["demand"]["seasonality"] = {"winter_amplitude": 0.0, "peak_day_of_year": 15}
    d["demand"]["complexity_mix"] = {"only": 1.0}
    d["demand"].pop("complexity_mix_end", None)
    d["localities"] = [{"name": "Village", "population": 100_000, "referral_rate_per_1000_per_year": 14.61}]
    tier = d["tiers"][0]
    tier.update(name="only", interval_days=INTERVAL_DAYS, daily_admission_hazard=0.0)
    tier["visits"] = {"mean": N_VISITS, "distribution": "fixed"}
    tier["allowed_grades"] = [g["name"] for g in d["workforce"]["grades"]]
    d["tiers"] = [tier]
    for g in d["workforce"]["grades"]:
        g.update(fte=40.0, weekend_staffing_ratio=1.0)
    d["care"] = {**d.get("care", {}), "min_accepted_tier": 0}
    _drop_tier_keyed(d)
    d["initial_state"] = initial_state
    return Scenario.model_validate(d)


def _drop_tier_keyed(d: dict) -> None:
    """Contract settings keyed by the tiny scenario's tiers do not fit a one-tier service: keep the block."""
    d["contracts"] = {"block": d["contracts"]["block"]}
    d["contract"] = "block"


def _month_one_mean_caseload(scenario: Scenario) -> np.ndarray:
    out = []
    for r in range(REPLICATIONS):
        led = simulate(scenario, r).ledger
        first = led.iloc[0]
        assert first["visit_deferrals"] == 0  # no staff shortage: an M/G/inf caseload
        assert first["visits_missed"] == 0
        out.append(first["caseload_days"] / first["days"])
    return np.array(out)


def _ci(x: np.ndarray) -> tuple[float, float]:
    half = t_dist.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def test_steady_state_seed_removes_the_cold_start_bias() -> None:
    """Seeded with L = λnd, visits made uniform on 0..n-1 (the steady state's ages), month 1 averages L.

    At time 0 the people under care in the steady state were assessed on days -nd .. -1, so their
    follow-up visits made are uniform on 0 .. n-1 and their next visit uniform in the cycle (what
    seeding draws); those waiting were referred on day -1 (λ of them, waited under a day).
    """
    seeded = _mg_inf(
        {
            "localities": [
                {
                    "locality": "Village",
                    "caseload": [
                        {"tier": "only", "people": int(STEADY_CASELOAD), "visits_made_min": 0,
                         "visits_made_max": N_VISITS - 1},
                    ],
                    "waiting": [{"people": int(LAMBDA_PER_DAY), "waited_weeks_min": 0, "waited_weeks_max": 1 / 7}],
                }
            ]
        }
    )  # fmt: skip
    lo, hi = _ci(_month_one_mean_caseload(seeded))
    assert lo <= STEADY_CASELOAD <= hi, (lo, hi)
    # Cold start, no warm-up: the caseload fills at λ a day, so April (30 days of a 60-day episode)
    # averages about λ × 14.5 = 58, a quarter of L. Require it clearly below: under half of L.
    cold_lo, cold_hi = _ci(_month_one_mean_caseload(_mg_inf(None)))
    assert cold_hi < 0.5 * STEADY_CASELOAD, (cold_lo, cold_hi)


def _waiting_only(people: int, weeks: tuple[float, float]) -> Scenario:
    d = _tiny()
    d["simulation"]["warmup_days"] = 0
    d["localities"][0]["referral_rate_per_1000_per_year"] = 0.01  # about no new referrals
    for g in d["workforce"]["grades"]:
        g.update(fte=20.0)
    d["initial_state"] = {
        "localities": [
            {
                "locality": "Village",
                "waiting": [{"people": people, "waited_weeks_min": weeks[0], "waited_weeks_max": weeks[1]}],
            }
        ]
    }
    return Scenario.model_validate(d)


def test_seeded_waiting_list_drains_and_waits_count_from_the_seeded_wait() -> None:
    """30 people who waited 2-3 weeks are assessed in month 1; each wait is 14-21 days plus the days to assessment."""
    n, (w0, w1) = 30, (2.0, 3.0)
    led = simulate(_waiting_only(n, (w0, w1)), 0, check=True).ledger
    first = led.iloc[0]
    new = int(first["referrals"])
    assert first["assessments"] >= n
    assert first["waiting_list_end"] <= new  # every seeded person has been assessed
    assert int(first["referrals"]) == int(first["referrals_urgent"]) + int(
        first["referrals"] - first["referrals_urgent"]
    )
    # Total wait of the month's assessments: the seeded ones waited at least 14 days and at most
    # 21 + the month's 30 days; new referrals (if any) at most 30 days each.
    total_wait = first["wait_mean_days"] * first["assessments"]
    assert 7 * w0 * n <= total_wait <= (7 * w1 + 30) * n + 30 * new
    # With ample staff they are assessed within the first days: the mean is close to the seeded mean.
    assert first["wait_mean_days"] >= 7 * w0
    assert led["waiting_list_end"].iloc[-1] <= led["referrals"].iloc[-1]


def test_seeding_leaves_the_referral_stream_alone() -> None:
    """Referrals come from their own streams: the same counts, by source and tier, with or without a seed."""
    d = _tiny()
    base = simulate(Scenario.model_validate(d), 1).ledger
    d["initial_state"] = {
        "localities": [{"locality": "Village", "caseload": [{"tier": "medium", "people": 25, "visits_made_min": 3}]}]
    }
    seeded = simulate(Scenario.model_validate(d), 1, check=True).ledger
    # Who was referred, not what the provider did with them (declines follow the state of the lists).
    ref_cols = [c for c in base.columns if c.startswith("referrals") and c != "referrals_declined"]
    assert ref_cols
    assert base[ref_cols].equals(seeded[ref_cols])
    # The seeded caseload's visits count: more visits in month 1 than the run that started emptier.
    assert seeded["visits_delivered"].iloc[0] > base["visits_delivered"].iloc[0]


def test_an_empty_section_changes_nothing() -> None:
    """A section seeding nobody gives a ledger identical to the section absent (nothing drawn elsewhere)."""
    d = _tiny()
    base = simulate(Scenario.model_validate(d), 0).ledger
    d["initial_state"] = {"localities": [{"locality": "Village"}]}
    same = simulate(Scenario.model_validate(d), 0).ledger
    assert base.equals(same)


BAD_SECTIONS = [
    ({"localities": [{"locality": "Nowhere"}]}, "initial_state.localities[0].locality", "unknown locality"),
    (
        {"localities": [{"locality": "Village", "caseload": [{"tier": "extreme", "people": 3}]}]},
        "initial_state.localities[0].caseload[0].tier",
        "unknown tier",
    ),
    (
        {"localities": [{"locality": "Village", "caseload": [{"tier": "low", "people": -4}]}]},
        "initial_state.localities[0].caseload[0].people",
        ">= 0",
    ),
    (
        {"localities": [{"locality": "Village", "waiting": [{"people": 4, "waited_weeks_max": 0}]}]},
        "initial_state.localities[0].waiting[0].waited_weeks_max",
        "> 0",
    ),
    (
        {
            "localities": [
                {
                    "locality": "Village",
                    "caseload": [{"tier": "low", "people": 4, "visits_made_min": 5, "visits_made_max": 2}],
                }
            ]
        },
        "initial_state.localities[0].caseload[0]",
        "below visits_made_min",
    ),
    (
        {"localities": [{"locality": "Village", "caseload": [{"tier": "low", "people": 4, "visits_made_min": 400}]}]},
        "initial_state.localities[0].caseload[0]",
        "visits.maximum",
    ),
    (
        {"localities": [{"locality": "Village", "waiting": [{"people": 4, "waited_weeks_max": 2, "colour": 1}]}]},
        "initial_state.localities[0].waiting[0].colour",
        "",
    ),
    ({"localities": [{"locality": "Village"}, {"locality": "Village"}]}, "initial_state", "more than once"),
]


def test_continuous_scheduling_refuses_an_initial_state(tmp_path: Path) -> None:
    d = _tiny()
    d["simulation"]["scheduling"] = "continuous"
    d["initial_state"] = {"localities": [{"locality": "Village"}]}
    path = tmp_path / "cont.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError, match="continuous"):
        fundsim.load_scenario(path)


@pytest.mark.parametrize(("section", "field", "words"), BAD_SECTIONS)
def test_bad_sections_are_located(tmp_path: Path, section: dict, field: str, words: str) -> None:
    d = _tiny()
    d["initial_state"] = section
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        fundsim.load_scenario(path)
    problems = info.value.problems
    # A field's own bound names the field; a cross-check (a model validator) names it in its message.
    hits = [p for p in problems if p.field.startswith(field) or p.message.startswith(field)]
    assert hits, [(p.field, p.message) for p in problems]
    p = hits[0]
    assert p.file.endswith("bad.yaml")
    assert p.line is not None
    assert p.line > 1
    assert words in p.message
    # The line named is in the initial_state section (the last block of the dumped file).
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines, 1) if line.startswith("initial_state:"))
    assert p.line >= start


def test_the_example_without_the_section_is_unchanged() -> None:
    """The shipped scenarios carry no initial state, so they start empty as before (backtest pins the numbers)."""
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert fundsim.load_scenario(path).initial_state is None


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from fundsim.calibrate.api import calibrate

    out = tmp_path_factory.mktemp("cal") / "mine.yaml"
    result = calibrate(ROOT / "data" / "example-extract", out)
    state = json.loads((out.with_name("mine.initial_state.json")).read_text(encoding="utf-8"))
    return out, {"state": state, "open": result.calibration.initial_state}


def test_calibrate_round_trip_starts_from_the_open_caseload(calibrated: tuple[Path, dict]) -> None:
    """Calibrate the shipped extract; the scenario validates, runs, and month 1 starts near the open caseload.

    The seeded caseload adds up to the published open count (rounded to 5, so within 2.5 of the
    extract's true count): shown cells are rounded and the suppressed ones share out the rest.
    Over the first month the caseload then moves by entries less discharges; a service in steady
    state has no drift on average and a Poisson-like spread of about √(caseload) (the caseload of
    an M/G/inf system is Poisson). The first month's mean caseload, averaged over 5 replications,
    must lie within 2.5 + 3√(open) of the open count: three standard deviations of one month,
    more than enough for a mean of five (the extract is synthetic, from a service near steady state).
    """
    out, info = calibrated
    scenario = fundsim.load_scenario(out)
    state = scenario.initial_state
    assert state is not None
    open_caseload = info["state"]["caseload_total"]
    assert open_caseload is not None
    assert open_caseload > 0
    seeded = sum(g.people for loc in state.localities for g in loc.caseload)
    assert seeded == open_caseload
    assert scenario.simulation.warmup_days == 0
    assert scenario.simulation.start_date.isoformat() > info["state"]["as_of"]
    res = fundsim.run_scenario(scenario, 5)
    first = res.ledger[res.ledger["month"] == res.ledger["month"].min()]
    month_mean = float((first["caseload_days"] / first["days"]).mean())
    tol = 2.5 + 3 * np.sqrt(open_caseload)
    assert abs(month_mean - open_caseload) <= tol, (month_mean, open_caseload, tol)


def test_calibrated_section_holds_aggregates_only(calibrated: tuple[Path, dict]) -> None:
    """Each count is 0, a multiple of 5, or a suppressed cell's share (1-7); comments say where each came from."""
    out, _ = calibrated
    text = out.read_text(encoding="utf-8")
    section = text[text.index("\ninitial_state:") :]
    assert section.count("open referrals on") >= 2
    raw = yaml.safe_load(text)
    for loc in raw["initial_state"]["localities"]:
        for g in (*loc.get("caseload", []), *loc.get("waiting", [])):
            assert g["people"] % 5 == 0 or 1 <= g["people"] <= 7


def test_seed_cells_share_out_the_published_total() -> None:
    """Hand-worked: cells 10.2, 3, 2.6, 1 of 17 people -> 10 shown; the total rounds to 15, so 5 left for three."""
    from fundsim.calibrate.initial_state import seed_cells

    people, hidden, total = seed_cells([10.2, 3, 2.6, 1], 17)
    assert total == 15
    assert hidden == [False, True, True, True]
    assert people == [10, 2, 2, 1]
    # A suppressed total (1-7) is taken as 4; two suppressed cells get 2 each.
    assert seed_cells([3, 2], 5) == ([2, 2], [True, True], 4)
    # No room left after the shown cells: every suppressed cell is still at least 1.
    assert seed_cells([12, 9, 2], 21)[0] == [10, 10, 1]  # 21 -> 20: nothing left


def test_no_section_seeds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the section the seeding code is never reached (so every ledger is as before: backtest, golden)."""
    import fundsim.sim.service as service_module

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("seeded without an initial_state")

    monkeypatch.setattr(service_module, "seed_initial_state", refuse)
    simulate(Scenario.model_validate(_tiny()), 0)


def test_visits_to_come_follow_the_plan_given_those_made() -> None:
    """N - made given N > made: fixed plans exactly; geometric memoryless (mean 1 + plan mean); Poisson truncated."""
    from fundsim.scenario.models import VisitCount
    from fundsim.sim.initial_state import remaining_visits

    rng = np.random.default_rng(7)
    made = np.array([0, 3, 9, 12])
    fixed = remaining_visits(VisitCount(mean=10, distribution="fixed"), made, rng)
    assert fixed.tolist() == [10, 7, 1, 1]  # at least one visit to come, even past the plan
    n = 200_000
    geo = remaining_visits(VisitCount(mean=5, distribution="geometric"), np.full(n, 4), rng)
    # Geometric on {1, 2, ...} with mean 6: sd = sqrt(q)/p = sqrt(5/6) * 6; 4-sigma band of the mean.
    sd = np.sqrt(5 / 6) * 6
    assert abs(geo.mean() - 6.0) < 4 * sd / np.sqrt(n)
    assert geo.min() >= 1
    poi = remaining_visits(VisitCount(mean=8, distribution="poisson"), np.full(n, 8), rng)
    assert poi.min() >= 1
    # E[N - 8 | N > 8] for N ~ Poisson(8), summed exactly from the pmf.
    k = np.arange(9, 200)
    pmf = poisson.pmf(k, 8)
    expected = float(((k - 8) * pmf).sum() / pmf.sum())
    var = float((((k - 8) - expected) ** 2 * pmf).sum() / pmf.sum())
    assert abs(poi.mean() - expected) < 4 * np.sqrt(var / n)
    capped = remaining_visits(VisitCount(mean=50, distribution="geometric", maximum=20), np.full(1000, 15), rng)
    assert capped.max() <= 5
