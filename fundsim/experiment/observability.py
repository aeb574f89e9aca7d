"""What an outcomes contract can observe, beside what the simulation knows.

A real outcomes contract sees observed emergency admissions (O) and a risk-adjusted expectation
(E, from its case-mix risk model). It cannot see the admissions the service truly avoided: the
simulation can, because it replays each person's deterioration draws without community care.
This module sets the two side by side, per replication and contract year:

* O, E, the O/E ratio with its exact (Garwood) 95% Poisson interval, and the 95% control limits of
  a Poisson count with mean E (the funnel-plot limits);
* the true avoided admissions (counterfactual − actual);
* the probability that the contract pays the wrong way round: it rewards a provider whose true
  expected admissions μ exceed E (truly worse than expected), or fails to reward one with μ < E
  (truly better). With O ~ Poisson(μ) and the contract's reward rule "O < threshold" (threshold =
  E, or the lower 95% limit when the contract pays only on significance) that probability is
  P(O < threshold) if μ > E, else P(O ≥ threshold). It is given at the scenario's population and
  at smaller and larger populations (μ and E scaled together), and checked against the share of
  (replication, year) pairs where it actually happened.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.contracts.outcomes import OutcomesContract, expected_admissions
from fundsim.scenario.models import Scenario

#: Population multiples at which the wrong-way probability is shown.
POPULATION_SCALES = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)

#: Two-sided level of the intervals and limits.
LEVEL = 0.95


def poisson_limits(expected: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits of a Poisson count with mean ``expected``."""
    a = (1.0 - level) / 2.0
    return stats.poisson.ppf(a, expected), stats.poisson.ppf(1.0 - a, expected)


def ratio_interval(observed: np.ndarray, expected: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval of the O/E ratio, treating E as known."""
    a = (1.0 - level) / 2.0
    o = np.asarray(observed, dtype=float)
    lo = np.where(o > 0, stats.chi2.ppf(a, 2.0 * o) / 2.0, 0.0)
    hi = stats.chi2.ppf(1.0 - a, 2.0 * o + 2.0) / 2.0
    return lo / expected, hi / expected


def reward_threshold(expected: np.ndarray, config: OutcomesContract) -> np.ndarray:
    """The contract rewards a year when observed admissions are below this count."""
    if config.pay_only_if_significant:
        return poisson_limits(expected)[0]
    return np.asarray(expected, dtype=float)


def p_rewarded(mu: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """P(O < threshold) for O ~ Poisson(mu)."""
    below = np.ceil(np.asarray(threshold, dtype=float)) - 1.0  # largest integer strictly below
    return np.where(below >= 0, stats.poisson.cdf(below, mu), 0.0)


def p_wrong_way(mu: np.ndarray, expected: np.ndarray, config: OutcomesContract) -> np.ndarray:
    """Probability that one contract year pays the wrong way round (see the module docstring)."""
    p = p_rewarded(mu, reward_threshold(expected, config))
    return np.where(np.asarray(mu) > np.asarray(expected), p, 1.0 - p)


def _outcomes_config(scenario: Scenario) -> OutcomesContract:
    """The scenario's outcomes contract (it must configure one: these tables are of its simulations)."""
    config = scenario.contracts.outcomes
    if not isinstance(config, OutcomesContract):
        raise ValueError(f"scenario {scenario.name!r} configures no outcomes contract")
    return config


def outcome_years(provider: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """O, E, intervals and true avoided admissions per (replication, contract year).

    ``provider`` is the monthly provider table of the outcomes contract's own simulations.
    """
    config = _outcomes_config(scenario)
    frame = provider[["replication", "contract_year", "admissions", "counterfactual_admissions"]].copy()
    frame["expected"] = expected_admissions(provider, config, scenario.contract_context()).to_numpy()
    years = frame.groupby(["replication", "contract_year"], sort=True).sum().reset_index()
    years = years.rename(columns={"admissions": "observed"})
    years["true_avoided"] = years["counterfactual_admissions"] - years["observed"]
    years["observed_minus_expected"] = years["observed"] - years["expected"]
    years["control_low"], years["control_high"] = poisson_limits(years["expected"].to_numpy())
    o, e = years["observed"].to_numpy(), years["expected"].to_numpy()
    years["oe_ratio"] = o / e
    years["oe_ratio_low"], years["oe_ratio_high"] = ratio_interval(o, e)
    years["rewarded"] = o < reward_threshold(e, config)
    return years


def wrong_way_table(years: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Probability of paying the wrong way round, by population size.

    The provider's true expected admissions per year μ is estimated by the mean observed count over
    replications (per contract year), E by the mean expectation.
    """
    config = _outcomes_config(scenario)
    by_year = years.groupby("contract_year").agg(mu=("observed", "mean"), expected=("expected", "mean"))
    mu, expected = by_year["mu"].to_numpy(), by_year["expected"].to_numpy()
    truly_better = mu < expected
    # The empirical share at the scenario's own size: years where the payment's direction
    # disagreed with the truth (μ vs E of that contract year).
    truth = years["contract_year"].map(pd.Series(truly_better, index=by_year.index))
    empirical = float((years["rewarded"] != truth).mean())
    rows = []
    population = scenario.total_population
    for scale in POPULATION_SCALES:
        p = p_wrong_way(scale * mu, scale * expected, config)
        rows.append(
            {
                "population_scale": scale,
                "population": round(population * scale),
                "expected_per_year": float(scale * expected.mean()),
                "true_mean_per_year": float(scale * mu.mean()),
                "truly_better_share_of_years": float(truly_better.mean()),
                "p_wrong_way": float(p.mean()),
                "observed_wrong_way_share": empirical if scale == 1.0 else np.nan,
                "rule": "significant" if config.pay_only_if_significant else "below expected",
            }
        )
    return pd.DataFrame(rows)
