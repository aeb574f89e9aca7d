"""The urgent community response's queue against queueing theory, and its common random numbers.

With a flat hour profile, no journey and exponential times on scene, a locality's UCR is an M/M/c
queue, whose waiting-time distribution is known exactly (Erlang C):
P(W > t) = C(c, a) · exp(−(cμ − λ) t), a = λ/μ. The share of calls reached within the target is
then P(W ≤ target). The simulated shares are means over independent replications, compared with
a t-interval at 99.9% (Bonferroni over the few checks here keeps the family error under 1%).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from fundsim.scenario.addon_models import ENGLAND_UCR_CALLS_PER_100K_PER_MONTH, UrgentResponse
from fundsim.scenario.service_models import DurationMinutes
from fundsim.sim.kernels import numba_available
from fundsim.sim.urgent_response import (
    draw_call_times,
    fcfs_waits,
    queue_waits,
    simulate_calls,
    take_shared_minutes,
)

FLAT = (1.0,) * 24


def erlang_c(c: int, a: float) -> float:
    """Probability an arrival waits in an M/M/c queue with offered load ``a`` = λ/μ (< c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def p_wait_within(c: int, lam_per_min: float, mean_service_min: float, t_min: float) -> float:
    """P(W <= t) in M/M/c (Erlang C)."""
    mu = 1.0 / mean_service_min
    a = lam_per_min / mu
    return 1.0 - erlang_c(c, a) * math.exp(-(c * mu - lam_per_min) * t_min)


def mmc_spec(calls_per_day: float, population: int, service_min: float, target_h: float) -> UrgentResponse:
    per_month = calls_per_day * (365.25 / 12.0) / population * 100_000.0
    return UrgentResponse(
        calls_per_100k_per_month=per_month,
        hour_profile=FLAT,
        target_hours=target_h,
        travel_minutes=DurationMinutes(mean=0.0, distribution="fixed"),
        on_scene_minutes=DurationMinutes(mean=service_min, distribution="exponential"),
    )


@pytest.mark.parametrize(
    ("responders", "calls_per_day", "service_min", "target_h"),
    [(1, 12.0, 80.0, 2.0), (3, 40.0, 90.0, 0.5), (2, 20.0, 100.0, 1.0)],
)
def test_reach_share_matches_erlang_c(
    responders: int, calls_per_day: float, service_min: float, target_h: float
) -> None:
    population = 100_000
    spec = mmc_spec(calls_per_day, population, service_min, target_h)
    lam = calls_per_day / (24 * 60)
    rho = lam * service_min / responders
    assert 0.5 < rho < 0.85  # loaded enough that waiting matters, stable enough to settle
    expected = p_wait_within(responders, lam, service_min, target_h * 60)
    shares = []
    for seed in range(30):
        calls = simulate_calls(spec, population, 120, responders, np.random.default_rng(seed))
        keep = calls.arrival_day >= 10  # the first days start from an empty queue
        shares.append(calls.reached[keep].mean())
    mean = float(np.mean(shares))
    half = stats.t.ppf(1 - 0.001 / 2, len(shares) - 1) * np.std(shares, ddof=1) / math.sqrt(len(shares))
    assert abs(mean - expected) < half, (mean, expected, half)


def test_abundant_responders_reach_everyone_in_time() -> None:
    spec = UrgentResponse(responders_per_locality=50)
    calls = simulate_calls(spec, 250_000, 90, 50, np.random.default_rng(3))
    assert len(calls.reached) > 500
    # No one waits with 50 responders for ~10 calls a day: only a journey over 2 hours misses.
    assert (calls.wait_minutes == 0).all()
    np.testing.assert_array_equal(calls.reached, calls.travel_minutes <= 120)
    assert calls.reached.mean() > 0.99


def test_call_counts_match_the_national_rate() -> None:
    """About 129 calls a month per 100,000 people (73,455 in England in October 2023): Poisson bounds."""
    spec = UrgentResponse()
    days = 365
    n = len(draw_call_times(spec, 200_000, days, np.random.default_rng(11)))
    expected = ENGLAND_UCR_CALLS_PER_100K_PER_MONTH * 2 * days / (365.25 / 12)
    assert abs(n - expected) < 4 * math.sqrt(expected)


def test_calls_follow_the_hour_profile() -> None:
    spec = UrgentResponse()
    times = draw_call_times(spec, 500_000, 200, np.random.default_rng(5))
    hours = np.floor((times % 1.0) * 24).astype(int)
    counts = np.bincount(hours, minlength=24)
    assert counts[:8].sum() == 0  # none before 8am
    assert counts[20:].sum() == 0  # nor after 8pm
    weights = np.asarray(spec.hour_profile) / sum(spec.hour_profile)
    chi2 = stats.chisquare(counts[8:20], weights[8:20] * counts.sum())
    assert chi2.pvalue > 0.001


def test_staffing_changes_only_the_waits_common_random_numbers() -> None:
    spec = UrgentResponse()
    one = simulate_calls(spec, 300_000, 60, 1, np.random.default_rng(8))
    many = simulate_calls(spec, 300_000, 60, 6, np.random.default_rng(8))
    np.testing.assert_array_equal(one.arrival_day, many.arrival_day)
    np.testing.assert_array_equal(one.responder_minutes, many.responder_minutes)
    np.testing.assert_array_equal(one.admitted_without, many.admitted_without)
    assert one.wait_minutes.mean() > many.wait_minutes.mean()
    assert one.reached.mean() < many.reached.mean()
    # Monotone coupling: nobody is admitted with the service who would not be admitted without it.
    assert not (one.admitted & ~one.admitted_without).any()
    assert one.admitted.sum() >= many.admitted.sum()


def _compiled_fcfs_waits(arrival: np.ndarray, busy: np.ndarray, responders: int) -> np.ndarray:
    """fundsim.sim.addons_compiled.fcfs_waits (numba's twin); the test skips without numba."""
    pytest.importorskip("numba")
    from fundsim.sim.addons_compiled import fcfs_waits as compiled

    return compiled(arrival, busy, responders)


@pytest.mark.parametrize("waits_of", [queue_waits, fcfs_waits, _compiled_fcfs_waits])
def test_fifo_waits_by_hand(waits_of) -> None:  # type: ignore[no-untyped-def]
    """Two responders; calls at 0, 10, 20, 30 minutes each holding one for 25 minutes."""
    waits = waits_of(np.array([0.0, 10.0, 20.0, 30.0]), np.full(4, 25.0), 2)
    # Call 3 waits for call 1 to finish at 25 (5 min); call 4 for call 2 at 35 (5 min).
    np.testing.assert_allclose(waits, [0.0, 0.0, 5.0, 5.0])


@pytest.mark.parametrize("responders", [1, 2, 3, 7])
def test_the_recursion_is_the_simpy_queue(responders: int) -> None:
    """The model's recursion gives the SimPy process's waits, call by call, busy or quiet.

    Heavy traffic (offered load 0.95 × responders, so long queues form) and light; the two agree to
    rounding (SimPy's clock reaches an arrival by adding the gap to the previous one).
    """
    rng = np.random.default_rng(17 + responders)
    for load in (0.3, 0.95):
        n = 4_000
        busy = rng.exponential(60.0, n)
        arrival = np.cumsum(rng.exponential(60.0 / (load * responders), n))
        np.testing.assert_allclose(
            fcfs_waits(arrival, busy, responders), queue_waits(arrival, busy, responders), rtol=0, atol=1e-7
        )
        if numba_available():  # the compiled twin takes the least free time without a heap: the same bits
            compiled = _compiled_fcfs_waits(arrival, busy, responders)
            assert compiled.tobytes() == fcfs_waits(arrival, busy, responders).tobytes()


def test_responder_minutes_by_day_add_up() -> None:
    calls = simulate_calls(UrgentResponse(), 250_000, 30, 2, np.random.default_rng(1))
    by_day = calls.minutes_by_day(30)
    assert by_day.shape == (30,)
    assert by_day.sum() == pytest.approx(calls.responder_minutes.sum())


def test_a_late_response_cannot_be_safer_than_a_timely_one() -> None:
    with pytest.raises(ValueError, match="admission_probability_late must be at least"):
        UrgentResponse(admission_probability_reached=0.2, admission_probability_late=0.1)
    with pytest.raises(ValueError, match="at least one hour"):
        UrgentResponse(hour_profile=(0.0,) * 24)


def test_taking_one_grade_by_hand() -> None:
    """A quarter of grade 0's minutes at most: 60 of 400 taken; none from a locality without that grade; 50 of 80."""
    rostered = np.array([[400.0, 100.0], [0.0, 50.0], [200.0, 0.0]])
    out, taken = take_shared_minutes(rostered, np.array([60.0, 10.0, 80.0]), [0], 0.25)
    assert taken.tolist() == [60.0, 0.0, 50.0]
    assert out.tolist() == [[340.0, 100.0], [0.0, 50.0], [150.0, 0.0]]
    assert rostered[0, 0] == 400.0  # the core's minutes are not changed in place


def test_one_grade_in_python_floats_is_the_array_formula_bit_for_bit() -> None:
    """The one-grade path against the proportional formula written out in numpy, on random rosters and needs."""
    rng = np.random.default_rng(17)
    for _ in range(300):
        n_loc, n_grades = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        rostered = rng.uniform(0.0, 3000.0, (n_loc, n_grades)) * (rng.random((n_loc, n_grades)) > 0.2)
        need = rng.uniform(0.0, 1500.0, n_loc) * (rng.random(n_loc) > 0.1)
        grade, cap = int(rng.integers(0, n_grades)), float(rng.uniform(0.0, 1.0))
        pool = rostered[:, [grade]]
        total = pool.sum(axis=1)
        want_taken = np.minimum(need, cap * total)
        share = np.divide(want_taken, total, out=np.zeros_like(want_taken), where=total > 0)
        want_out = rostered.copy()
        want_out[:, [grade]] = pool * (1.0 - share[:, None])
        out, taken = take_shared_minutes(rostered, need, [grade], cap)
        assert taken.tobytes() == want_taken.tobytes()
        assert out.tobytes() == want_out.tobytes()
        # And with a second grade that has no minutes: the array path, the same pool, the same numbers.
        padded = np.concatenate([rostered, np.zeros((n_loc, 1))], axis=1)
        out2, taken2 = take_shared_minutes(padded, need, [grade, n_grades], cap)
        assert taken2.tobytes() == taken.tobytes()
        assert out2[:, :n_grades].tobytes() == out.tobytes()
