"""The community nursing service: every locality's team, waiting list and caseload, and its day.

The service works a day at a time, as district nurses do (:func:`fundsim.sim.engine.run_day`): at
the start of each day the emergency admissions that happened overnight are resolved
(:mod:`fundsim.sim.admissions`); then each locality's team is given the day's work, collected from
named sources (:mod:`fundsim.sim.work`: assessments, due follow-up visits) and allocated to its
staff on duty, lowest allowed grade first (:mod:`fundsim.sim.allocation`); what does not fit is
deferred, and a visit deferred beyond the tolerance is missed. Then the day's referrals
(:mod:`fundsim.sim.referrals`) join the waiting lists. This module holds the state they share and
the steps that move people between the lists: arrival, assessment, visits, the month end, and
the levers the provider's management pulls (:mod:`fundsim.sim.management`).

Everyone in every locality is a row of one :class:`~fundsim.sim.patients.PatientTable` with a
``locality`` column, so each step of the day is one vectorised pass over the whole service rather
than one per locality (the per-call overhead of numpy, not arithmetic, was the cost).

Random numbers stay keyed by locality (common random numbers): each locality's referrals, care
plans, visit durations and deterioration budgets are drawn from that locality's streams, in blocks
of days, whatever the contract, staffing or provider behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import URGENT_KPI_DAYS, accounts_class
from fundsim.sim.admissions import Admissions
from fundsim.sim.allocation import Allocation, day_allocator_for
from fundsim.sim.calendar import Calendar
from fundsim.sim.initial_state import seed_initial_state
from fundsim.sim.kernels import kernel_choice
from fundsim.sim.patients import CASELOAD, FREE, WAITING, PatientTable
from fundsim.sim.referrals import ReferralBlock, Referrals
from fundsim.sim.roster import build_roster
from fundsim.sim.streams import RandomStreams
from fundsim.sim.urgent_response import UrgentResponseService
from fundsim.sim.virtual_ward import VirtualWardService
from fundsim.sim.visit_buffer import VisitBuffer
from fundsim.sim.work import Assessments, FollowUpVisits, WorkSource

if TYPE_CHECKING:
    from fundsim.sim.service_compiled import CaseloadSteps

MINUTES_PER_HOUR = 60.0


class ServiceModel:
    """State and daily behaviour of the whole service (all localities)."""

    def __init__(self, scenario: Scenario, calendar: Calendar, streams: RandomStreams) -> None:
        self.scenario = scenario
        self.calendar = calendar
        self.n_localities = n_loc = len(scenario.localities)
        self.referrals = Referrals(scenario, calendar, streams)
        self.sources = self.referrals.sources
        tier_names = tuple(t.name for t in scenario.tiers)
        # The implementation of the compiled-ready steps: pure, or numba's bit-identical twins (fundsim.sim.kernels).
        self.kernel = kernel_choice()
        self.accounts = accounts_class(self.kernel)(calendar, n_loc, self.sources, tier_names)
        self.people = PatientTable()
        rosters = [build_roster(scenario, calendar, i, streams.stream("roster", i)) for i in range(n_loc)]
        self.rosters = rosters
        # Day × locality × grade capacity, so a day's capacity is one slice.
        self.visit_minutes = np.stack([r.visit_minutes for r in rosters], axis=1)
        self.overtime_minutes_cap = np.stack([r.overtime_minutes_cap for r in rosters], axis=1)
        self.on_duty_hours_by_loc = np.stack([r.on_duty_hours.sum(axis=1) for r in rosters], axis=1)
        self.paid_hours_by_loc = np.array([r.paid_hours_per_day.sum() for r in rosters])
        self.hourly_cost_gbp = rosters[0].hourly_cost_gbp
        self.pay_index = rosters[0].pay_index
        self.base_staff_cost_gbp = np.array([(r.paid_hours_per_day * r.hourly_cost_gbp).sum() for r in rosters])

        grades = scenario.workforce.grades
        self.n_grades = n_grades = len(grades)
        grade_index = {g.name: i for i, g in enumerate(grades)}
        tiers = scenario.tiers
        # Cheapest allowed grade first: skill mix is preserved for the visits that need it.
        allowed = [
            sorted((grade_index[name] for name in t.allowed_grades), key=lambda g: grades[g].hourly_cost_gbp)
            for t in tiers
        ]
        self.allowed = allowed
        # Per (locality, tier): the flat (locality × grade) capacity cells an item may use, in order.
        self._cells = [[[i * n_grades + g for g in a] for a in allowed] for i in range(n_loc)]
        self._allocate_day = day_allocator_for(self.kernel)
        # The compiled per-person steps (fundsim.sim.service_compiled): arrival, assessment, visit, staff time.
        self._steps: CaseloadSteps | None = None
        if self.kernel == "compiled":
            from fundsim.sim.service_compiled import CaseloadSteps

            self._steps = CaseloadSteps(self.people, self.accounts)
        self.base_hazard = np.array([t.daily_admission_hazard for t in tiers])
        self.interval = np.array([max(1, round(t.interval_days)) for t in tiers], dtype=np.int64)
        self._block: ReferralBlock | None = None

        # Flat buffers of the visit durations (face-to-face, travel) of people on the lists.
        self.visit_buffer = VisitBuffer()

        out = scenario.outcomes
        self.m_wait = out.waiting_hazard_multiplier
        self.m_missed = out.missed_visit_hazard_multiplier
        self.missed_effect_days = round(out.missed_visit_effect_days)

        # What provider management can change (fundsim.sim.management); the scenario sets the start.
        self.fte_scale = 1.0  # staff relative to the initial establishment
        self.unpaid_overtime_share = scenario.workforce.unpaid_overtime_share
        self.min_accepted_tier = scenario.care.min_accepted_tier
        self.ration_level = 0
        self.decline_share = 0.0  # share of the lowest accepted tier declined (rises with rationing)
        self.m_care = 1.0  # hazard multiplier on the caseload (rises with rationing)
        self.visit_time_factor = 1.0  # face-to-face time of follow-up visits (falls with rationing)
        self.interval_now = self.interval.copy()  # days between visits per tier (grows with rationing)
        # The levers in force at each month's close (fundsim.sim.decisions): the provider's decisions, seen.
        self.month_end_levers: list[tuple[int, float, float, int]] = []

        # Whole-run counts of where referrals went (warm-up included), for the invariant checks.
        self.counts = {"referred": 0, "declined": 0, "discharged": 0, "ended_by_admission": 0}
        self.check = False  # set by simulate(check=True): verify every allocation (fundsim.sim.checks)
        self.checks_run = 0
        # Where the day's work comes from, in the order their items are listed (ties keep it).
        self.work_sources: list[WorkSource] = [Assessments(self), FollowUpVisits(self)]
        if self.kernel == "compiled" and n_grades < 8:  # their compiled twins (the reserve's row sum: see staff time)
            from fundsim.sim.work_compiled import CompiledAssessments, CompiledFollowUpVisits

            self.work_sources = [CompiledAssessments(self), CompiledFollowUpVisits(self)]
        # A virtual ward beside the core (fundsim.sim.virtual_ward): step-ups instead of admissions, step-downs.
        self.ward = VirtualWardService.build(self, streams, grade_index)
        self.admissions = Admissions(self, self._steps)  # the steps built above (compiled kernel), shared
        self.last_allocation: Allocation | None = None
        ucr = scenario.addons.urgent_response if scenario.addons is not None else None
        # A 2-hour urgent response beside the core (fundsim.sim.urgent_response): its calls run once, here.
        self.urgent = (
            None
            if ucr is None
            else UrgentResponseService(
                ucr,
                [loc.population for loc in scenario.localities],
                calendar.n_days,
                streams,
                self.accounts,
                [grade_index[g] for g in (ucr.responder_grades or tiers[-1].allowed_grades)],
                scenario.hospital,
                self.pay_index,
                self.kernel,
            )
        )
        if scenario.initial_state is not None:
            # Today's caseload and waiting list at time 0, from a stream of their own (no cold start).
            seed_initial_state(self, scenario.initial_state, streams)

    def _record_referrals(self, b: ReferralBlock) -> None:
        """Count a block's referrals in the months they arrive in (by urgency, source and tier)."""
        acc = self.accounts
        acc.add_times("referrals", b.loc, b.time)
        acc.add_times("referrals_urgent", b.loc[b.urgent], b.time[b.urgent])
        for s, name in enumerate(self.sources):
            sel = b.source == s
            acc.add_times(f"referrals_from_{name}", b.loc[sel], b.time[sel])
        acc.add_times_by_tier("referrals", b.loc, b.time, b.tier)

    def arrive(self, day: int) -> np.ndarray:
        """The referrals of ``day`` (times in ``[day, day + 1)``) join the lists; return their slots."""
        b = self._block
        if b is None or day >= b.end_day:
            b = self._block = self.referrals.draw(day)
            self._record_referrals(b)
        rows = b.day_rows(day)
        if len(rows) == 0:
            return np.empty(0, dtype=np.int64)
        self.counts["referred"] += len(rows)
        tier = b.tier[rows]
        accepted = tier >= self.min_accepted_tier
        if self.decline_share > 0:
            accepted &= b.within_band[rows] >= self.decline_share
        keep = rows[accepted]
        if len(keep) < len(rows):
            declined = rows[~accepted]
            self.counts["declined"] += len(declined)
            self.accounts.count_day("referrals_declined", day, b.loc[declined])
            self.admissions.declined(b, declined, self.base_hazard[tier[~accepted]])
        if len(keep) == 0:
            return np.empty(0, dtype=np.int64)
        if self._steps is not None:  # the rest compiled: the same columns, visits and hazards
            slots = self.people.allocate(len(keep))
            self._steps.join(b, keep, slots, self.visit_buffer, self.interval_now, self.base_hazard, self.m_wait)
            return slots
        # Copy the accepted people's visit durations into the live buffer.
        nv = b.n_visits[keep]
        total = int(nv.sum())
        new_start = np.cumsum(nv) - nv
        idx = np.repeat(b.visit_start[keep] - new_start, nv) + np.arange(total)
        offset0 = self.visit_buffer.store(b.f2f[idx], b.travel[idx])

        p = self.people
        slots = p.allocate(len(keep))
        c = p.cols
        t = b.time[keep]
        tk = tier[accepted]
        c["stage"][slots] = WAITING
        c["locality"][slots] = b.loc[keep]
        c["tier"][slots] = tk
        c["urgent"][slots] = b.urgent[keep]
        c["referral_day"][slots] = t
        c["stage_start_day"][slots] = t
        c["n_visits"][slots] = nv
        c["visits_done"][slots] = 0
        c["interval_days"][slots] = self.interval_now[tk]
        c["visit_offset"][slots] = offset0 + new_start
        c["assessment_minutes"][slots] = b.assessment_minutes[keep]
        c["assessment_travel_minutes"][slots] = b.assessment_travel_minutes[keep]
        c["base_hazard"][slots] = self.base_hazard[tk]
        c["k"][slots] = 0
        c["raised_until_day"][slots] = 0
        c["return_day"][slots] = 0
        c["planned_end_day"][slots] = b.planned_end[keep]
        c["window_end_day"][slots] = b.window_end[keep]
        p.budgets[slots] = b.budgets[keep]
        p.ends[slots] = b.ends[keep]
        p.los[slots] = b.los[keep]
        p.start_hazard(slots, t, self.m_wait)
        return slots

    # ------------------------------------------------------------------ outcomes (fundsim.sim.admissions)

    def admit(self, day: int) -> None:
        """Resolve the emergency admissions that happened before the start of ``day``."""
        self.admissions.admit(day)

    def restore_hazards(self, day: int) -> None:
        """End the raised hazard of missed visits whose effect has worn off."""
        self.admissions.restore_hazards(day)

    def discharge(self, slots: np.ndarray, day: float) -> None:
        """Discharge ``slots`` (all on the caseload) at ``day``; follow them to the end of their window."""
        self.admissions.discharge(slots, day)

    def close_stage(self, slots: np.ndarray, t_end: np.ndarray | float, stage: int | None = None) -> None:
        """Add the person-days of the current stage of ``slots`` ending at ``t_end``.

        ``stage`` says every slot is in that stage (a shortcut for callers that know).
        """
        c = self.people.cols
        t_end = np.asarray(t_end, dtype=float)
        if stage is not None:
            metric = "waiting_list_days" if stage == WAITING else "caseload_days"
            end = t_end if t_end.ndim else np.full(len(slots), float(t_end))
            self.accounts.add_area(metric, c["locality"][slots], c["stage_start_day"][slots], end)
            return
        stages = c["stage"][slots]
        for code, metric in ((WAITING, "waiting_list_days"), (CASELOAD, "caseload_days")):
            sel = stages == code
            if sel.any():
                s = slots[sel]
                end = t_end[sel] if t_end.ndim else np.full(len(s), float(t_end))
                self.accounts.add_area(metric, c["locality"][s], c["stage_start_day"][s], end)

    # ------------------------------------------------------------------ the working day

    def plan_day(self, day: int) -> None:
        """The day's work: collect every source's items, allocate them to staff on duty, settle the outcome.

        Records the allocation in :attr:`last_allocation` (the engine's invariant checks read it).
        """
        rostered = self.visit_minutes[day] * self.fte_scale  # (n_loc, n_grades)
        if self.urgent is not None:  # a shared urgent response pulls its responders off the core's day
            rostered = self.urgent.take_core_minutes(day, rostered)
        if self.ward is not None:  # then a shared virtual ward's visits and monitoring, from what is left
            rostered = self.ward.take_core_minutes(day, rostered)
        overtime_cap = self.overtime_minutes_cap[day] * self.fte_scale
        items = [source.collect(day, rostered) for source in self.work_sources]
        alloc = self._allocate_day(items, rostered, overtime_cap, self._cells)
        self.last_allocation = alloc
        self._record_staff_time(day, alloc)
        for i, source in enumerate(self.work_sources):
            source.placed(alloc.of_source(i, True), day)
            source.not_placed(alloc.of_source(i, False), day)

    def _record_staff_time(self, day: int, alloc: Allocation) -> None:
        """Hours on duty, paid and unpaid overtime, staff cost and the contacts made, in the day's month."""
        # Compiled: the same additions in one call. Its row sums are numpy's for rows of fewer than 8
        # grades (a plain sum from zero); numpy sums longer rows pairwise, so those stay here.
        if self._steps is not None and self.n_grades < 8:
            self._steps.staff_time(
                day, alloc, self.hourly_cost_gbp, self.unpaid_overtime_share, self.scenario.workforce.overtime_premium,
                float(self.pay_index[day]), self.fte_scale, self.on_duty_hours_by_loc[day], self.paid_hours_by_loc,
                self.base_staff_cost_gbp,
            )  # fmt: skip
            return
        acc = self.accounts
        ot_h = np.maximum(0.0, alloc.used_minutes - alloc.rostered_minutes) / MINUTES_PER_HOUR  # (n_loc, n_grades)
        overtime_h = ot_h.sum(axis=1)
        unpaid_h = overtime_h * self.unpaid_overtime_share
        pay = self.pay_index[day]
        paid_ot_cost = (
            (ot_h * self.hourly_cost_gbp).sum(axis=1)
            * (1.0 - self.unpaid_overtime_share)
            * self.scenario.workforce.overtime_premium
            * pay
        )
        for metric, value in (
            ("rostered_hours", self.on_duty_hours_by_loc[day] * self.fte_scale),
            ("paid_hours", self.paid_hours_by_loc * self.fte_scale),
            ("overtime_hours", overtime_h),
            ("paid_overtime_hours", overtime_h - unpaid_h),
            ("unpaid_overtime_hours", unpaid_h),
            ("staff_cost_gbp", self.base_staff_cost_gbp * pay * self.fte_scale + paid_ot_cost),
        ):
            acc.add_day(metric, day, value)
        done = alloc.done
        d_loc = alloc.loc[done]
        acc.count_day("contact_hours", day, d_loc, alloc.f2f_minutes[done] / MINUTES_PER_HOUR)
        if alloc.cut_minutes.any():
            # Face-to-face minutes rationing took off the items delivered today.
            acc.count_day("visit_minutes_cut", day, d_loc, alloc.cut_minutes[done])
        acc.count_day("travel_hours", day, d_loc, alloc.travel_minutes[done] / MINUTES_PER_HOUR)
        acc.add_day_by_tier("contacts", day, d_loc, alloc.tier[done])
        acc.add_day_by_tier("contact_hours", day, d_loc, alloc.tier[done], alloc.f2f_minutes[done] / MINUTES_PER_HOUR)

    def visit_f2f_minutes(self, pos: np.ndarray) -> np.ndarray:
        """Planned face-to-face minutes of the visits at buffer positions ``pos``."""
        return self.visit_buffer.f2f_minutes[pos]

    def visit_travel_minutes(self, pos: np.ndarray) -> np.ndarray:
        """Travel minutes of the visits at buffer positions ``pos``."""
        return self.visit_buffer.travel_minutes[pos]

    def complete_assessments(self, slots: np.ndarray, t_days: float) -> None:
        """Assess ``slots`` at ``t_days``: they move from the waiting list to the caseload."""
        if len(slots) == 0:
            return
        c = self.people.cols
        acc = self.accounts
        loc = c["locality"][slots]
        waits = t_days - c["referral_day"][slots]
        acc.add_waits(t_days, loc, waits)
        if self._steps is not None:
            self.discharge(self._steps.complete_assessments(slots, t_days, self.m_care), t_days)
            return
        at = np.full(len(slots), t_days)
        acc.add_times("assessments", loc, at)
        self.close_stage(slots, t_days, WAITING)
        acc.add_times("caseload_entries", loc, at)
        tiers = c["tier"][slots].astype(np.int64)
        acc.add_times_by_tier("episodes", loc, at, tiers)
        urgent = c["urgent"][slots]
        if urgent.any():
            u_loc = loc[urgent]
            acc.add_times("urgent_assessments", u_loc, at[urgent])
            quick = waits[urgent] <= URGENT_KPI_DAYS
            acc.add_times("urgent_assessed_within_2_days", u_loc[quick], at[urgent][quick])
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
        if self._steps is not None:
            self.discharge(self._steps.complete_visits(slots, t_days), t_days)
            return
        c = self.people.cols
        self.accounts.add_times("visits_delivered", c["locality"][slots], np.full(len(slots), t_days))
        c["visits_done"][slots] += 1
        nxt = int(t_days) + c["interval_days"][slots]
        c["next_due_day"][slots] = nxt
        c["due_since_day"][slots] = nxt
        self.discharge(slots[c["visits_done"][slots] >= c["n_visits"][slots]], t_days)

    def defer_visits(self, slots: np.ndarray, day: int) -> None:
        """``slots``' due visits did not fit in ``day``: deferred, or missed once late beyond the tolerance."""
        if len(slots) == 0:
            return
        if self._steps is not None:  # compiled: the same counts, plan and hazard changes
            tolerance = self.scenario.care.deferral_tolerance_days
            finished = self._steps.defer_visits(slots, day, tolerance, self.missed_effect_days, self.m_missed)
            self.discharge(finished, day)
            return
        c = self.people.cols
        acc = self.accounts
        late = day - c["due_since_day"][slots] >= self.scenario.care.deferral_tolerance_days
        loc = c["locality"][slots]
        acc.count_day("visit_deferrals", day, loc[~late])
        missed = slots[late]
        if len(missed) == 0:
            return
        acc.count_day("visits_missed", day, loc[late])
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
        self.people.set_multiplier(live[usual], float(day), self.m_care)

    # ------------------------------------------------------------------ month end

    def end_month(self, day: int) -> None:
        """Close the month that ends at time ``day`` (the first day of the next month).

        The snapshot shows the lists as they stand at that moment: the admissions of the month's
        last day are resolved first (whoever an admission took off the list has left it), and the
        caller takes it after the last day's events and before the next day's referrals. Nothing
        in the service happens between now and next morning's ``admit``, so resolving them now
        moves no admission; the provider's review at the month start now sees the month whole.
        """
        self.admit(day)
        self.close_month(int(self.calendar.month_of_day[day - 1]), day)

    def close_month(self, month: int, day: int) -> None:
        """Month-end snapshot of the lists (``day`` is the first day of the next month)."""
        c = self.people.cols
        stage = c["stage"]
        caseload = np.flatnonzero(stage == CASELOAD)
        waiting = np.flatnonzero(stage == WAITING)
        self.accounts.snapshot(month, c["locality"][caseload], c["locality"][waiting], day - c["referral_day"][waiting])
        self.month_end_levers.append((month, self.fte_scale, self.unpaid_overtime_share, self.ration_level))
        for addon in (self.urgent, self.ward):  # their daily sums, kept in Python floats, join the month
            if addon is not None:
                addon.daily.flush()
        self.compact_visit_buffer()

    def compact_visit_buffer(self) -> None:
        """Keep only the visit durations that live people still need.

        Durations are drawn at referral for the whole episode (so draws stay common across runs);
        without compaction the buffer would grow with every referral over the horizon. Rebuilt
        monthly, it holds what the live caseload needs: memory follows the caseload, not the horizon.
        """
        self.visit_buffer.compact(self.people)

    def close_run(self, end_day: float) -> None:
        """Add the person-days, and the no-care admissions up to ``end_day``, of everyone still on a list."""
        live = np.flatnonzero(self.people.cols["stage"] != FREE)
        self.close_stage(live, end_day)
        if self.ward is not None:
            self.ward.close(end_day)
        # Their actual path is counted to the end of the run, so their no-care path is too (at least:
        # admissions after the horizon fall outside every month).
        self.admissions.close_counterfactual(live, end_day)

    def state_nbytes(self) -> int:
        """Bytes held by per-person state: the patient table and the visit-duration buffers."""
        block = 0
        if self._block is not None:
            block = sum(v.nbytes for v in vars(self._block).values() if isinstance(v, np.ndarray))
        return self.people.nbytes() + self.visit_buffer.nbytes() + block

    def live_people(self) -> int:
        """People on the waiting lists or caseloads."""
        return self.people.live_count()
