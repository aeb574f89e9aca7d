"""Fit a scenario to an extract: every value with its provenance.

:func:`fit_scenario` turns a read :class:`~fundsim.calibrate.read.Extract` into a :class:`Calibration`:
the scenario as a plain structure that validates against :class:`fundsim.scenario.models.Scenario`,
one provenance comment per value ("fitted from referrals.csv (n = …, 95% CI …)" or
"assumption: …"), the open caseload and waiting list on the extract's last day, and a fit summary.
Counts shown in comments pass the small-number rule (:mod:`fundsim.calibrate.suppress`); a value
resting on fewer than 8 individuals is not fitted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from fundsim.calibrate.admissions import AdmissionFit, fit_admissions
from fundsim.calibrate.episodes import build_episodes
from fundsim.calibrate.provenance import (
    FOLLOW_UP_DAYS,
    MIN_GRADE_SHARE,
    MIN_MONTHS_FOR_GROWTH,
    MIN_MONTHS_FOR_SEASON,
)
from fundsim.calibrate.provenance import fitted as _fitted
from fundsim.calibrate.provenance import scenario_name as _name
from fundsim.calibrate.read import Extract
from fundsim.calibrate.referral_model import Interval, ReferralFit, daily_counts, fit_referrals
from fundsim.calibrate.sections import contract_sections, outcome_sections, tier_sections, workforce_section
from fundsim.calibrate.suppress import count_text, suppress_count
from fundsim.calibrate.tiers import MixtureFit, _wilson, fit_tiers
from fundsim.calibrate.writer import number
from fundsim.columns import WAIT_BANDS_WEEKS
from fundsim.errors import ScenarioError

#: The key of a mix of shares (a name, or a position in a list).
K = TypeVar("K")


@dataclass
class Calibration:
    """What a calibration produced (aggregates only)."""

    scenario: dict[str, Any]
    comments: dict[str, str]
    initial_state: dict[str, Any]
    summary: dict[str, Any]
    referral_fit: ReferralFit
    mixture: MixtureFit
    admission_fit: AdmissionFit | None
    window: tuple[pd.Timestamp, pd.Timestamp]
    months: list[pd.Timestamp] = field(default_factory=list)  # every whole month of the extract
    #: Shares fitted from the referrals (``urgent_share``, ``sources.<group>``) with their Wilson intervals.
    shares: dict[str, Interval] = field(default_factory=dict)


def whole_months(first_day: pd.Timestamp, last_day: pd.Timestamp) -> list[pd.Timestamp]:
    """Month starts of the calendar months lying wholly within ``[first_day, last_day]``."""
    start = first_day if first_day.day == 1 else (first_day + pd.offsets.MonthBegin(1))
    end_exclusive = (last_day + pd.Timedelta(days=1)).normalize()
    months = pd.date_range(start, end_exclusive, freq="MS")
    return [m for m in months if m + pd.offsets.MonthBegin(1) <= end_exclusive]


def fit_scenario(
    extract: Extract,
    *,
    name: str = "calibrated",
    n_tiers: int = 3,
    holdout_months: int = 0,
    replications: int = 5,
) -> Calibration:
    """Fit a scenario to ``extract``; ``holdout_months`` whole months at the end are left out of the fit."""
    files = {k: t.file for k, t in extract.tables.items()}
    months = whole_months(extract.first_day, extract.last_day)
    if len(months) < 2 + holdout_months:
        raise ScenarioError.single(
            files["contacts"],
            f"the extract covers {len(months)} whole calendar month(s); calibrating needs at least "
            f"{2 + holdout_months} (2 to fit, plus {holdout_months} held out)",
        )
    fit_months = months[: len(months) - holdout_months]
    w0 = fit_months[0]
    w1 = fit_months[-1] + pd.offsets.MonthBegin(1) - pd.Timedelta(days=1)
    comments: dict[str, str] = {}
    refs = extract["referrals"]

    # -- localities and population
    pop = extract["population"]
    populations = {str(loc): float(n) for loc, n in zip(pop["Locality"], pop["Population"], strict=True)}
    in_window = refs[(refs["ReferralRequestReceivedDate"] >= w0) & (refs["ReferralRequestReceivedDate"] <= w1)]
    missing = sorted(set(in_window["locality"]) - set(populations))
    if missing:
        raise ScenarioError.single(
            files["population"],
            f"no population for {len(missing)} locality(ies) that referrals come from "
            f"({', '.join(map(str, missing[:5]))}); "
            "add them, or map teams to localities under 'teams:' in the mapping file",
            field="Locality",
        )
    localities = [loc for loc in populations if (in_window["locality"] == loc).any()]
    if not localities:
        raise ScenarioError.single(files["referrals"], "no referrals received in the fitting window")

    # -- referral curve
    season = len(fit_months) >= MIN_MONTHS_FOR_SEASON
    growth = len(fit_months) >= MIN_MONTHS_FOR_GROWTH
    daily = daily_counts(
        in_window["ReferralRequestReceivedDate"],
        in_window["locality"],
        {loc: populations[loc] for loc in localities},
        w0,
        w1,
    )
    rf = fit_referrals(daily, fit_season=season, fit_growth=growth)
    n_refs = len(in_window)
    window_text = f"{w0:%Y-%m-%d} to {w1:%Y-%m-%d}"

    # -- episodes and tiers
    et = build_episodes(extract, w0, w1)
    if et.episodes.n < max(n_tiers, 8) * 8:
        raise ScenarioError.single(
            files["contacts"],
            f"too few episodes with visits in the fitting window to fit {n_tiers} tiers (need at least "
            f"{max(n_tiers, 8) * 8}); use fewer tiers (--tiers) or a longer extract",
        )
    mixture = fit_tiers(et.episodes, n_tiers)
    tier_names = [t.name for t in mixture.tiers]
    n_ep = et.episodes.n

    # -- workforce
    wf = extract["workforce"]
    grade_wte = wf.groupby("grade", sort=True)["WTE"].sum()
    grade_wte = grade_wte[grade_wte > 0]
    if grade_wte.empty:
        raise ScenarioError.single(files["workforce"], "no staff in post (every WTE is 0)", field="WTE")
    loc_wte = wf.groupby("locality")["WTE"].sum().reindex(localities).fillna(0.0)
    # Allowed grades per tier: grades making at least MIN_GRADE_SHARE of the tier's attended visits.
    allowed: dict[str, list[str]] = {}
    visits = et.visits
    has_grades = "grade" in visits and visits["grade"].notna().any()
    for j, tname in enumerate(tier_names):
        if has_grades:
            w = mixture.posterior[visits["episode"].to_numpy(), j]
            share = pd.Series(w).groupby(visits["grade"].to_numpy()).sum()
            share = share / max(share.sum(), 1e-300)
            allowed[tname] = [g for g in grade_wte.index if share.get(g, 0.0) >= MIN_GRADE_SHARE]
        if not allowed.get(tname):
            allowed[tname] = list(grade_wte.index)
    unused = [g for g in grade_wte.index if not any(g in a for a in allowed.values())]
    for tname in tier_names:
        allowed[tname] = [g for g in grade_wte.index if g in allowed[tname] or g in unused]

    # -- admissions
    af: AdmissionFit | None = None
    if extract.has("admissions") and len(extract["admissions"]):
        af = fit_admissions(et.frame, mixture.posterior, tier_names, extract["admissions"], w0, w1, FOLLOW_UP_DAYS)

    # ================================================================== the scenario structure
    sc: dict[str, Any] = {"name": _name(name)}
    sc["description"] = (
        f"Fitted by fundsim calibrate from the extract in {extract.folder.name} ({window_text}; "
        f"{len(fit_months)} months fitted, {holdout_months} held out). Aggregates only."
    )
    horizon_years = len(months) / 12
    ep_len = (et.frame["end"] - et.frame["first_visit"]).dt.days.to_numpy()
    warmup = int(min(max(30, np.percentile(ep_len, 95)), 365, horizon_years * 365.25))
    sc["simulation"] = {
        "start_date": w0.date().isoformat(),
        "horizon_years": number(horizon_years, 6),
        "warmup_days": warmup,
        "seed": 20251,
        "replications": replications,
    }
    comments["simulation.start_date"] = "the first whole month of the extract"
    comments["simulation.horizon_years"] = f"the extract's {len(months)} whole months"
    comments["simulation.warmup_days"] = (
        "assumption: the 95th percentile of episode length (at least 30 days, at most a year) so the caseload "
        "is full when statistics start; next step: start from initial_state.json instead"
    )
    comments["simulation.seed"] = "assumption: fundsim's default master seed"
    demand: dict[str, Any] = {}
    if growth:
        demand["growth_per_year"] = number(rf.growth_per_year.value)
        comments["demand.growth_per_year"] = _fitted(files["referrals"], n_refs, rf.growth_per_year, "Poisson model")
    else:
        demand["growth_per_year"] = 0.03
        comments["demand.growth_per_year"] = (
            f"assumption: fundsim's default; growth is not fitted from under {MIN_MONTHS_FOR_GROWTH} months "
            "(within a year a trend cannot be told from the season)"
        )
    if season:
        demand["seasonality"] = {
            "winter_amplitude": number(min(rf.winter_amplitude.value, 0.95)),
            "peak_day_of_year": round(rf.peak_day_of_year.value) % 366 or 366,
        }
        comments["demand.seasonality.winter_amplitude"] = _fitted(files["referrals"], n_refs, rf.winter_amplitude)
        comments["demand.seasonality.peak_day_of_year"] = _fitted(files["referrals"], n_refs, rf.peak_day_of_year)
    else:
        demand["seasonality"] = {"winter_amplitude": 0.1, "peak_day_of_year": 15}
        comments["demand.seasonality"] = (
            f"assumption: fundsim's defaults; seasonality is not fitted from under {MIN_MONTHS_FOR_SEASON} months"
        )
    demand["weekday_profile"] = [number(w.value, 3) for w in rf.weekday_profile]
    comments["demand.weekday_profile"] = _fitted(
        files["referrals"],
        n_refs,
        None,
        "Monday..Sunday relative rates, each ±"
        + ", ".join(f"{number((w.high - w.low) / 2, 2)}" for w in rf.weekday_profile),
    )
    demand["complexity_mix"] = {t.name: number(t.share.value) for t in mixture.tiers}
    _close_mix(demand["complexity_mix"])
    comments["demand.complexity_mix"] = (
        f"fitted from {files['contacts']}: tiers are latent classes of episode intensity (docs/calibrate.md), "
        f"n = {count_text(n_ep)} episodes; mean posterior of the assigned tier {mixture.mean_assigned_posterior:.2f}"
    )
    for t in mixture.tiers:
        comments[f"demand.complexity_mix.{t.name}"] = f"95% CI {number(t.share.low, 3)}–{number(t.share.high, 3)}"
    # Sources and urgency.
    src = in_window["SourceOfReferralCommunity"].value_counts()
    src = src[src > 0]
    shares = {str(k): number(v / src.sum()) for k, v in src.items()}
    _close_mix(shares)
    demand["sources"] = shares
    comments["demand.sources"] = _fitted(files["referrals"], src.sum(), None, "national source codes grouped")
    share_fits: dict[str, Interval] = {}
    for k, v in src.items():
        lo, hi = _wilson(float(v), float(src.sum()))
        comments[f"demand.sources.{k}"] = f"95% CI {number(lo, 3)}–{number(hi, 3)}"
        share_fits[f"sources.{k}"] = Interval(float(v / src.sum()), lo, hi)
    urgent = float((in_window["PriorityTypeCode"] == "urgent").sum())
    lo, hi = _wilson(urgent, float(n_refs))
    demand["urgent_share"] = number(urgent / n_refs)
    share_fits["urgent_share"] = Interval(urgent / n_refs, lo, hi)
    comments["demand.urgent_share"] = _fitted(
        files["referrals"], n_refs, Interval(urgent / n_refs, lo, hi), "PriorityTypeCode 2 or 3"
    )
    sc["demand"] = demand

    total_wte = float(loc_wte.sum())
    sc["localities"] = []
    for i, loc in enumerate(localities):
        rate = rf.rate_per_1000_per_year[loc]
        n_loc = int((in_window["locality"] == loc).sum())
        entry: dict[str, Any] = {
            "name": _name(loc),
            "population": round(populations[loc]),
            "referral_rate_per_1000_per_year": number(rate.value),
        }
        comments[f"localities[{i}].population"] = f"from {files['population']}"
        comments[f"localities[{i}].referral_rate_per_1000_per_year"] = _fitted(
            files["referrals"], n_loc, rate, f"at {w0:%Y-%m-%d}, Poisson model"
        )
        if len(localities) > 1 and total_wte > 0:
            entry["staff_share"] = number(loc_wte[loc] / total_wte)
            comments[f"localities[{i}].staff_share"] = f"from {files['workforce']}: the locality's share of WTE"
        sc["localities"].append(entry)
    if len(localities) > 1 and total_wte > 0:
        _close_mix_list(sc["localities"])

    sc["tiers"] = tier_sections(mixture, allowed, bool(has_grades), af, n_tiers, files, comments)
    sc["workforce"] = workforce_section(grade_wte, files, comments)
    sc["contract"] = "block"
    sc["contracts"] = contract_sections(extract, w0, w1, af, tier_names, files, comments)
    sc.update(outcome_sections(af, files, comments))
    initial = initial_state(extract, mixture, et, tier_names)
    summary = {
        "window": window_text,
        "months_fitted": len(fit_months),
        "months_held_out": holdout_months,
        "referrals_fitted": suppress_count(n_refs),
        "episodes_fitted": suppress_count(n_ep),
        "pearson_dispersion": round(rf.dispersion, 3),
        "tier_mean_assigned_posterior": round(mixture.mean_assigned_posterior, 3),
        "em_iterations": mixture.iterations,
        "season_fitted": season,
        "growth_fitted": growth,
    }
    return Calibration(sc, comments, initial, summary, rf, mixture, af, (w0, w1), months, share_fits)


def _close_mix(mix: dict[K, float]) -> None:
    """Make rounded shares sum to exactly one (the largest absorbs the rounding)."""
    if not mix:
        return
    top = max(mix, key=mix.__getitem__)
    mix[top] = round(1.0 - sum(v for k, v in mix.items() if k != top), 12)


def _close_mix_list(localities: list[dict[str, Any]]) -> None:
    shares = {i: loc["staff_share"] for i, loc in enumerate(localities)}
    _close_mix(shares)
    for i, loc in enumerate(localities):
        loc["staff_share"] = shares[i]


def initial_state(extract: Extract, mixture: MixtureFit, et: Any, tier_names: list[str]) -> dict[str, Any]:
    """The caseload and waiting list on the extract's last day, aggregated and suppressed.

    Caseload: referrals open on the last day with a visit by then, by locality and tier (an episode
    fitted has its posterior tier; one received before the fitting window is shared out by the
    fitted mix). Waiting list: open referrals not yet visited, by locality and SitRep wait band.
    """
    last = extract.last_day
    refs = extract["referrals"]
    disch = refs["ServDischDate"] if "ServDischDate" in refs else pd.Series(pd.NaT, index=refs.index)
    open_ = refs[(refs["ReferralRequestReceivedDate"] <= last) & (disch.isna() | (disch > last))]
    c = extract["contacts"]
    # Distinct ids only: a referral has many contacts, and isin's cost grows with the values it is given.
    seen_ids = c.loc[c["CareContDate"] <= last, "ServiceRequestId"].unique()
    seen = open_["ServiceRequestId"].isin(seen_ids).to_numpy()
    mix = np.array([t.share.value for t in mixture.tiers])
    post = pd.DataFrame(mixture.posterior, columns=tier_names)
    post["ServiceRequestId"] = et.frame["ServiceRequestId"].to_numpy()
    caseload = open_[seen][["ServiceRequestId", "locality"]].merge(post, on="ServiceRequestId", how="left")
    weights = caseload[tier_names].to_numpy(dtype=float, copy=True)
    unknown = np.isnan(weights).any(axis=1)
    weights[unknown] = mix
    by_loc: dict[str, dict[str, int | None]] = {}
    for loc, idx in caseload.groupby("locality").indices.items():
        sums = weights[idx].sum(axis=0)
        by_loc[str(loc)] = {t: suppress_count(round(float(s))) for t, s in zip(tier_names, sums, strict=True)}
    waiting = open_[~seen]
    age_weeks = (last - waiting["ReferralRequestReceivedDate"]).dt.days.to_numpy() / 7.0
    edges = [*WAIT_BANDS_WEEKS, np.inf]
    labels = [f"{a}-{b}" if np.isfinite(b) else f"{a}+" for a, b in itertools.pairwise(edges)]
    wait_by_loc: dict[str, dict[str, int | None]] = {}
    for loc, idx in waiting.groupby("locality").indices.items():
        counts, _ = np.histogram(age_weeks[idx], bins=edges)
        wait_by_loc[str(loc)] = {f"{lab} weeks": suppress_count(int(n)) for lab, n in zip(labels, counts, strict=True)}
    return {
        "as_of": last.date().isoformat(),
        "rule": "NHS Digital small-number rule: counts 1-7 suppressed (null), others rounded to the nearest 5",
        "caseload_by_locality_and_tier": by_loc,
        "caseload_total": suppress_count(int(seen.sum())),
        "waiting_list_by_locality_and_wait_band": wait_by_loc,
        "waiting_list_total": suppress_count(int((~seen).sum())),
        "note": (
            "aggregate counts only; the scenario schema cannot start from them yet (next step: an initial_state "
            "section in the scenario), so the fitted scenario starts empty and uses a warm-up"
        ),
    }
