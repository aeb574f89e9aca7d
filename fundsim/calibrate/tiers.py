"""Complexity tiers from episode intensity: a finite mixture of the simulator's own care plans.

Why a mixture. A tier in fundsim *is* a care plan: a geometric number of follow-up visits, a
fixed interval between them and a face-to-face duration (:class:`fundsim.scenario.models.Tier`).
CSDS records no tier, but each episode's contacts show the plan it followed: how often the
patient was seen (the interval — the usual measure of district-nursing intensity, "daily",
"twice weekly", "weekly"), for how long and how many times. So the tiers are the latent classes of
a mixture model whose components are exactly those care plans, fitted by the EM algorithm:

* visits after the first contact: geometric with mean *m_k* (an episode still open at the end of
  the extract, or ended by an admission, a death or a transfer, is right-censored: it contributes
  P(N ≥ n));
* gaps between consecutive contacts: log-normal around the tier's interval;
* face-to-face minutes of follow-up contacts and of the first contact: log-normal.

Tiers are ordered by intensity (visits a week, then minutes) and named low/medium/high for three.
Each episode belongs to a tier with a posterior probability; the fitted values use those weights.
Intervals are conditional on the weights (the classification is near-certain when tiers differ in
interval, as the mean posterior of the assigned tier reported beside the fit shows):

* tier shares: Wilson score intervals with the number of episodes;
* visit counts: the censored geometric's observed information (delta method on the mean);
* interval between visits: the weighted median gap, with the order-statistic interval of a median;
* durations: the weighted mean with a normal interval (sd / √n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.calibrate.referral_model import Interval

#: Smallest spread (log scale) of a tier's gaps and durations, so one tier cannot collapse on a point.
MIN_LOG_SD = 0.05
Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Episodes:
    """What the tier fit needs of each episode (one row per episode; visit-level arrays flattened).

    ``gap_owner`` and ``f2f_owner`` give the episode index of each gap and follow-up duration.
    """

    n_follow: np.ndarray  # follow-up contacts after the first (int)
    censored: np.ndarray  # bool: the count is a lower bound
    first_minutes: np.ndarray  # the first contact's minutes
    gaps_days: np.ndarray
    gap_owner: np.ndarray
    f2f_minutes: np.ndarray
    f2f_owner: np.ndarray

    @property
    def n(self) -> int:
        """Number of episodes."""
        return len(self.n_follow)


@dataclass(frozen=True)
class TierFit:
    """One fitted tier."""

    name: str
    share: Interval
    visits_mean: Interval
    interval_days: Interval
    face_to_face_minutes: Interval
    face_to_face_cv: float
    assessment_minutes: Interval
    assessment_cv: float
    episodes: float  # posterior-weighted number of episodes
    visits: float  # posterior-weighted number of follow-up contacts
    gaps: float


@dataclass(frozen=True)
class MixtureFit:
    """The tiers, each episode's posterior, and diagnostics."""

    tiers: list[TierFit]
    posterior: np.ndarray  # episodes × tiers
    mean_assigned_posterior: float
    iterations: int
    loglik: float


def tier_names(k: int) -> list[str]:
    """Names for ``k`` tiers in increasing intensity."""
    if k == 1:
        return ["all"]
    if k == 2:
        return ["low", "high"]
    if k == 3:
        return ["low", "medium", "high"]
    return [f"tier{i + 1}" for i in range(k)]


def _norm_logpdf(x: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return -0.5 * ((x - mu) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)


def _weighted_stats(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    total = w.sum()
    if total <= 0:
        return 0.0, 1.0
    mu = float((w * x).sum() / total)
    var = float((w * (x - mu) ** 2).sum() / total)
    return mu, max(np.sqrt(var), MIN_LOG_SD)


def _weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    if cum[-1] <= 0:
        return float("nan")
    return float(xs[min(np.searchsorted(cum, p * cum[-1], side="left"), len(xs) - 1)])


def _wilson(successes: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _mean_interval(x: np.ndarray, w: np.ndarray) -> tuple[Interval, float]:
    total = w.sum()
    mean = float((w * x).sum() / total)
    var = float((w * (x - mean) ** 2).sum() / total)
    # Effective sample size of the weights (Kish), for the standard error.
    n_eff = total**2 / max((w**2).sum(), 1e-300)
    se = np.sqrt(var / max(n_eff, 1.0))
    return Interval(mean, mean - Z95 * se, mean + Z95 * se), float(np.sqrt(var) / mean) if mean > 0 else 0.0


def fit_tiers(ep: Episodes, k: int = 3, max_iter: int = 300, tol: float = 1e-8) -> MixtureFit:
    """Fit ``k`` tiers to the episodes by EM (module docstring); deterministic (no random start)."""
    n = ep.n
    if n < k:
        raise ValueError(f"{n} episodes cannot be split into {k} tiers")
    log_gap = np.log(np.maximum(ep.gaps_days, 0.5))
    log_f2f = np.log(np.maximum(ep.f2f_minutes, 0.5))
    log_first = np.log(np.maximum(ep.first_minutes, 0.5))
    # Start: each episode's median gap, split into k groups at its quantiles (intense = short gaps).
    med = pd.Series(log_gap).groupby(ep.gap_owner).median().reindex(range(n)).to_numpy()
    known = ~np.isnan(med)
    resp = np.full((n, k), 1.0 / k)
    if known.sum() >= k:
        edges = np.quantile(med[known], np.linspace(0, 1, k + 1)[1:-1])
        group = (k - 1) - np.searchsorted(edges, med[known], side="right")
        resp[known] = 0.02 / max(k - 1, 1)
        resp[np.flatnonzero(known), group] = 0.98
    loglik_old = -np.inf
    iterations = 0
    for _ in range(max_iter):
        iterations += 1
        # M-step
        weights = resp.sum(axis=0)
        share = weights / n
        done = (~ep.censored).astype(float)
        q = np.empty(k)
        gap_mu, gap_sd, f2f_mu, f2f_sd, first_mu, first_sd = (np.empty(k) for _ in range(6))
        for j in range(k):
            r = resp[:, j]
            visits = (r * ep.n_follow).sum()
            q[j] = np.clip(visits / max(visits + (r * done).sum(), 1e-12), 1e-9, 1 - 1e-9)
            gap_mu[j], gap_sd[j] = _weighted_stats(log_gap, r[ep.gap_owner])
            f2f_mu[j], f2f_sd[j] = _weighted_stats(log_f2f, r[ep.f2f_owner])
            first_mu[j], first_sd[j] = _weighted_stats(log_first, r)
        # E-step
        ll = np.log(np.maximum(share, 1e-300))[None, :] + ep.n_follow[:, None] * np.log(q)[None, :]
        ll = ll + done[:, None] * np.log1p(-q)[None, :]
        ll += _norm_logpdf(log_first[:, None], first_mu[None, :], first_sd[None, :])
        for x, owner, mu, sd in ((log_gap, ep.gap_owner, gap_mu, gap_sd), (log_f2f, ep.f2f_owner, f2f_mu, f2f_sd)):
            per_obs = _norm_logpdf(x[:, None], mu[None, :], sd[None, :])
            ll += np.stack([np.bincount(owner, per_obs[:, j], minlength=n) for j in range(k)], axis=1)
        top = ll.max(axis=1, keepdims=True)
        resp = np.exp(ll - top)
        norm = resp.sum(axis=1, keepdims=True)
        resp /= norm
        loglik = float((top[:, 0] + np.log(norm[:, 0])).sum())
        if abs(loglik - loglik_old) < tol * (1 + abs(loglik)):
            break
        loglik_old = loglik
    # Order tiers by intensity: visits a week (short gaps first reversed), then minutes.
    intensity = -gap_mu + 1e-3 * f2f_mu
    order = np.argsort(intensity, kind="stable")
    resp = resp[:, order]
    names = tier_names(k)
    tiers = []
    for j in range(k):
        r = resp[:, j]
        count = r.sum()
        done = (~ep.censored).astype(float)
        visits = (r * ep.n_follow).sum()
        finished = (r * done).sum()
        qj = visits / max(visits + finished, 1e-12)
        info = finished / (1 - qj) ** 2 + visits / max(qj, 1e-12) ** 2
        se_q = 1.0 / np.sqrt(max(info, 1e-300))
        q_lo, q_hi = max(qj - Z95 * se_q, 0.0), min(qj + Z95 * se_q, 1 - 1e-9)
        visits_mean = Interval(qj / (1 - qj), q_lo / (1 - q_lo), q_hi / (1 - q_hi))
        gw = r[ep.gap_owner]
        if gw.sum() > 0:
            n_gaps = gw.sum() ** 2 / max((gw**2).sum(), 1e-300)
            half = Z95 * np.sqrt(0.25 / max(n_gaps, 1.0))
            interval = Interval(
                _weighted_quantile(ep.gaps_days, gw, 0.5),
                _weighted_quantile(ep.gaps_days, gw, max(0.5 - half, 0.0)),
                _weighted_quantile(ep.gaps_days, gw, min(0.5 + half, 1.0)),
            )
        else:
            interval = Interval(float("nan"), float("nan"), float("nan"))
        fw = r[ep.f2f_owner]
        f2f, f2f_cv = _mean_interval(ep.f2f_minutes, fw) if fw.sum() > 0 else (Interval(np.nan, np.nan, np.nan), 0.0)
        first, first_cv = _mean_interval(ep.first_minutes, r)
        lo, hi = _wilson(count, n)
        tiers.append(
            TierFit(
                name=names[j],
                share=Interval(count / n, lo, hi),
                visits_mean=visits_mean,
                interval_days=interval,
                face_to_face_minutes=f2f,
                face_to_face_cv=f2f_cv,
                assessment_minutes=first,
                assessment_cv=first_cv,
                episodes=float(count),
                visits=float(visits),
                gaps=float(gw.sum()),
            )
        )
    assigned = resp.max(axis=1)
    return MixtureFit(tiers, resp, float(assigned.mean()), iterations, loglik)
