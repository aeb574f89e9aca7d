"""One locality's community nursing team: referrals, waiting list, caseload, visits, outcomes.

The team works a day at a time, as district nurses do: at the start of each day it resolves the
emergency admissions that happened overnight, then allocates the day's due work (urgent
assessments, due follow-up visits, routine assessments) to the staff on duty, lowest allowed
grade first, deferring what does not fit; a visit deferred beyond the tolerance is missed. New
referrals arrive in continuous time during the day. All of it is vectorised over people except
the allocation itself, which walks the day's work in priority order.
"""

from __future__ import annotations

import numpy as np

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import URGENT_KPI_DAYS, MonthlyAccounts
from fundsim.sim.calendar import Calendar
from fundsim.sim.hazard import MAX_ADMISSIONS, admissions_on_path
from fundsim.sim.patients import CASELOAD, FREE, WAITING, PatientTable
from fundsim.sim.roster import Roster, build_roster
from fundsim.sim.sampling import sample, sample_visit_count
from fundsim.sim.streams import RandomStreams

MINUTES_PER_HOUR = 60.0


def referral_rate_per_day(scenario: Scenario, calendar: Calendar, locality: int) -> np.ndarray:
    """Expected referrals on each simulation day (the integrated non-homogeneous Poisson rate)."""
    loc = scenario.localities[locality]
    demand = scenario.demand
    base = loc.population / 1000.0 * loc.referral_rate_per_1000_per_year / 365.25
    growth = (1.0 + demand.growth_per_year) ** calendar.years_from_start
    season = 1.0 + demand.seasonality.winter_amplitude * np.cos(
        2.0 * np.pi * (calendar.day_of_year - demand.seasonality.peak_day_of_year) / 365.25
    )
    profile = np.asarray(demand.weekday_profile, dtype=float)
    weekday = profile[calendar.weekday] / profile.mean()
    return base * growth * season * weekday


class LocalityModel:
    """State and daily behaviour of one locality's team."""

    def __init__(self, scenario: Scenario, calendar: Calendar, locality: int, streams: RandomStreams) -> None:
        self.scenario = scenario
        self.calendar = calendar
        self.index = locality
        self.sources = tuple(scenario.demand.sources)
        self.cum_sources = np.cumsum([scenario.demand.sources[s] for s in self.sources])
        self.accounts = MonthlyAccounts(calendar, self.sources, tuple(t.name for t in scenario.tiers))
        self.people = PatientTable()
        self._rng_arrivals = streams.stream("arrivals", locality)
        self._rng_patients = streams.stream("patients", locality)
        self._rng_visits = streams.stream("visits", locality)
        self._rng_deterioration = streams.stream("deterioration", locality)
        self._rng_hospital = streams.stream("hospital", locality)
        self.roster: Roster = build_roster(scenario, calendar, locality, streams.stream("roster", locality))

        grades = scenario.workforce.grades
        grade_index = {g.name: i for i, g in enumerate(grades)}
        tiers = scenario.tiers
        # Cheapest allowed grade first: skill mix is preserved for the visits that need it.
        self.allowed = [
            sorted((grade_index[name] for name in t.allowed_grades), key=lambda g: grades[g].hourly_cost_gbp)
            for t in tiers
        ]
        self.base_hazard = np.array([t.daily_admission_hazard for t in tiers])
        self.interval = np.array([max(1, round(t.interval_days)) for t in tiers], dtype=np.int64)
        self.planned_days = np.array([t.interval_days for t in tiers])
        mix0 = np.array([scenario.demand.complexity_mix[t.name] for t in tiers])
        mix1 = scenario.demand.complexity_mix_end
        mix1 = np.array([mix1[t.name] for t in tiers]) if mix1 is not None else mix0
        self.cum_mix = (np.cumsum(mix0), np.cumsum(mix1))
        self.horizon_days = calendar.n_days - calendar.warmup_days

        # Referral counts per day and their times within the day (an exact NHPP for a day-piecewise rate).
        self.expected_referrals = referral_rate_per_day(scenario, calendar, locality)
        self.daily_referrals = self._rng_arrivals.poisson(self.expected_referrals)

        # Flat buffers of visit durations (face-to-face, travel), addressed per person.
        self._f2f = np.empty(4096)
        self._travel = np.empty(4096)
        self._buffer_used = 0

        out = scenario.outcomes
        self.m_wait = out.waiting_hazard_multiplier
        self.m_untreated = out.untreated_hazard_multiplier
        self.m_missed = out.missed_visit_hazard_multiplier
        self.m_post = out.post_discharge_hazard_multiplier
        self.missed_effect_days = round(out.missed_visit_effect_days)
        hosp = scenario.hospital
        self.tariff = hosp.tariff_gbp
        self.trim = hosp.trim_point_days
        self.excess = hosp.excess_bed_day_gbp

        # What provider management can change (fundsim.sim.management); the scenario sets the start.
        self.fte_scale = 1.0  # staff relative to the initial establishment
        self.unpaid_overtime_share = scenario.workforce.unpaid_overtime_share
        self.min_accepted_tier = scenario.care.min_accepted_tier
        self.ration_level = 0
        self.decline_share = 0.0  # share of the lowest accepted tier declined (rises with rationing)
        self.m_care = 1.0  # hazard multiplier on the caseload (rises with rationing)
        self.visit_time_factor = 1.0  # face-to-face time of follow-up visits (falls with rationing)
        self.interval_now = self.interval.copy()  # days between visits per tier (grows with rationing)

    # ------------------------------------------------------------------ arrivals

    def _mix_at(self, t_days: np.ndarray) -> np.ndarray:
        frac = np.clip((t_days - self.calendar.warmup_days) / self.horizon_days, 0.0, 1.0)[:, None]
        return (1.0 - frac) * self.cum_mix[0][None, :] + frac * self.cum_mix[1][None, :]

    def _store_visits(self, f2f: np.ndarray, travel: np.ndarray) -> int:
        n = len(f2f)
        need = self._buffer_used + n
        if need > len(self._f2f):
            size = max(2 * len(self._f2f), need)
            self._f2f = np.resize(self._f2f, size)
            self._travel = np.resize(self._travel, size)
        start = self._buffer_used
        self._f2f[start:need] = f2f
        self._travel[start:need] = travel
        self._buffer_used = need
        return start

    def arrive(self, day: int) -> np.ndarray:
        """Create the referrals of ``day`` (times in ``[day, day + 1)``); return the accepted slots."""
        n = int(self.daily_referrals[day])
        if n == 0:
            return np.empty(0, dtype=np.int64)
        sc = self.scenario
        acc = self.accounts
        rng = self._rng_patients
        times = day + np.sort(self._rng_arrivals.random(n))
        u_tier = rng.random(n)
        cum_mix = self._mix_at(times)
        tier = (u_tier[:, None] > cum_mix).sum(axis=1)
        tier = np.minimum(tier, len(sc.tiers) - 1)
        urgent = rng.random(n) < sc.demand.urgent_share
        n_visits = np.zeros(n, dtype=np.int64)
        assess = np.zeros(n)
        assess_travel = np.zeros(n)
        offsets = np.zeros(n, dtype=np.int64)
        # Draw tier by tier, always in the same order, so the streams stay aligned across runs.
        for t, spec in enumerate(sc.tiers):
            who = np.flatnonzero(tier == t)
            if len(who) == 0:
                continue
            n_visits[who] = sample_visit_count(spec.visits, rng, len(who))
            assess[who] = sample(spec.assessment_minutes, rng, len(who))
            assess_travel[who] = sample(spec.travel_minutes, rng, len(who))
            total = int(n_visits[who].sum())
            f2f = sample(spec.face_to_face_minutes, self._rng_visits, total)
            travel = sample(spec.travel_minutes, self._rng_visits, total)
            start = self._store_visits(f2f, travel)
            offsets[who] = start + np.concatenate(([0], np.cumsum(n_visits[who])[:-1]))
        budgets = self._rng_deterioration.exponential(1.0, (n, MAX_ADMISSIONS))
        ends = self._rng_deterioration.random((n, MAX_ADMISSIONS)) < sc.hospital.ends_episode_probability
        los = sample(sc.hospital.length_of_stay_days, self._rng_hospital, n * MAX_ADMISSIONS).reshape(n, MAX_ADMISSIONS)

        # Drawn last so that adding the source left every earlier draw where it was.
        source = np.minimum(np.searchsorted(self.cum_sources, rng.random(n), side="right"), len(self.sources) - 1)
        # Every referral of the day falls in the day's month (months start at whole days), so
        # counts go in with scalar adds rather than per-time bookkeeping.
        acc.add_day("referrals", day, float(n))
        acc.add_day("referrals_urgent", day, float(np.count_nonzero(urgent)))
        for s, count in enumerate(np.bincount(source, minlength=len(self.sources)).tolist()):
            acc.add_day(f"referrals_from_{self.sources[s]}", day, float(count))
        acc.add_day_by_tier("referrals", day, tier)

        h = self.base_hazard[tier]
        planned_end = times + n_visits * self.planned_days[tier]
        window_end = planned_end + sc.outcomes.follow_up_days
        accepted = tier >= self.min_accepted_tier
        if self.decline_share > 0:
            # Rationing declines a share of the lowest accepted tier. Who is declined follows from
            # where the person's tier draw fell within its tier's band (uniform on [0, 1) and
            # independent of everything else), so no extra draw shifts the streams.
            t0 = self.min_accepted_tier
            hi = cum_mix[:, t0]
            lo = cum_mix[:, t0 - 1] if t0 > 0 else np.zeros(n)
            within = (u_tier - lo) / np.maximum(hi - lo, 1e-300)
            accepted &= ~((tier == t0) & (within < self.decline_share))
        acc.add_day("referrals_declined", day, float(n - np.count_nonzero(accepted)))
        # Counterfactual: the same people and budgets, no community care at all. A declined
        # referral gets no care either, so the same path is its actual outcome too.
        # Collected, then recorded in one call each: per-person bookkeeping calls dominated the profile.
        cf_times: list[float] = []
        declined: list = []
        times_l, planned_l, window_l = times.tolist(), planned_end.tolist(), window_end.tolist()
        h_untreated, h_post = (h * self.m_untreated).tolist(), (h * self.m_post).tolist()
        first_budget, accepted_l = budgets[:, 0].tolist(), accepted.tolist()
        # Only people whose first budget is spent within their window can be admitted at all:
        # a vectorised test skips the path walk for the (large) majority who are not.
        exposure = h * self.m_untreated * (planned_end - times) + h * self.m_post * (window_end - planned_end)
        for i in np.flatnonzero(budgets[:, 0] < exposure).tolist():
            cf = admissions_on_path(
                times_l[i], first_budget[i], 0,
                ((planned_l[i], h_untreated[i]), (window_l[i], h_post[i])),
                budgets[i], ends[i], los[i],
            )  # fmt: skip
            if cf:
                cf_times.extend(a.time_days for a in cf)
                if not accepted_l[i]:
                    declined.extend(cf)
        acc.add_times("counterfactual_admissions", np.array(cf_times))
        self._record_admissions(declined, "admissions_declined_referrals")
        keep = np.flatnonzero(accepted)
        slots = self.people.allocate(len(keep))
        c = self.people.cols
        c["stage"][slots] = WAITING
        c["tier"][slots] = tier[keep]
        c["urgent"][slots] = urgent[keep]
        c["referral_day"][slots] = times[keep]
        c["stage_start_day"][slots] = times[keep]
        c["n_visits"][slots] = n_visits[keep]
        c["visits_done"][slots] = 0
        c["interval_days"][slots] = self.interval_now[tier[keep]]
        c["visit_offset"][slots] = offsets[keep]
        c["assessment_minutes"][slots] = assess[keep]
        c["assessment_travel_minutes"][slots] = assess_travel[keep]
        c["base_hazard"][slots] = h[keep]
        c["k"][slots] = 0
        c["raised_until_day"][slots] = 0
        c["return_day"][slots] = 0
        c["window_end_day"][slots] = window_end[keep]
        self.people.budgets[slots] = budgets[keep]
        self.people.ends[slots] = ends[keep]
        self.people.los[slots] = los[keep]
        self.people.start_hazard(slots, times[keep], self.m_wait)
        return slots

    # ------------------------------------------------------------------ outcomes

    def _record_admissions(self, admissions: list, metric: str) -> None:
        if not admissions:
            return
        t = np.array([a.time_days for a in admissions])
        los = np.array([a.length_of_stay_days for a in admissions])
        acc = self.accounts
        acc.add_times("admissions", t)
        acc.add_times(metric, t)
        acc.add_times("bed_days", t, los)
        acc.add_times("hospital_cost_gbp", t, self.tariff + np.maximum(0.0, los - self.trim) * self.excess)

    def admit(self, day: int) -> None:
        """Resolve the emergency admissions that happened before the start of ``day``."""
        p = self.people
        c = p.cols
        due = np.flatnonzero((c["stage"] != FREE) & (c["admission_day"] <= day))
        if len(due) == 0:
            return
        t = c["admission_day"][due]
        k = c["k"][due].astype(np.int64)
        los = p.los[due, k]
        ends = p.ends[due, k]
        stage = c["stage"][due]
        acc = self.accounts
        acc.add_times("admissions", t)
        acc.add_times("admissions_from_caseload", t[stage == CASELOAD])
        acc.add_times("admissions_from_waiting_list", t[stage == WAITING])
        acc.add_times("bed_days", t, los)
        acc.add_times("hospital_cost_gbp", t, self.tariff + np.maximum(0.0, los - self.trim) * self.excess)
        # A visit that was due when the person was admitted will not happen as planned.
        outstanding = (stage == CASELOAD) & (c["next_due_day"][due] <= day)
        acc.add_times("visits_cancelled", t[outstanding])

        ended = due[ends]
        if len(ended):
            self._close_stage(ended, c["admission_day"][ended])
            acc.add_times("episodes_ended_by_admission", c["admission_day"][ended])
            p.release(ended)
        stay = due[~ends]
        if len(stay):
            c["k"][stay] += 1
            back = np.maximum(np.ceil(t[~ends] + los[~ends]).astype(np.int64), day)
            c["return_day"][stay] = back
            on_caseload = c["stage"][stay] == CASELOAD
            c["next_due_day"][stay] = np.where(on_caseload, back, c["next_due_day"][stay])
            c["due_since_day"][stay] = np.where(on_caseload, back, c["due_since_day"][stay])
            c["raised_until_day"][stay] = 0
            p.start_hazard(stay, back.astype(float), np.where(on_caseload, self.m_care, self.m_wait))

    def _close_stage(self, slots: np.ndarray, t_end: np.ndarray | float) -> None:
        """Add the person-days of the current stage of ``slots`` ending at ``t_end``."""
        c = self.people.cols
        stage = c["stage"][slots]
        t_end = np.broadcast_to(np.asarray(t_end, dtype=float), slots.shape)
        for code, metric in ((WAITING, "waiting_list_days"), (CASELOAD, "caseload_days")):
            sel = stage == code
            self.accounts.add_area(metric, c["stage_start_day"][slots[sel]], t_end[sel])

    def restore_hazards(self, day: int) -> None:
        """End the raised hazard of missed visits whose effect has worn off."""
        c = self.people.cols
        back = np.flatnonzero((c["stage"] == CASELOAD) & (c["raised_until_day"] > 0) & (c["raised_until_day"] <= day))
        if len(back):
            c["raised_until_day"][back] = 0
            self.people.set_multiplier(back, float(day), self.m_care)

    def discharge(self, slots: np.ndarray, day: float) -> None:
        """Discharge ``slots`` at time ``day`` and follow them to the end of their outcome window."""
        if len(slots) == 0:
            return
        p = self.people
        c = p.cols
        self._close_stage(slots, float(day))
        self.accounts.add_at("discharges", day, float(len(slots)))
        budget = p.budget_at(slots, float(day))
        h_post = c["base_hazard"][slots] * self.m_post
        window_end = c["window_end_day"][slots]
        k = c["k"][slots]
        # As in arrive: only those whose remaining budget runs out within the window need a walk.
        follow = np.flatnonzero((window_end > day) & (h_post > 0) & (budget < h_post * (window_end - day)))
        after: list = []
        for j in follow.tolist():
            s = slots[j]
            after.extend(
                admissions_on_path(
                    float(day), float(budget[j]), int(k[j]), ((float(window_end[j]), float(h_post[j])),),
                    p.budgets[s], p.ends[s], p.los[s],
                )
            )  # fmt: skip
        self._record_admissions(after, "admissions_after_discharge")
        p.release(slots)

    # ------------------------------------------------------------------ the working day

    def plan_day(self, day: int) -> None:
        """Allocate the day's due work to the staff on duty; defer or miss what does not fit."""
        p = self.people
        c = p.cols
        acc = self.accounts
        sc = self.scenario
        stage = c["stage"]
        ready = c["return_day"] <= day
        waiting = np.flatnonzero((stage == WAITING) & ready & (c["referral_day"] < day))
        follow = np.flatnonzero((stage == CASELOAD) & ready & (c["next_due_day"] <= day))

        acc.add_day("visits_due", day, float(np.count_nonzero(c["due_since_day"][follow] == day)))

        # Priority: urgent assessments (first come, first served), routine assessments up to the
        # reserved share of capacity, due visits (most overdue first), then the other routine assessments.
        ref = c["referral_day"][waiting]
        urgent = c["urgent"][waiting] if sc.care.urgent_assessment_first else np.zeros(len(waiting), bool)
        w_order = waiting[np.lexsort((ref, ~urgent))]
        n_urgent = int(np.count_nonzero(urgent))
        f_order = follow[np.lexsort((-c["tier"][follow], c["due_since_day"][follow]))]
        # Routine assessments within the reserved share of the day go before the due visits, so the
        # service keeps taking new patients even when its caseload alone could fill the day.
        routine = w_order[n_urgent:]
        rostered = self.roster.visit_minutes[day] * self.fte_scale
        reserve = sc.care.assessment_capacity_share * float(rostered.sum())
        routine_minutes = c["assessment_minutes"][routine] + c["assessment_travel_minutes"][routine]
        n_reserved = int(np.searchsorted(np.cumsum(routine_minutes), reserve, side="right"))
        order = np.concatenate((w_order[: n_urgent + n_reserved], f_order, routine[n_reserved:]))
        is_assessment = np.ones(len(order), dtype=bool)
        is_assessment[n_urgent + n_reserved : n_urgent + n_reserved + len(f_order)] = False
        f2f = np.empty(len(order))
        travel = np.empty(len(order))
        a = order[is_assessment]
        f2f[is_assessment] = c["assessment_minutes"][a]
        travel[is_assessment] = c["assessment_travel_minutes"][a]
        v = order[~is_assessment]
        pos = c["visit_offset"][v] + c["visits_done"][v]
        f2f[~is_assessment] = self._f2f[pos] * self.visit_time_factor
        travel[~is_assessment] = self._travel[pos]
        minutes = (f2f + travel).tolist()
        tiers = c["tier"][order].tolist()

        overtime_cap = self.roster.overtime_minutes_cap[day] * self.fte_scale
        done_list = [False] * len(order)  # a list: _allocate reads it item by item
        # Rostered time first, across every allowed grade; only then do staff stay on (overtime).
        spare = _allocate(minutes, tiers, self.allowed, rostered.tolist(), done_list)
        spare_ot = _allocate(minutes, tiers, self.allowed, overtime_cap.tolist(), done_list)
        done = np.array(done_list, dtype=bool)
        used = rostered - np.array(spare) + overtime_cap - np.array(spare_ot)
        overtime_h = np.maximum(0.0, used - rostered).sum() / MINUTES_PER_HOUR
        unpaid_h = overtime_h * self.unpaid_overtime_share
        ot_by_grade = np.maximum(0.0, used - rostered) / MINUTES_PER_HOUR
        paid_ot_cost = (
            (ot_by_grade * self.roster.hourly_cost_gbp).sum()
            * (1.0 - self.unpaid_overtime_share)
            * sc.workforce.overtime_premium
            * self.roster.pay_index[day]
        )
        staff_cost = self.roster.staff_cost_gbp(day) * self.fte_scale + paid_ot_cost
        for metric, value in (
            ("contact_hours", f2f[done].sum() / MINUTES_PER_HOUR),
            ("travel_hours", travel[done].sum() / MINUTES_PER_HOUR),
            ("rostered_hours", self.roster.on_duty_hours[day].sum() * self.fte_scale),
            ("paid_hours", self.roster.paid_hours_per_day.sum() * self.fte_scale),
            ("overtime_hours", overtime_h),
            ("paid_overtime_hours", overtime_h - unpaid_h),
            ("unpaid_overtime_hours", unpaid_h),
            ("staff_cost_gbp", staff_cost),
        ):
            acc.add_day(metric, day, float(value))

        done_tiers = c["tier"][order[done]].astype(np.int64)
        acc.add_day_by_tier("contacts", day, done_tiers)
        acc.add_day_by_tier("contact_hours", day, done_tiers, f2f[done] / MINUTES_PER_HOUR)
        self.complete_assessments(order[is_assessment & done], float(day))
        self.complete_visits(order[~is_assessment & done], float(day))
        self._defer_visits(order[~is_assessment & ~done], day)

    def complete_assessments(self, slots: np.ndarray, t_days: float) -> None:
        """Assess ``slots`` at ``t_days``: they move from the waiting list to the caseload."""
        if len(slots) == 0:
            return
        c = self.people.cols
        acc = self.accounts
        acc.add_waits(t_days, t_days - c["referral_day"][slots])
        acc.add_at("assessments", t_days, float(len(slots)))
        self._close_stage(slots, t_days)
        acc.add_at("caseload_entries", t_days, float(len(slots)))
        acc.add_day_by_tier("episodes", int(t_days), c["tier"][slots].astype(np.int64))
        urgent = c["urgent"][slots]
        if urgent.any():
            waits = t_days - c["referral_day"][slots[urgent]]
            acc.add_at("urgent_assessments", t_days, float(len(waits)))
            acc.add_at("urgent_assessed_within_2_days", t_days, float(np.count_nonzero(waits <= URGENT_KPI_DAYS)))
        c["stage"][slots] = CASELOAD
        c["stage_start_day"][slots] = t_days
        self.people.set_multiplier(slots, t_days, self.m_care)
        nxt = int(t_days) + c["interval_days"][slots]
        c["next_due_day"][slots] = nxt
        c["due_since_day"][slots] = nxt
        self.discharge(slots[c["n_visits"][slots] == 0], t_days)

    def complete_visits(self, slots: np.ndarray, t_days: float) -> None:
        """Record a delivered follow-up visit for ``slots`` at ``t_days``; discharge finished plans."""
        if len(slots) == 0:
            return
        c = self.people.cols
        self.accounts.add_at("visits_delivered", t_days, float(len(slots)))
        c["visits_done"][slots] += 1
        nxt = int(t_days) + c["interval_days"][slots]
        c["next_due_day"][slots] = nxt
        c["due_since_day"][slots] = nxt
        self.discharge(slots[c["visits_done"][slots] >= c["n_visits"][slots]], t_days)

    def _defer_visits(self, slots: np.ndarray, day: int) -> None:
        if len(slots) == 0:
            return
        c = self.people.cols
        acc = self.accounts
        late = day - c["due_since_day"][slots] >= self.scenario.care.deferral_tolerance_days
        missed = slots[late]
        acc.add_day("visit_deferrals", day, float(len(slots) - len(missed)))
        if len(missed) == 0:
            return
        acc.add_day("visits_missed", day, float(len(missed)))
        c["visits_done"][missed] += 1
        nxt = np.maximum(day + 1, c["due_since_day"][missed] + c["interval_days"][missed])
        c["next_due_day"][missed] = nxt
        c["due_since_day"][missed] = nxt
        if self.missed_effect_days > 0:
            c["raised_until_day"][missed] = day + self.missed_effect_days
            self.people.set_multiplier(missed, float(day), self.m_missed)
        finished = missed[c["visits_done"][missed] >= c["n_visits"][missed]]
        self.discharge(finished, day)

    # ------------------------------------------------------------------ management levers

    def change_fte(self, share_of_initial: float) -> None:
        """Add (or, negative, remove) staff: a share of the initial establishment, every grade alike."""
        self.fte_scale = max(0.0, self.fte_scale + share_of_initial)

    def set_unpaid_overtime_share(self, share: float) -> None:
        """Share of overtime hours worked unpaid from now on."""
        self.unpaid_overtime_share = share

    def set_ration_level(self, level: int, day: int) -> None:
        """Apply rationing ``level`` from ``day``: intervals, visit length, hazard and acceptance."""
        if level == self.ration_level:
            return
        r = self.scenario.provider_policy.rationing
        self.ration_level = level
        self.interval_now = np.maximum(1, np.rint(self.interval * (1.0 + r.interval_stretch_per_level * level))).astype(
            np.int64
        )
        self.visit_time_factor = 1.0 - r.visit_shortening_per_level * level
        self.decline_share = min(1.0, r.lowest_tier_decline_share_per_level * level)
        self.m_care = 1.0 + r.hazard_increase_per_level * level
        c = self.people.cols
        live = np.flatnonzero(c["stage"] != FREE)
        c["interval_days"][live] = self.interval_now[c["tier"][live]]
        # People on the caseload at the usual hazard move to the new one; raised hazards (after a
        # missed visit) and the waiting list keep theirs until they next change.
        usual = (c["stage"][live] == CASELOAD) & (c["raised_until_day"][live] == 0) & (c["return_day"][live] <= day)
        normal = live[usual]
        self.people.set_multiplier(normal, float(day), self.m_care)

    # ------------------------------------------------------------------ month end

    def close_month(self, month: int, day: int) -> None:
        """Month-end snapshot of the lists (``day`` is the first day of the next month)."""
        c = self.people.cols
        caseload = int(np.count_nonzero(c["stage"] == CASELOAD))
        waiting = np.flatnonzero(c["stage"] == WAITING)
        self.accounts.snapshot(month, caseload, day - c["referral_day"][waiting])
        self.compact_visit_buffer()

    def compact_visit_buffer(self) -> None:
        """Keep only the visit durations that live people still need.

        Durations are drawn at referral for the whole episode (so draws stay common across runs);
        without compaction the buffer would grow with every referral over the horizon. Rebuilt
        monthly, it holds what the live caseload needs: memory follows the caseload, not the horizon.
        """
        c = self.people.cols
        live = np.flatnonzero(c["stage"] != FREE)
        done = c["visits_done"][live]
        left = np.maximum(c["n_visits"][live] - done, 0)
        total = int(left.sum())
        new_starts = np.cumsum(left) - left
        idx = np.repeat(c["visit_offset"][live] + done - new_starts, left) + np.arange(total)
        size = max(4096, 2 * total)
        f2f = np.empty(size)
        travel = np.empty(size)
        f2f[:total] = self._f2f[idx]
        travel[:total] = self._travel[idx]
        self._f2f, self._travel, self._buffer_used = f2f, travel, total
        c["visit_offset"][live] = new_starts - done

    def close_run(self, end_day: float) -> None:
        """Add the person-days of everyone still on a list at the end of the run."""
        live = np.flatnonzero(self.people.cols["stage"] != FREE)
        self._close_stage(live, end_day)

    def live_people(self) -> int:
        """People on the waiting list or caseload."""
        return self.people.live_count()


def _allocate(
    minutes: list[float], tiers: list[int], allowed: list[list[int]], capacity: list[float], done: list[bool]
) -> list[float]:
    """Give each not-yet-done item, in priority order, to the first allowed grade with time left.

    Marks ``done`` in place and returns the minutes left per grade. Items that do not fit are
    skipped (a later, shorter one may still fit: nurses fill gaps in the day).
    """
    remaining = list(capacity)
    left = sum(remaining)
    smallest = min(minutes) if minutes else 0.0
    for i, (m, t) in enumerate(zip(minutes, tiers, strict=True)):
        if left < smallest:
            break  # nobody can take anything more today
        if done[i]:
            continue
        for g in allowed[t]:
            if remaining[g] >= m:
                remaining[g] -= m
                left -= m
                done[i] = True
                break
    return remaining
