"""Seed the lists at simulation time 0 from the scenario's ``initial_state`` (no cold start).

The section gives aggregate counts per locality (:mod:`fundsim.scenario.initial_state_models`);
this module turns them into people on the caseload and on the waiting list, drawing everything the
counts do not say from the scenario's own distributions:

* **caseload**: each person's follow-up visits already made, uniformly in the group's band; the
  visits still to come from the tier's care plan *given* that many were made and the episode is
  still open (``N − made | N > made``: for the geometric plan, memoryless, this is 1 + a fresh
  plan; for a fixed plan ``N − made``, at least one; for a Poisson plan the truncated law); where
  the person is in their visit cycle, uniformly over the tier's interval (the next visit is due on
  day 0 … interval − 1), so the seeded caseload's visits are spread as a steady caseload's are;
  their visits' durations, deterioration budgets, stays and whether an admission ends the episode
  as a new referral's. Their budgets are fresh at time 0 (the exponential is memoryless: given no
  admission so far, what is left is again unit-exponential), and so is their no-care comparison
  path: its referral day is 0 and its untreated stretch the visits still to come × the interval,
  so both paths start at time 0 from the same budgets and admissions avoided stay unbiased.
* **waiting list**: each person's wait so far, uniformly in the group's band (the referral day is
  that many days before time 0, so their wait when assessed counts from it); their tier from the
  demand's complexity mix at the start (CSDS records no tier before the first visit), and then a
  care plan, assessment and visit durations and budgets as a new referral's. They are already
  accepted: rationing's declines do not apply to them. Their no-care comparison path starts at
  their referral day (the service's one rule, :mod:`fundsim.sim.admissions`), so the part of it
  before time 0 (the seeded wait, at the untreated hazard) is counted in no month while their
  actual path starts fresh at 0. Budgets are exponential, so this changes nothing unless the
  no-care path has an admission in that wait (probability about hazard × days waited): one that
  ends its episode, or uses one of its three budgets, is lost, and their admissions avoided are
  then slightly understated.

Every draw comes from the ``initial_state`` random stream of the person's locality, in a fixed
order, so seeding leaves every other stream, and so every other draw, unchanged; a scenario
without the section draws nothing here.

Seeded people are not this period's referrals: the ledger's ``referrals`` (and by source, tier,
urgency) do not count them, nor do ``caseload_entries``, ``episodes`` or ``assessments`` for those
already on the caseload. Everything that happens to them from time 0 counts: visits, contacts and
hours, deferrals and missed visits, discharges, admissions, person-days on the lists, month-end
lists, and for the waiting list their assessment, caseload entry and wait (from their seeded
wait). The run's own invariant counter (``counts["referred"]``, everyone who entered the lists)
includes them, and ``counts["seeded"]`` says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import poisson

from fundsim.scenario.initial_state_models import InitialState, LocalityState
from fundsim.scenario.models import Scenario, VisitCount
from fundsim.sim.hazard import MAX_ADMISSIONS
from fundsim.sim.patients import CASELOAD, WAITING
from fundsim.sim.sampling import sample, sample_visit_count
from fundsim.sim.streams import RandomStreams

if TYPE_CHECKING:
    from fundsim.sim.service import ServiceModel

#: The random-stream purpose of every seeding draw (fundsim.sim.streams.PURPOSES).
PURPOSE = "initial_state"
DAYS_PER_WEEK = 7.0


def remaining_visits(spec: VisitCount, made: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Follow-up visits still to come for people who have had ``made`` and are still under care.

    The care plan's count ``N`` conditioned on ``N > made`` (at least one visit to come), capped so
    that ``made + remaining`` stays within ``spec.maximum``.
    """
    n = len(made)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if spec.distribution == "fixed" or spec.mean == 0.0:
        rest = round(spec.mean) - made
    elif spec.distribution == "poisson":
        # Inverse CDF of the Poisson truncated to N > made.
        lo = poisson.cdf(made, spec.mean)
        u = lo + rng.random(n) * (1.0 - lo)
        total = poisson.ppf(np.minimum(u, np.nextafter(1.0, 0.0)), spec.mean)
        rest = np.nan_to_num(total, nan=0.0, posinf=0.0).astype(np.int64) - made
    else:  # geometric on {0, 1, ...}: memoryless, so N - made - 1 | N > made is a fresh plan
        rest = rng.geometric(1.0 / (1.0 + spec.mean), n)  # on {1, 2, ...}: 1 + a fresh plan
    rest = np.maximum(np.asarray(rest, dtype=np.int64), 1)
    return np.minimum(rest, np.maximum(spec.maximum - made, 1))


@dataclass
class _Seeds:
    """Everything drawn for one locality's seeded people, in row order (caseload first)."""

    tier: np.ndarray
    urgent: np.ndarray
    on_caseload: np.ndarray
    made: np.ndarray
    n_visits: np.ndarray  # follow-up visits in the whole plan (made + to come)
    referral_day: np.ndarray
    next_due: np.ndarray
    assessment_minutes: np.ndarray
    assessment_travel_minutes: np.ndarray
    f2f: np.ndarray  # durations of the visits to come, person by person
    travel: np.ndarray
    budgets: np.ndarray
    ends: np.ndarray
    los: np.ndarray


def _draw_locality(scenario: Scenario, state: LocalityState, rng: np.random.Generator) -> _Seeds:
    """Draw one locality's seeded people (``state``, an entry of ``initial_state.localities``)."""
    sc = scenario
    tier_index = {t.name: i for i, t in enumerate(sc.tiers)}
    # Caseload: tier and visits already made (uniform in each band).
    c_tier = np.concatenate(
        [np.full(g.people, tier_index[g.tier], dtype=np.int64) for g in state.caseload] or [np.zeros(0, np.int64)]
    )
    made = np.concatenate(
        [rng.integers(g.visits_made_min, g.visits_made_top + 1, g.people) for g in state.caseload]
        or [np.zeros(0, np.int64)]
    ).astype(np.int64)
    # Waiting list: urgency, wait so far (days, uniform in the band) and a tier from the starting mix.
    w_urgent = np.concatenate([np.full(g.people, g.urgent, dtype=bool) for g in state.waiting] or [np.zeros(0, bool)])
    waited = np.concatenate(
        [
            DAYS_PER_WEEK * (g.waited_weeks_min + rng.random(g.people) * (g.waited_weeks_max - g.waited_weeks_min))
            for g in state.waiting
        ]
        or [np.zeros(0)]
    )
    cum_mix = np.cumsum([sc.demand.complexity_mix[t.name] for t in sc.tiers])
    w_tier = np.minimum((rng.random(len(waited))[:, None] > cum_mix[None, :]).sum(axis=1), len(sc.tiers) - 1)
    n_case, n_wait = len(c_tier), len(w_tier)
    n = n_case + n_wait
    tier = np.concatenate([c_tier, w_tier]).astype(np.int64)
    on_caseload = np.arange(n) < n_case
    interval = np.array([max(1, round(t.interval_days)) for t in sc.tiers], dtype=np.int64)
    # The next visit of someone mid-episode: anywhere in their cycle (day 0 .. interval - 1).
    next_due = np.zeros(n, dtype=np.int64)
    next_due[:n_case] = np.floor(rng.random(n_case) * interval[c_tier]).astype(np.int64)
    n_visits = np.zeros(n, dtype=np.int64)
    assess = np.zeros(n)
    assess_travel = np.zeros(n)
    to_come = np.zeros(n, dtype=np.int64)
    f2f_parts, travel_parts, order_parts = [], [], []
    # Tier by tier, always in the same order (as the referral draws), so the stream stays aligned.
    for t, spec in enumerate(sc.tiers):
        case = np.flatnonzero(on_caseload & (tier == t))
        wait = np.flatnonzero(~on_caseload & (tier == t))
        to_come[case] = remaining_visits(spec.visits, made[case], rng)
        to_come[wait] = sample_visit_count(spec.visits, rng, len(wait))
        assess[wait] = sample(spec.assessment_minutes, rng, len(wait))
        assess_travel[wait] = sample(spec.travel_minutes, rng, len(wait))
        who = np.concatenate([case, wait])
        total = int(to_come[who].sum())
        f2f_parts.append(sample(spec.face_to_face_minutes, rng, total))
        travel_parts.append(sample(spec.travel_minutes, rng, total))
        order_parts.append(np.repeat(who, to_come[who]))
    made_all = np.zeros(n, dtype=np.int64)
    made_all[:n_case] = made
    n_visits[:] = made_all + to_come
    owner = np.concatenate(order_parts) if order_parts else np.empty(0, dtype=np.int64)
    by_owner = np.argsort(owner, kind="stable")
    f2f = np.concatenate(f2f_parts)[by_owner] if f2f_parts else np.empty(0)
    travel = np.concatenate(travel_parts)[by_owner] if travel_parts else np.empty(0)
    budgets = rng.exponential(1.0, (n, MAX_ADMISSIONS))
    ends = rng.random((n, MAX_ADMISSIONS)) < sc.hospital.ends_episode_probability
    los = sample(sc.hospital.length_of_stay_days, rng, n * MAX_ADMISSIONS).reshape(n, MAX_ADMISSIONS)
    # Caseload: the no-care path starts at 0 with the actual one (see the module docstring).
    referral_day = np.concatenate([np.zeros(n_case), -waited])
    urgent = np.concatenate([np.zeros(n_case, dtype=bool), w_urgent])
    return _Seeds(
        tier, urgent, on_caseload, made_all, n_visits, referral_day, next_due,
        assess, assess_travel, f2f, travel, budgets, ends, los,
    )  # fmt: skip


def seed_initial_state(service: ServiceModel, state: InitialState, streams: RandomStreams) -> int:
    """Place ``state``'s people on ``service``'s lists at time 0; return how many were placed."""
    sc = service.scenario
    loc_index = {loc.name: i for i, loc in enumerate(sc.localities)}
    placed = 0
    for loc_state in state.localities:
        i = loc_index[loc_state.locality]
        seeds = _draw_locality(sc, loc_state, streams.stream(PURPOSE, i))
        placed += _place(service, i, seeds)
    service.counts["referred"] += placed
    service.counts["seeded"] = service.counts.get("seeded", 0) + placed
    return placed


def _place(service: ServiceModel, locality: int, s: _Seeds) -> int:
    """Write one locality's seeded people into the patient table and the visit buffer."""
    n = len(s.tier)
    if n == 0:
        return 0
    to_come = s.n_visits - s.made
    offset0 = service.visit_buffer.store(s.f2f, s.travel)
    first = offset0 + np.cumsum(to_come) - to_come  # buffer position of each person's next visit
    p = service.people
    slots = p.allocate(n)
    c = p.cols
    case = s.on_caseload
    planned = np.array([t.interval_days for t in service.scenario.tiers])[s.tier]
    planned_end = s.referral_day + (s.n_visits - s.made) * planned  # the untreated stretch of the no-care path
    c["stage"][slots] = np.where(case, CASELOAD, WAITING)
    c["locality"][slots] = locality
    c["tier"][slots] = s.tier
    c["urgent"][slots] = s.urgent
    c["referral_day"][slots] = s.referral_day
    c["stage_start_day"][slots] = 0.0
    c["n_visits"][slots] = s.n_visits
    c["visits_done"][slots] = s.made
    c["interval_days"][slots] = service.interval_now[s.tier]
    # Positions are visit_offset + visits_done, so the first visit to come sits at ``first``.
    c["visit_offset"][slots] = first - s.made
    c["assessment_minutes"][slots] = s.assessment_minutes
    c["assessment_travel_minutes"][slots] = s.assessment_travel_minutes
    c["base_hazard"][slots] = service.base_hazard[s.tier]
    c["k"][slots] = 0
    c["raised_until_day"][slots] = 0
    c["return_day"][slots] = 0
    c["next_due_day"][slots] = s.next_due
    c["due_since_day"][slots] = s.next_due
    c["planned_end_day"][slots] = planned_end
    c["window_end_day"][slots] = planned_end + service.scenario.outcomes.follow_up_days
    p.budgets[slots] = s.budgets
    p.ends[slots] = s.ends
    p.los[slots] = s.los
    p.start_hazard(slots, 0.0, np.where(case, service.m_care, service.m_wait))
    return n


__all__ = ["PURPOSE", "remaining_visits", "seed_initial_state"]
