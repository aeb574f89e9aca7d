"""What an outcomes contract can observe: intervals and wrong-way probabilities against Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

from fundsim.contracts.outcomes import OutcomesContract
from fundsim.experiment.observability import p_rewarded, p_wrong_way, poisson_limits, ratio_interval

PLAIN = OutcomesContract(fixed_gbp_per_year=1.0, expected_admissions_per_referral={"a": 0.1})
SIGNIFICANT = PLAIN.model_copy(update={"pay_only_if_significant": True})
N_DRAWS = 400_000


@pytest.mark.parametrize(("mu", "threshold"), [(100.0, 100.0), (95.0, 100.0), (20.0, 17.5), (3.0, 0.4)])
def test_p_rewarded_matches_monte_carlo(mu: float, threshold: float) -> None:
    rng = np.random.default_rng(11)
    draws = rng.poisson(mu, N_DRAWS)
    share = float(np.mean(draws < threshold))
    se = np.sqrt(share * (1 - share) / N_DRAWS)
    assert p_rewarded(np.array(mu), np.array(threshold)) == pytest.approx(share, abs=4 * se + 1e-12)


def test_wrong_way_probability_matches_monte_carlo_for_both_rules() -> None:
    rng = np.random.default_rng(12)
    for mu, expected in ((90.0, 100.0), (110.0, 100.0)):
        draws = rng.poisson(mu, N_DRAWS)
        truly_better = mu < expected
        for config in (PLAIN, SIGNIFICANT):
            threshold = expected if config is PLAIN else poisson_limits(np.array(expected))[0]
            rewarded = draws < threshold
            share = float(np.mean(rewarded != truly_better))
            se = np.sqrt(share * (1 - share) / N_DRAWS)
            got = float(p_wrong_way(np.array(mu), np.array(expected), config))
            assert got == pytest.approx(share, abs=4 * se + 1e-12)


def test_wrong_way_shrinks_with_population() -> None:
    """The same 10% better-than-expected provider is misjudged less often in a larger population."""
    scales = np.array([0.1, 0.5, 1.0, 5.0, 20.0])
    p = p_wrong_way(90.0 * scales, 100.0 * scales, PLAIN)
    assert np.all(np.diff(p) < 0)
    # ...and requiring significance withholds the reward from a truly better provider more often.
    assert np.all(p_wrong_way(90.0 * scales, 100.0 * scales, SIGNIFICANT) >= p)


def test_poisson_limits_hold_95_percent() -> None:
    rng = np.random.default_rng(13)
    for expected in (5.0, 50.0, 500.0):
        lo, hi = poisson_limits(np.array(expected))
        draws = rng.poisson(expected, N_DRAWS)
        inside = np.mean((draws >= lo) & (draws <= hi))
        assert inside >= 0.95 - 4 * np.sqrt(0.05 * 0.95 / N_DRAWS)


def test_ratio_interval_covers_at_least_nominally() -> None:
    """Garwood's exact interval is conservative: coverage of the true O/E ≥ 95%."""
    rng = np.random.default_rng(14)
    for mu in (4.0, 40.0, 400.0):
        observed = rng.poisson(mu, 20_000).astype(float)
        lo, hi = ratio_interval(observed, np.full_like(observed, mu))
        coverage = np.mean((lo <= 1.0) & (hi >= 1.0))
        assert coverage >= 0.95 - 4 * np.sqrt(0.05 * 0.95 / 20_000)
        assert coverage <= 0.995
