"""The virtual ward's places against queueing theory: Erlang's loss formula and Little's law.

With GP step-ups only (a Poisson stream), no escalation and no caseload step-ups, a locality's ward
is an M/G/c/c loss system: c places, arrivals refused when all are taken. Its blocking probability
is Erlang B, B(c, a) with offered load a = λ × E[stay], whatever the stay's distribution; its
mean occupancy obeys Little's law, L = λ_accepted × E[stay]. The ward is driven night by night on
its own (no core service runs: GP step-ups depend on nothing in the core), through the same
:meth:`~fundsim.sim.virtual_ward.VirtualWardService.overnight` the simulation calls.

Refusals are correlated in time (a full ward stays full for a while), so a binomial interval on
one run's pooled count would be too narrow; each check instead uses independent replications and a
t-interval at 99.9% (few checks here, so the family error stays under 1%, Bonferroni).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import small_dict
from scipy import stats

from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import build_calendar
from fundsim.sim.service import ServiceModel
from fundsim.sim.streams import RandomStreams

#: Days in a month, as the ward's rate per month is read (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12.0
POPULATION = 100_000


def erlang_b(c: int, a: float) -> float:
    """Erlang's loss formula by its recursion: B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def _scenario(places: int, per_day: float, stay: dict, years: float = 4.0) -> Scenario:
    d = small_dict(population=POPULATION, years=years, warmup_days=60)
    d["addons"] = {
        "virtual_ward": {
            "places_per_locality": places,
            "gp_step_ups_per_100k_per_month": per_day * DAYS_PER_MONTH,  # 100,000 people: the rate is per day
            "step_up_share": 0.0,
            "step_down_share": 0.0,
            "escalation_probability": 0.0,
            "length_of_stay_days": stay,
        }
    }
    return Scenario.model_validate(d)


def _drive(sc: Scenario, replication: int) -> tuple[dict[str, float], float]:
    """Run the ward alone over the scenario's days; its column totals over the measured months, and their days."""
    calendar = build_calendar(sc.simulation)
    service = ServiceModel(sc, calendar, RandomStreams(sc.simulation.seed, replication))
    ward = service.ward
    assert ward is not None
    nobody = np.empty(0, dtype=np.int64)
    for day in range(calendar.n_days):
        assert len(ward.overnight(day, nobody)) == 0
        assert (ward.occupied() <= ward.places).all()
    ward.close(float(calendar.n_days))
    sums = {name: float(v.sum()) for name, v in service.accounts.sums.items() if name.startswith("vw_")}
    return sums, float(calendar.n_days - calendar.warmup_days)


def _t_half_width(values: list[float], alpha: float = 0.001) -> float:
    return float(stats.t.ppf(1 - alpha / 2, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))


@pytest.mark.parametrize(
    ("places", "per_day", "mean_stay"),
    [(4, 1.0, 4.0), (2, 0.5, 2.0), (6, 1.5, 3.0)],
)
def test_refusals_match_erlang_b(places: int, per_day: float, mean_stay: float) -> None:
    a = per_day * mean_stay
    expected = erlang_b(places, a)
    assert 0.05 < expected < 0.5  # refusals common enough to measure, rare enough to be a ward
    sc = _scenario(places, per_day, {"mean": mean_stay, "distribution": "exponential"})
    shares = []
    for rep in range(20):
        sums, _ = _drive(sc, rep)
        arrived = sums["vw_admissions_step_up"] + sums["vw_refused_full"]
        assert arrived > 300
        shares.append(sums["vw_refused_full"] / arrived)
    mean = float(np.mean(shares))
    half = _t_half_width(shares)
    assert abs(mean - expected) < half, (mean, expected, half)


@pytest.mark.parametrize(
    ("places", "stay"),
    [
        (1000, {"mean": 5.0, "cv": 0.8, "distribution": "gamma"}),  # never full: M/G/infinity
        (5, {"mean": 5.0, "cv": 0.8, "distribution": "gamma"}),  # often full: a loss system
        (3, {"mean": 4.0, "distribution": "fixed"}),
    ],
)
def test_occupancy_obeys_littles_law(places: int, stay: dict) -> None:
    """Mean occupied places = accepted arrivals a day × the mean stay (from theory, not from the run)."""
    sc = _scenario(places, 1.0, stay)
    gaps, stays = [], []
    for rep in range(12):
        sums, days = _drive(sc, rep)
        occupancy = sums["vw_occupied_place_days"] / days
        accepted_per_day = sums["vw_admissions_step_up"] / days
        gaps.append(occupancy - accepted_per_day * stay["mean"])
        stays.append(sums["vw_stay_days"] / sums["vw_stays_ended"])
        # The ward can never hold more than its places.
        assert sums["vw_occupied_place_days"] <= places * days + 1e-6
    assert abs(float(np.mean(gaps))) < _t_half_width(gaps), gaps
    # The stays that ended have the configured mean (no escalation: every stay runs its length).
    assert abs(float(np.mean(stays)) - stay["mean"]) < max(_t_half_width(stays), 1e-9), stays


def test_a_ward_that_is_never_full_refuses_no_one() -> None:
    sums, days = _drive(_scenario(1000, 1.0, {"mean": 5.0, "cv": 0.8, "distribution": "gamma"}, years=1.0), 0)
    assert sums["vw_refused_full"] == 0
    # Poisson arrivals at 1 a day over the measured days: within 4 standard deviations.
    assert abs(sums["vw_admissions_step_up"] - days) < 4 * math.sqrt(days)
    assert sums["vw_admissions_step_up_gp"] == sums["vw_admissions_step_up"]
    assert sums["vw_admissions_avoided_gp"] == sums["vw_admissions_step_up"]
    assert sums["vw_places_days"] == 1000 * days


def test_gp_escalations_are_a_binomial_share() -> None:
    """Each accepted GP step-up escalates with escalation_probability, independently: a binomial count."""
    p = 0.3
    d = small_dict(population=POPULATION, years=3.0, warmup_days=60)
    ward = {"places_per_locality": 1000, "gp_step_ups_per_100k_per_month": 60.0, "step_up_share": 0.0,
            "step_down_share": 0.0, "escalation_probability": p}  # fmt: skip
    d["addons"] = {"virtual_ward": ward}
    sums, _ = _drive(Scenario.model_validate(d), 0)
    n = sums["vw_admissions_step_up_gp"]
    escalated = n - sums["vw_admissions_avoided_gp"]
    assert n > 1000
    half = stats.norm.ppf(1 - 0.001 / 2) * math.sqrt(p * (1 - p) / n)
    assert abs(escalated / n - p) < half, (escalated / n, half)
    # Admissions from the ward are the escalations, counted when they happen (a few fall after the horizon).
    assert 0 <= escalated - sums["vw_admissions_from_ward"] <= 10
    assert sums["vw_admissions_from_ward_gp"] == sums["vw_admissions_from_ward"]
