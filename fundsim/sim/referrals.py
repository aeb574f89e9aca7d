"""Who is referred, when, and everything drawn about them at referral: the referral block.

Each locality's referrals are an exact non-homogeneous Poisson process with a day-piecewise rate
(growth, winter seasonality, weekday pattern). Everything about a person that the service cannot
change is drawn once, at referral: complexity tier, urgency, source, the care plan (visit count,
every visit's face-to-face and travel minutes), the deterioration budgets that decide emergency
admissions, lengths of stay and whether an admission ends the episode.

Draws are keyed by locality and purpose (:class:`~fundsim.sim.streams.RandomStreams`) and made
:data:`BLOCK_DAYS` days at a time, at fixed block boundaries, in a fixed order, so they do not
depend on anything the model does: common random numbers across contracts, staffing and provider
behaviour. This module draws only; recording the referrals in the accounts is the service's job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fundsim.scenario.models import Scenario
from fundsim.sim.calendar import Calendar
from fundsim.sim.hazard import MAX_ADMISSIONS
from fundsim.sim.sampling import sample, sample_visit_count
from fundsim.sim.streams import RandomStreams

#: Referrals are drawn this many days at a time per locality (one call per stream per block, not per
#: day); block boundaries are fixed days, so the draws do not depend on anything the model does.
BLOCK_DAYS = 28

#: Purposes of the per-locality random streams used at referral (in the order they are created).
PURPOSES = ("arrivals", "patients", "visits", "deterioration", "hospital")


def referral_rate_per_day(scenario: Scenario, calendar: Calendar, locality: int) -> np.ndarray:
    """Expected referrals on each simulation day (the integrated non-homogeneous Poisson rate)."""
    return referral_rate(scenario, locality, calendar.years_from_start, calendar.day_of_year, calendar.weekday)


def referral_rate(
    scenario: Scenario, locality: int, years_from_start: np.ndarray, day_of_year: np.ndarray, weekday: np.ndarray
) -> np.ndarray:
    """Expected referrals of ``locality`` on days given by their years from the start, day of year and weekday.

    population / 1000 × rate per 1,000 a year / 365.25 × (1 + growth)^years × (1 + winter amplitude ×
    cos(2π (day of year − peak day) / 365.25)) × weekday weight / mean weekday weight (Monday = 0).
    """
    loc = scenario.localities[locality]
    demand = scenario.demand
    base = loc.population / 1000.0 * loc.referral_rate_per_1000_per_year / 365.25
    growth = (1.0 + demand.growth_per_year) ** years_from_start
    season = 1.0 + demand.seasonality.winter_amplitude * np.cos(
        2.0 * np.pi * (day_of_year - demand.seasonality.peak_day_of_year) / 365.25
    )
    profile = np.asarray(demand.weekday_profile, dtype=float)
    weekday_weight = profile[weekday] / profile.mean()
    return base * growth * season * weekday_weight


@dataclass
class ReferralBlock:
    """The referrals of days ``[first_day, end_day)`` of every locality, drawn but not yet arrived.

    Rows are in (day, locality, time) order, so one day's referrals are a contiguous slice.
    Visit durations of row ``i`` are ``f2f[visit_start[i] : visit_start[i] + n_visits[i]]``.
    """

    first_day: int
    end_day: int
    day_start: np.ndarray  # (n_days + 1,) first row of each day
    loc: np.ndarray
    time: np.ndarray
    tier: np.ndarray
    urgent: np.ndarray
    source: np.ndarray  # index into the scenario's referral sources
    within_band: np.ndarray  # where the tier draw fell within the lowest accepted tier's band (1 if other tier)
    n_visits: np.ndarray
    visit_start: np.ndarray
    assessment_minutes: np.ndarray
    assessment_travel_minutes: np.ndarray
    budgets: np.ndarray  # (n, MAX_ADMISSIONS)
    ends: np.ndarray
    los: np.ndarray
    planned_end: np.ndarray  # referral + planned visits × interval: the no-care path's untreated stretch
    window_end: np.ndarray  # planned end + follow-up: the shortest window a person is followed for
    f2f: np.ndarray
    travel: np.ndarray

    def day_rows(self, day: int) -> np.ndarray:
        """Row numbers of ``day``'s referrals."""
        lo, hi = int(self.day_start[day - self.first_day]), int(self.day_start[day - self.first_day + 1])
        return np.arange(lo, hi)


class Referrals:
    """Every locality's referral stream: the daily counts, and the people, drawn a block at a time."""

    def __init__(self, scenario: Scenario, calendar: Calendar, streams: RandomStreams) -> None:
        self.scenario = scenario
        self.calendar = calendar
        self.n_localities = n_loc = len(scenario.localities)
        self.sources = tuple(scenario.demand.sources)
        self.cum_sources = np.cumsum([scenario.demand.sources[s] for s in self.sources])
        self._rng = {purpose: [streams.stream(purpose, i) for i in range(n_loc)] for purpose in PURPOSES}
        tiers = scenario.tiers
        self.planned_days = np.array([t.interval_days for t in tiers])
        mix0 = np.array([scenario.demand.complexity_mix[t.name] for t in tiers])
        mix_end = scenario.demand.complexity_mix_end
        mix1 = np.array([mix_end[t.name] for t in tiers]) if mix_end is not None else mix0
        self.cum_mix = (np.cumsum(mix0), np.cumsum(mix1))
        self.horizon_days = calendar.n_days - calendar.warmup_days
        # Referral counts per locality and day (an exact NHPP for a day-piecewise rate).
        self.expected_referrals = np.stack(
            [referral_rate_per_day(scenario, calendar, i) for i in range(n_loc)]
        )  # (n_loc, n_days)
        self.daily_referrals = np.stack(
            [self._rng["arrivals"][i].poisson(self.expected_referrals[i]) for i in range(n_loc)]
        )

    def _mix_at(self, t_days: np.ndarray) -> np.ndarray:
        frac = np.clip((t_days - self.calendar.warmup_days) / self.horizon_days, 0.0, 1.0)[:, None]
        return (1.0 - frac) * self.cum_mix[0][None, :] + frac * self.cum_mix[1][None, :]

    def _draw_locality(self, i: int, first_day: int, end_day: int) -> dict[str, np.ndarray]:
        """Draw everything about locality ``i``'s referrals of days ``[first_day, end_day)``."""
        sc = self.scenario
        counts = self.daily_referrals[i, first_day:end_day]
        n = int(counts.sum())
        rng = self._rng["patients"][i]
        rng_visits = self._rng["visits"][i]
        rng_det = self._rng["deterioration"][i]
        # Uniform times within each day; sorting keeps days in order because each is whole.
        days = np.repeat(np.arange(first_day, end_day, dtype=float), counts)
        time = np.sort(days + self._rng["arrivals"][i].random(n))
        u_tier = rng.random(n)
        cum_mix = self._mix_at(time)
        tier = np.minimum((u_tier[:, None] > cum_mix).sum(axis=1), len(sc.tiers) - 1)
        urgent = rng.random(n) < sc.demand.urgent_share
        n_visits = np.zeros(n, dtype=np.int64)
        assess = np.zeros(n)
        assess_travel = np.zeros(n)
        f2f_parts, travel_parts, order_parts = [], [], []
        # Draw tier by tier, always in the same order, so the streams stay aligned across runs.
        for t, spec in enumerate(sc.tiers):
            who = np.flatnonzero(tier == t)
            if len(who) == 0:
                continue
            n_visits[who] = sample_visit_count(spec.visits, rng, len(who))
            assess[who] = sample(spec.assessment_minutes, rng, len(who))
            assess_travel[who] = sample(spec.travel_minutes, rng, len(who))
            total = int(n_visits[who].sum())
            f2f_parts.append(sample(spec.face_to_face_minutes, rng_visits, total))
            travel_parts.append(sample(spec.travel_minutes, rng_visits, total))
            order_parts.append(np.repeat(who, n_visits[who]))
        # Visit durations regrouped by person (row order), each person's visits in draw order.
        owner = np.concatenate(order_parts) if order_parts else np.empty(0, dtype=np.int64)
        by_owner = np.argsort(owner, kind="stable")
        f2f = np.concatenate(f2f_parts)[by_owner] if f2f_parts else np.empty(0)
        travel = np.concatenate(travel_parts)[by_owner] if travel_parts else np.empty(0)
        budgets = rng_det.exponential(1.0, (n, MAX_ADMISSIONS))
        ends = rng_det.random((n, MAX_ADMISSIONS)) < sc.hospital.ends_episode_probability
        los = sample(sc.hospital.length_of_stay_days, self._rng["hospital"][i], n * MAX_ADMISSIONS).reshape(
            n, MAX_ADMISSIONS
        )
        source = np.minimum(np.searchsorted(self.cum_sources, rng.random(n), side="right"), len(self.sources) - 1)
        # Rationing declines a share of the lowest accepted tier. Who is declined follows from where
        # the person's tier draw fell within that tier's band (uniform on [0, 1) and independent of
        # everything else), so declining draws nothing extra and CRN holds.
        t0 = sc.care.min_accepted_tier
        hi = cum_mix[:, t0]
        lo = cum_mix[:, t0 - 1] if t0 > 0 else np.zeros(n)
        within = np.where(tier == t0, (u_tier - lo) / np.maximum(hi - lo, 1e-300), 1.0)
        return {
            "time": time,
            "tier": tier,
            "urgent": urgent,
            "within_band": within,
            "n_visits": n_visits,
            "assessment_minutes": assess,
            "assessment_travel_minutes": assess_travel,
            "budgets": budgets,
            "ends": ends,
            "los": los,
            "source": source,
            "f2f": f2f,
            "travel": travel,
        }

    def draw(self, first_day: int) -> ReferralBlock:
        """Draw the referrals of every locality for the block starting at ``first_day``."""
        sc = self.scenario
        end_day = min(first_day + BLOCK_DAYS, self.calendar.n_days)
        parts = [self._draw_locality(i, first_day, end_day) for i in range(self.n_localities)]
        loc = np.concatenate([np.full(len(p["time"]), i, dtype=np.int64) for i, p in enumerate(parts)])
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        # Visit starts within the block's buffers, in the per-locality concatenation order.
        n_visits = cat["n_visits"]
        start = np.cumsum(n_visits) - n_visits
        # Day-major, then locality, then time: one day's referrals are one slice.
        order = np.lexsort((cat["time"], loc, np.floor(cat["time"])))
        cat = {k: (v if k in ("f2f", "travel") else v[order]) for k, v in cat.items()}
        loc, start = loc[order], start[order]
        time, tier = cat["time"], cat["tier"]
        planned_end = time + n_visits[order] * self.planned_days[tier]
        window_end = planned_end + sc.outcomes.follow_up_days
        day_start = np.searchsorted(np.floor(time), np.arange(first_day, end_day + 1), side="left")
        return ReferralBlock(
            first_day=first_day,
            end_day=end_day,
            day_start=day_start,
            loc=loc,
            time=time,
            tier=tier,
            urgent=cat["urgent"],
            source=cat["source"],
            within_band=cat["within_band"],
            n_visits=n_visits[order],
            visit_start=start,
            assessment_minutes=cat["assessment_minutes"],
            assessment_travel_minutes=cat["assessment_travel_minutes"],
            budgets=cat["budgets"],
            ends=cat["ends"],
            los=cat["los"],
            planned_end=planned_end,
            window_end=window_end,
            f2f=cat["f2f"],
            travel=cat["travel"],
        )


__all__ = ["BLOCK_DAYS", "PURPOSES", "ReferralBlock", "Referrals", "referral_rate", "referral_rate_per_day"]
