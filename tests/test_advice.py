"""Replications and warm-up advice: the algorithms against cases whose answer theory gives."""

from __future__ import annotations

import numpy as np
import pytest
from builders import build, small_dict
from scipy import stats

from fundsim.experiment.advice import (
    advise,
    mser_truncation,
    relative_half_width,
    replications_needed,
)


def test_relative_half_width_is_the_t_interval_over_the_mean() -> None:
    x = [9.0, 11.0, 10.0, 12.0, 8.0]
    expected = stats.t.ppf(0.975, 4) * np.std(x, ddof=1) / np.sqrt(5) / 10.0
    assert relative_half_width(x) == pytest.approx(expected)
    assert relative_half_width([3.0]) == float("inf")
    assert relative_half_width([2.0, 2.0, 2.0]) == 0.0


def test_stop_rule_holds_at_the_answer_and_through_the_look_ahead() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(100.0, 10.0, 200)
    n = replications_needed(x, precision=0.02, look_ahead=5)
    assert n is not None
    assert relative_half_width(x[:n]) <= 0.02
    assert all(relative_half_width(x[:m]) <= 0.02 for m in range(n, n + max(5, n // 10) + 1))
    # and no smaller n was confirmed: each earlier precise n fails somewhere in its look-ahead
    for k in range(3, n):
        if relative_half_width(x[:k]) <= 0.02:
            assert any(relative_half_width(x[:m]) > 0.02 for m in range(k + 1, k + max(5, k // 10) + 1))


@pytest.mark.parametrize(("cv", "precision"), [(0.10, 0.05), (0.20, 0.05), (0.05, 0.01)])
def test_replications_needed_matches_the_known_variance(cv: float, precision: float) -> None:
    """With known σ/μ the answer is about the smallest n with t(n−1)·cv/√n ≤ precision.

    Over 400 seeded sequences the median n found lies within 15% of that theoretical n; the
    sample sd's noise moves single answers either way, the median barely (its spread at n ≈ 16 is
    a few percent).
    """
    theory = next(n for n in range(2, 100_000) if stats.t.ppf(0.975, n - 1) * cv / np.sqrt(n) <= precision)
    rng = np.random.default_rng(20251)
    found = [replications_needed(rng.normal(1.0, cv, 4 * theory + 40), precision) for _ in range(400)]
    assert None not in found
    assert abs(np.median(found) - theory) <= 0.15 * theory + 1


def test_too_few_replications_give_no_answer() -> None:
    rng = np.random.default_rng(3)
    assert replications_needed(rng.normal(1.0, 0.5, 8), precision=0.01) is None


def test_mser_finds_the_end_of_a_biased_start() -> None:
    """A step: 100 observations around 5, then 900 around 0 (noise sd 1): drop about 100."""
    rng = np.random.default_rng(7)
    y = np.concatenate([5.0 + rng.normal(0, 1, 100), rng.normal(0, 1, 900)])
    assert 95 <= mser_truncation(y) <= 110
    assert 95 <= mser_truncation(y, batch=5) <= 110


def test_mser_drops_nothing_from_a_stationary_series() -> None:
    rng = np.random.default_rng(11)
    assert mser_truncation(rng.normal(0, 1, 1_000), batch=5) <= 50


def test_mser_on_an_exponential_transient() -> None:
    """y = 20·exp(−t/30) + noise(sd 1): the bias falls below the noise's standard error late, not early."""
    rng = np.random.default_rng(5)
    t = np.arange(2_000)
    y = 20.0 * np.exp(-t / 30.0) + rng.normal(0, 1, t.size)
    d = mser_truncation(y, batch=5)
    assert 60 <= d <= 300  # 20·e^(−2) = 2.7 is still bias; 20·e^(−10) is none


def test_advise_on_a_small_service_fills_from_empty() -> None:
    d = small_dict(population=20_000, years=1.5, warmup_days=0)
    d["provider_policy"] = {"mode": "passive"}
    scenario = build(d)
    result = advise(scenario, precision=0.10, max_replications=12, look_ahead=3, warmup_replications=2)
    # The caseload starts empty and fills over its episode length: some months must be dropped.
    assert result.warmup.truncation_months["caseload"] >= 1
    assert result.warmup.recommended_days >= 30
    assert result.replications.replications_run <= 12
    table = result.replications.table
    assert set(table["measure"]) >= {"delivered_activity_per_year", "admissions_per_year"}
