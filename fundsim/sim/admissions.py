"""Emergency admissions: resolving them overnight, and following people to the end of their window.

Each person carries deterioration budgets drawn at referral (:mod:`fundsim.sim.hazard`); an
admission happens when the hazard integrated along their path spends a budget. This module resolves
the admissions due each morning (a stay, after which care resumes, or the end of the episode),
ends the raised hazard of a missed visit once its effect wears off, discharges people at the end of
their care plan and follows them to the end of their follow-up window, and counts each person's
no-care admissions (:mod:`fundsim.sim.no_care`) over the same window as their actual path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts
from fundsim.sim.hazard import admissions_on_path
from fundsim.sim.no_care import no_care_admissions
from fundsim.sim.patients import CASELOAD, PatientTable
from fundsim.sim.referrals import ReferralBlock
from fundsim.sim.virtual_ward import VirtualWardService

if TYPE_CHECKING:
    from fundsim.sim.service_compiled import CaseloadSteps

#: The compiled walk of many post-discharge paths (fundsim.sim.hazard_compiled.post_discharge_admissions).
PathsWalk = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


class Lists(Protocol):
    """What admissions need of the service (:class:`fundsim.sim.service.ServiceModel` is one)."""

    scenario: Scenario
    accounts: Accounts
    people: PatientTable
    counts: dict[str, int]
    m_care: float
    m_wait: float
    ward: VirtualWardService | None

    def close_stage(self, slots: np.ndarray, t_end: np.ndarray | float, stage: int | None = None) -> None: ...  # noqa: D102


class Admissions:
    """The hospital side of the service's day: admissions, discharges and the follow-up window."""

    def __init__(self, service: Lists, steps: CaseloadSteps | None) -> None:
        self.service = service
        sc = service.scenario
        out = sc.outcomes
        self.m_untreated = out.untreated_hazard_multiplier
        self.m_post = out.post_discharge_hazard_multiplier
        self.follow_up_days = out.follow_up_days
        hosp = sc.hospital
        self.tariff = hosp.tariff_gbp
        self.trim = hosp.trim_point_days
        self.excess = hosp.excess_bed_day_gbp
        #: A virtual ward (fundsim.sim.virtual_ward) takes step-ups before admissions, and step-downs after.
        self.ward = service.ward
        # The hazard-path walks: pure Python, or numba's bit-identical twins (fundsim.sim.kernels).
        self._no_care = no_care_admissions
        self._post_discharge: PathsWalk | None = None  # None: the pure walk, person by person
        # The compiled discharge, admission and end of raised hazards (fundsim.sim.service_compiled): the
        # service's own steps (None on the pure path), over the same table and accounts, so one to set up and keep.
        self._steps = steps
        if getattr(service, "kernel", "pure") == "compiled":
            from fundsim.sim import hazard_compiled

            self._no_care = hazard_compiled.no_care_admissions
            self._post_discharge = hazard_compiled.post_discharge_admissions

    def declined(self, b: ReferralBlock, rows: np.ndarray, hazard: np.ndarray) -> None:
        """Referrals ``rows`` of block ``b`` were declined: they get no care.

        Their admissions are their no-care ones, over their planned window, counted both as what
        happened and as the counterfactual (a declined referral adds 0 avoided admissions).
        """
        if self._steps is not None:  # the same steps compiled, bar the ward's step-down offers
            a_loc, a_time, a_los = self._steps.declined(b, rows, hazard, self)
            if self.ward is not None:
                self.ward.hospital_stays(a_loc, a_time, a_los)
            return
        a_loc, a_time, a_los = self._no_care(
            b.loc[rows], b.time[rows], b.planned_end[rows], b.window_end[rows], hazard,
            b.budgets[rows], b.ends[rows], b.los[rows], self.m_untreated, self.m_post,
        )  # fmt: skip
        self.record(a_loc, a_time, a_los, "admissions_declined_referrals")
        self.service.accounts.add_times("counterfactual_admissions", a_loc, a_time)

    def _follow_up_end(self, slots: np.ndarray, end_of_care: np.ndarray | float) -> np.ndarray:
        """End of the window over which ``slots`` are followed, actual and no-care paths alike.

        The later of the planned window end (referral + planned care + follow-up) and the actual
        end of care (discharge or an admission that ends the episode) + follow-up. Both paths are
        counted over the same window, so a late discharge is not read as admissions caused.
        """
        return np.maximum(self.service.people.cols["window_end_day"][slots], end_of_care + self.follow_up_days)

    def close_counterfactual(self, slots: np.ndarray, end_of_care: np.ndarray | float) -> None:
        """Count the no-care admissions of ``slots``, whose care ended at ``end_of_care``, over their window."""
        if len(slots) == 0:
            return
        p = self.service.people
        c = p.cols
        a_loc, a_time, _ = self._no_care(
            c["locality"][slots], c["referral_day"][slots], c["planned_end_day"][slots],
            self._follow_up_end(slots, end_of_care), c["base_hazard"][slots],
            p.budgets[slots], p.ends[slots], p.los[slots], self.m_untreated, self.m_post,
        )  # fmt: skip
        self.service.accounts.add_times("counterfactual_admissions", a_loc, a_time)

    def record(self, loc: np.ndarray, t: np.ndarray, los: np.ndarray, metric: str) -> None:
        """Count admissions at times ``t`` with stays ``los``: in the totals, under ``metric``, bed-days and cost."""
        if len(t) == 0:
            return
        acc = self.service.accounts
        acc.add_times("admissions", loc, t)
        acc.add_times(metric, loc, t)
        acc.add_times("bed_days", loc, t, los)
        acc.add_times("hospital_cost_gbp", loc, t, self.tariff + np.maximum(0.0, los - self.trim) * self.excess)
        if self.ward is not None:
            self.ward.hospital_stays(loc, t, los)

    def admit(self, day: int) -> None:
        """Resolve the emergency admissions that happened before the start of ``day``.

        Someone home from a short stay may be admitted again before ``day``; those are resolved too.
        With a virtual ward, the night's events are taken first: some due admissions become step-ups.
        """
        while True:
            due = np.flatnonzero(self.service.people.cols["admission_day"] <= day)  # free slots hold +inf
            if self.ward is not None:
                due = self.ward.overnight(day, due)
            if not len(due):
                return
            self._admit(due, day)

    def _admit(self, due: np.ndarray, day: int) -> None:
        p = self.service.people
        if self._steps is not None:  # the same steps compiled, bar the ward's step-down offers and the release
            loc_a, t_a, los_a, ended_a = self._steps.admit(due, day, self, self.service.m_care, self.service.m_wait)
            if self.ward is not None:
                self.ward.hospital_stays(loc_a, t_a, los_a)
            self.service.counts["ended_by_admission"] += len(ended_a)
            p.release(ended_a)
            return
        c = p.cols
        t = c["admission_day"][due]
        k = c["k"][due].astype(np.int64)
        los = p.los[due, k]
        ends = p.ends[due, k]
        stage = c["stage"][due]
        loc = c["locality"][due]
        acc = self.service.accounts
        acc.add_times("admissions", loc, t)
        on_caseload = stage == CASELOAD
        acc.add_times("admissions_from_caseload", loc[on_caseload], t[on_caseload])
        acc.add_times("admissions_from_waiting_list", loc[~on_caseload], t[~on_caseload])
        acc.add_times("bed_days", loc, t, los)
        acc.add_times("hospital_cost_gbp", loc, t, self.tariff + np.maximum(0.0, los - self.trim) * self.excess)
        if self.ward is not None:
            self.ward.hospital_stays(loc, t, los)
        # A visit that was due when the person was admitted will not happen as planned.
        outstanding = on_caseload & (c["next_due_day"][due] <= day)
        acc.add_times("visits_cancelled", loc[outstanding], t[outstanding])

        ended = due[ends]
        self.service.counts["ended_by_admission"] += len(ended)
        if len(ended):
            self.service.close_stage(ended, t[ends])
            acc.add_times("episodes_ended_by_admission", loc[ends], t[ends])
            self.close_counterfactual(ended, t[ends])
            p.release(ended)
        stay = due[~ends]
        if len(stay):
            c["k"][stay] += 1
            home = t[~ends] + los[~ends]
            # Care resumes on the first whole day after the stay; the risk, as on every other path
            # (after discharge, without care), from the moment the person is home.
            back = np.maximum(np.ceil(home).astype(np.int64), day)
            c["return_day"][stay] = back
            stay_caseload = on_caseload[~ends]
            c["next_due_day"][stay] = np.where(stay_caseload, back, c["next_due_day"][stay])
            c["due_since_day"][stay] = np.where(stay_caseload, back, c["due_since_day"][stay])
            c["raised_until_day"][stay] = 0
            p.start_hazard(stay, home, np.where(stay_caseload, self.service.m_care, self.service.m_wait))

    def restore_hazards(self, day: int) -> None:
        """End the raised hazard of missed visits whose effect has worn off."""
        if self._steps is not None:
            self._steps.restore_hazards(day, self.service.m_care)
            return
        c = self.service.people.cols
        raised = c["raised_until_day"]
        back = np.flatnonzero((raised > 0) & (raised <= day) & (c["stage"] == CASELOAD))
        if len(back):
            c["raised_until_day"][back] = 0
            self.service.people.set_multiplier(back, float(day), self.service.m_care)

    def discharge(self, slots: np.ndarray, day: float) -> None:
        """Discharge ``slots`` (all on the caseload) at ``day``; follow them to the end of their window."""
        if len(slots) == 0:
            return
        p = self.service.people
        if self._steps is not None:  # the same steps compiled, bar the ward's step-down offers and the release
            d_loc, d_t, d_los = self._steps.discharge(slots, float(day), self)
            if self.ward is not None and len(d_t):
                self.ward.hospital_stays(d_loc, d_t, d_los)
            self.service.counts["discharged"] += len(slots)
            p.release(slots)
            return
        c = p.cols
        loc = c["locality"][slots]
        self.service.counts["discharged"] += len(slots)
        self.service.close_stage(slots, float(day), CASELOAD)
        self.service.accounts.add_times("discharges", loc, np.full(len(slots), float(day)))
        budget = p.budget_at(slots, float(day))
        h_post = c["base_hazard"][slots] * self.m_post
        window_end = self._follow_up_end(slots, float(day))
        k = c["k"][slots]
        # Only those whose remaining budget runs out within the window need a path walk.
        follow = np.flatnonzero((window_end > day) & (h_post > 0) & (budget < h_post * (window_end - day)))
        if len(follow) and self._post_discharge is not None:
            s_f = slots[follow]
            rows, a_t, a_l = self._post_discharge(
                float(day), budget[follow], k[follow], window_end[follow], h_post[follow],
                p.budgets[s_f], p.ends[s_f], p.los[s_f],
            )  # fmt: skip
            if len(a_t):
                self.record(loc[follow][rows].astype(np.int64), a_t, a_l, "admissions_after_discharge")
        elif len(follow):
            a_loc: list[int] = []
            a_time: list[float] = []
            a_los: list[float] = []
            for j in follow.tolist():
                s = slots[j]
                for a in admissions_on_path(
                    float(day), float(budget[j]), int(k[j]), ((float(window_end[j]), float(h_post[j])),),
                    p.budgets[s], p.ends[s], p.los[s],
                ):  # fmt: skip
                    a_loc.append(int(loc[j]))
                    a_time.append(a.time_days)
                    a_los.append(a.length_of_stay_days)
            if a_time:
                self.record(
                    np.array(a_loc, dtype=np.int64), np.array(a_time), np.array(a_los), "admissions_after_discharge"
                )
        self.close_counterfactual(slots, float(day))
        p.release(slots)


__all__ = ["Admissions", "Lists"]
