"""Emergency admissions by tier and stage: daily hazards, multipliers and the outcomes contract's expected rates.

Each admission (SUS-style extract, linked by person id) is placed in the stage of the person's
episode it fell in — *waiting* (referral to first visit), *under care* (first visit to discharge)
or *after discharge* (the scenario's follow-up days) — and divided by the person-days in that
stage. Tiers enter through each episode's posterior tier probabilities (:mod:`fundsim.calibrate.tiers`).
Hazards are rates of counts, so their intervals are exact Poisson (Garwood) intervals on the
(posterior-weighted) count. The waiting and post-discharge multipliers are *standardised* for tier
(observed admissions in the stage ÷ those expected at each episode's own tier hazard under care,
as a standardised mortality ratio), because a crude ratio of pooled rates is confounded: the
complex tiers, whose hazard is highest, spend longer under care than after it (each episode has
the same follow-up days), so a crude post-discharge ratio falls below 1 when the true multiplier
is 1. Their intervals are log-normal, with the variance of both counts. The expected admissions
per referral count admissions from referral to the end of the follow-up, for referrals whose
follow-up ends within the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.calibrate.referral_model import Interval

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class AdmissionFit:
    """Fitted admission quantities; counts are unsuppressed (the writer suppresses what it shows)."""

    hazard_by_tier: dict[str, Interval]
    admissions_by_tier: dict[str, float]
    person_days_by_tier: dict[str, float]
    waiting_multiplier: Interval | None
    post_discharge_multiplier: Interval | None
    expected_per_referral: dict[str, Interval]
    referrals_followed: dict[str, float]
    length_of_stay_days: Interval
    length_of_stay_cv: float
    ends_episode_share: Interval | None
    n_admissions: int
    n_in_episodes: int


def garwood(count: float, exposure: float) -> Interval:
    """Rate ``count / exposure`` with the exact Poisson 95% interval."""
    if exposure <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    lo = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * (count + 1)) / 2
    return Interval(count / exposure, lo / exposure, hi / exposure)


def _standardised(observed: float, expected: float, reference: float) -> Interval | None:
    """``observed / expected`` (indirect standardisation) with a log-normal interval.

    ``reference`` is the admissions under care the expected count's hazards rest on: their noise
    enters the ratio as much as the observed count's does.
    """
    if min(observed, reference) <= 0 or expected <= 0:
        return None
    r = observed / expected
    se = np.sqrt(1 / observed + 1 / reference)
    return Interval(r, r * np.exp(-Z95 * se), r * np.exp(Z95 * se))


def _overlap_days(lo: np.ndarray, hi: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Days of [lo, hi) inside [w0, w1) (arrays of datetime64[D] as int days)."""
    return np.maximum(np.minimum(hi, w1) - np.maximum(lo, w0), 0).astype(float)


def fit_admissions(
    episodes: pd.DataFrame,
    posterior: np.ndarray,
    tier_names: list[str],
    admissions: pd.DataFrame,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    follow_up_days: float,
) -> AdmissionFit:
    """Fit the admission quantities (module docstring) from the episodes and their tier posteriors.

    ``episodes`` has ``Person_ID``, ``ReferralRequestReceivedDate``, ``first_visit``, ``end``,
    ``discharged`` and ``ReferClosReason`` (:mod:`fundsim.calibrate.episodes`).
    """
    day = lambda s: s.to_numpy().astype("datetime64[D]").astype(np.int64)  # noqa: E731
    w0, w1 = day(pd.Series([window_start]))[0], day(pd.Series([window_end]))[0] + 1
    emergency = admissions
    if "AdmissionMethod" in admissions:
        emergency = admissions[admissions["AdmissionMethod"].isna() | (admissions["AdmissionMethod"] == "emergency")]
    emergency = emergency[
        (emergency["StartDateHospitalProviderSpell"] >= window_start)
        & (emergency["StartDateHospitalProviderSpell"] <= window_end)
    ]
    ref = day(episodes["ReferralRequestReceivedDate"])
    first = day(episodes["first_visit"])
    end = day(episodes["end"]) + 1  # the discharge day is under care
    disch = episodes["discharged"].to_numpy(dtype=bool)
    post_end = np.where(disch, end + int(follow_up_days), end)
    exposure = np.column_stack(
        [
            _overlap_days(ref, first, w0, w1),
            _overlap_days(first, end, w0, w1),
            _overlap_days(end, post_end, w0, w1),
        ]
    )
    # Admissions placed in their episode's stages (a person with two episodes: each one counts its own).
    ep_index = pd.DataFrame({"Person_ID": episodes["Person_ID"].to_numpy(), "episode": np.arange(len(episodes))})
    linked = emergency[["Person_ID", "StartDateHospitalProviderSpell"]].merge(ep_index, on="Person_ID")
    a = day(linked["StartDateHospitalProviderSpell"])
    e = linked["episode"].to_numpy()
    stage = np.full(len(linked), -1)
    stage[(a >= ref[e]) & (a < first[e])] = 0
    stage[(a >= first[e]) & (a < end[e])] = 1
    stage[(a >= end[e]) & (a < post_end[e])] = 2
    counts = np.zeros((len(episodes), 3))
    ok = stage >= 0
    np.add.at(counts, (e[ok], stage[ok]), 1.0)
    k = len(tier_names)
    hazard, adm_t, days_t = {}, {}, {}
    for j, name in enumerate(tier_names):
        r = posterior[:, j]
        a_care, e_care = float((r * counts[:, 1]).sum()), float((r * exposure[:, 1]).sum())
        hazard[name] = garwood(a_care, e_care)
        adm_t[name], days_t[name] = a_care, e_care
    total = counts.sum(axis=0)
    # Each episode's hazard under care at its own (posterior) tier: the stage multipliers are
    # observed ÷ expected at that hazard (module docstring: a crude ratio is confounded by tier).
    tier_rate = np.array([h.value if np.isfinite(h.value) else 0.0 for h in hazard.values()])
    own_rate = posterior @ tier_rate
    waiting = _standardised(total[0], float((own_rate * exposure[:, 0]).sum()), total[1])
    post = _standardised(total[2], float((own_rate * exposure[:, 2]).sum()), total[1])
    # Expected admissions per referral: referral to the end of follow-up, for referrals followed to the end.
    followed = (post_end <= w1) & disch
    per_ref = counts.sum(axis=1)
    expected, n_followed = {}, {}
    for j, name in enumerate(tier_names):
        r = posterior[:, j] * followed
        expected[name] = garwood(float((r * per_ref).sum()), float(r.sum()))
        n_followed[name] = float(r.sum())
    los = (
        (emergency["DischargeDateHospitalProviderSpell"] - emergency["StartDateHospitalProviderSpell"]).dt.days
    ).to_numpy(dtype=float)
    los = los[np.isfinite(los)]
    if len(los) > 1:
        m, sd = float(los.mean()), float(los.std(ddof=1))
        los_fit = Interval(m, m - Z95 * sd / np.sqrt(len(los)), m + Z95 * sd / np.sqrt(len(los)))
        los_cv = sd / m if m > 0 else 0.0
    else:
        los_fit, los_cv = Interval(float("nan"), float("nan"), float("nan")), 0.0
    # Share of admissions under care after which the episode closed as "admitted to hospital" within a day.
    care = ok & (stage == 1)
    reason = episodes["ReferClosReason"].to_numpy() if "ReferClosReason" in episodes else np.full(len(episodes), None)
    ended = care & (reason[e] == "admitted") & (np.abs(end[e] - 1 - a) <= 1) & disch[e]
    n_care = int(care.sum())
    ends_share = None
    if n_care > 0:
        from fundsim.calibrate.tiers import _wilson

        lo, hi = _wilson(float(ended.sum()), float(n_care))
        ends_share = Interval(float(ended.sum()) / n_care, lo, hi)
    del k
    return AdmissionFit(
        hazard_by_tier=hazard,
        admissions_by_tier=adm_t,
        person_days_by_tier=days_t,
        waiting_multiplier=waiting,
        post_discharge_multiplier=post,
        expected_per_referral=expected,
        referrals_followed=n_followed,
        length_of_stay_days=los_fit,
        length_of_stay_cv=los_cv,
        ends_episode_share=ends_share,
        n_admissions=len(emergency),
        n_in_episodes=int(ok.sum()),
    )
