"""Referral rates: a Poisson regression of daily referral counts with the simulator's own rate curve.

fundsim's referral rate on day *d* in locality *l* is (:func:`fundsim.sim.referrals.referral_rate_per_day`)::

    pop_l / 1000 × rate_l / 365.25 × (1 + g)^t_d × (1 + A cos(2π (doy_d − peak) / 365.25)) × w_dow / mean(w)

with *t* in years from the start date. The model fitted is exactly that curve, written as
``exp(β_l + γ t + δ_dow) × (1 + c₁ cos θ + c₂ sin θ)`` (δ_Monday = 0; A = √(c₁² + c₂²), the peak
from atan2(c₂, c₁)), by maximum likelihood with Fisher scoring, the counts Poisson given the rate
(a generalised *non*-linear model because the season multiplies). Over-dispersion is allowed for by
scaling the covariance with the Pearson dispersion when it exceeds 1 (quasi-Poisson). Intervals of
every scenario quantity (a transformation of the coefficients) are 2.5 and 97.5 percentiles of
draws from the coefficients' asymptotic normal distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.25
#: Draws from the coefficients' asymptotic distribution used for the intervals.
INTERVAL_DRAWS = 4000
#: Largest seasonal amplitude kept (the scenario requires it below 1).
MAX_AMPLITUDE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate with its 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ReferralFit:
    """The fitted referral curve: per-locality rate, growth, season, weekday profile and fit diagnostics."""

    rate_per_1000_per_year: dict[str, Interval]
    growth_per_year: Interval
    winter_amplitude: Interval
    peak_day_of_year: Interval
    weekday_profile: tuple[Interval, ...]  # Monday..Sunday, averaging 1
    dispersion: float
    n_days: int
    n_referrals: int
    fit_season: bool
    fit_growth: bool


def _design(days: pd.DataFrame, localities: list[str], fit_season: bool, fit_growth: bool) -> dict[str, np.ndarray]:
    loc_index = days["locality"].map({name: i for i, name in enumerate(localities)}).to_numpy()
    n_loc = len(localities)
    X = np.zeros((len(days), n_loc + 1 + 6))
    X[np.arange(len(days)), loc_index] = 1.0
    X[:, n_loc] = days["years"].to_numpy() if fit_growth else 0.0
    dow = days["weekday"].to_numpy()
    for d in range(1, 7):
        X[:, n_loc + d] = dow == d
    theta = 2.0 * np.pi * days["day_of_year"].to_numpy() / DAYS_PER_YEAR
    S = np.column_stack([np.cos(theta), np.sin(theta)]) if fit_season else np.zeros((len(days), 2))
    return {"X": X, "S": S, "offset": np.log(days["population"].to_numpy() / 1000.0 / DAYS_PER_YEAR)}


def _mean(params: np.ndarray, X: np.ndarray, S: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = X.shape[1]
    season = 1.0 + S @ params[k:]
    return np.exp(offset + X @ params[:k]) * season, season


def _jacobian(params: np.ndarray, X: np.ndarray, S: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, season = _mean(params, X, S, offset)
    J = np.hstack([X * mu[:, None], S * (mu / season)[:, None]])
    return J, mu


def fit_referrals(
    daily: pd.DataFrame, *, fit_season: bool = True, fit_growth: bool = True, max_iter: int = 100
) -> ReferralFit:
    """Fit the referral curve to ``daily``, one row per (locality, day).

    Columns: ``locality``, ``count``, ``population``, ``years`` (from the start date), ``weekday``
    (0 = Monday), ``day_of_year``.

    Growth and season are only identifiable over a long enough window: the caller switches them off
    (``fit_growth``/``fit_season``) for extracts shorter than a year.
    """
    localities = list(dict.fromkeys(daily["locality"]))
    design = _design(daily, localities, fit_season, fit_growth)
    X, S, offset = design["X"], design["S"], design["offset"]
    y = daily["count"].to_numpy(dtype=float)
    n_loc = len(localities)
    k = X.shape[1]
    free = np.ones(k + 2, dtype=bool)
    if not fit_growth:
        free[n_loc] = False
    if not fit_season:
        free[k:] = False
    params = np.zeros(k + 2)
    for i, name in enumerate(localities):
        sel = daily["locality"].to_numpy() == name
        params[i] = np.log(max(y[sel].sum(), 0.5) / np.exp(offset[sel]).sum())
    loglik = -np.inf
    for _ in range(max_iter):
        J, mu = _jacobian(params, X, S, offset)
        Jf = J[:, free]
        score = Jf.T @ (y / mu - 1.0)
        info = Jf.T @ (Jf / mu[:, None])
        step = np.linalg.solve(info + 1e-12 * np.eye(len(info)), score)
        t = 1.0
        while t > 1e-6:
            trial = params.copy()
            trial[free] += t * step
            mu_t, season_t = _mean(trial, X, S, offset)
            if np.all(season_t > 0) and np.hypot(*trial[k:]) < MAX_AMPLITUDE:
                ll = float(np.sum(y * np.log(mu_t) - mu_t))
                if ll >= loglik - 1e-9:
                    break
            t /= 2.0
        params, old = trial, loglik
        loglik = ll
        if abs(loglik - old) < 1e-10 * (1.0 + abs(loglik)):
            break
    J, mu = _jacobian(params, X, S, offset)
    Jf = J[:, free]
    info = Jf.T @ (Jf / mu[:, None])
    dof = max(len(y) - int(free.sum()), 1)
    dispersion = float(np.sum((y - mu) ** 2 / mu) / dof)
    cov = np.linalg.inv(info) * max(dispersion, 1.0)
    rng = np.random.default_rng(20251)
    draws = np.tile(params, (INTERVAL_DRAWS, 1))
    draws[:, free] = rng.multivariate_normal(params[free], cov, INTERVAL_DRAWS, method="cholesky")
    draws = np.vstack([params, draws])  # row 0: the estimate itself

    def quantity(values: np.ndarray) -> Interval:
        lo, hi = np.percentile(values[1:], [2.5, 97.5])
        return Interval(float(values[0]), float(lo), float(hi))

    weekday_log = np.column_stack([np.zeros(len(draws)), draws[:, n_loc + 1 : n_loc + 7]])
    w = np.exp(weekday_log)
    mean_w = w.mean(axis=1)
    rates = {name: quantity(np.exp(draws[:, i]) * mean_w * 1.0) for i, name in enumerate(localities)}
    # The simulator's growth is compound per year: (1 + g)^t = exp(γ t).
    growth = quantity(np.expm1(draws[:, n_loc]))
    c1, c2 = draws[:, k], draws[:, k + 1]
    amplitude = quantity(np.hypot(c1, c2))
    peak_angle = np.arctan2(c2, c1)
    # Centre the angles on the estimate before taking percentiles (the peak is circular).
    centred = (peak_angle - peak_angle[0] + np.pi) % (2 * np.pi) - np.pi + peak_angle[0]
    peak = quantity(centred * DAYS_PER_YEAR / (2 * np.pi))
    peak = Interval(peak.value % DAYS_PER_YEAR, peak.low, peak.high)
    profile = tuple(quantity(w[:, d] / mean_w) for d in range(7))
    return ReferralFit(
        rate_per_1000_per_year=rates,
        growth_per_year=growth,
        winter_amplitude=amplitude,
        peak_day_of_year=peak,
        weekday_profile=profile,
        dispersion=dispersion,
        n_days=int(daily["years"].nunique()),
        n_referrals=int(y.sum()),
        fit_season=fit_season,
        fit_growth=fit_growth,
    )


def daily_counts(
    referral_dates: pd.Series,
    localities: pd.Series,
    populations: dict[str, float],
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
) -> pd.DataFrame:
    """Daily referral counts per locality over ``[first_day, last_day]`` (zeros included) with the covariates."""
    days = pd.date_range(first_day, last_day, freq="D")
    frames = []
    for name, population in populations.items():
        sel = (localities == name).to_numpy()
        counts = referral_dates[sel].value_counts().reindex(days, fill_value=0)
        frames.append(
            pd.DataFrame(
                {
                    "locality": name,
                    "date": days,
                    "count": counts.to_numpy(),
                    "population": float(population),
                    "years": (days - first_day).days.to_numpy() / DAYS_PER_YEAR,
                    "weekday": days.day_of_week.to_numpy(),
                    "day_of_year": days.day_of_year.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
