"""The built-in work sources' collection compiled with numba: one pass over the patient table each.

:class:`fundsim.sim.work.Assessments` and :class:`~fundsim.sim.work.FollowUpVisits` are the
reference. Their ``collect`` finds the day's items with a dozen whole-table numpy passes and
gathers; the twins here find and gather them in one compiled pass, in the same (slot) order, with
the same arithmetic:

* the follow-up visits' minutes are the planned minutes times the rationing factor, and the cut
  minutes the planned times one less the factor, as the reference computes them;
* the routine assessments within the reserve are found, as the reference does, from one running
  sum over the routine items in (locality, referral time) order, less that sum at the start of
  the item's locality (numpy's ``cumsum`` is a plain running sum, so the same floats);
* the day's count of visits falling due is added by locality as the reference's ``count_day``.

What happens to the items placed and not placed is the reference's (inherited). Imported only when
numba is installed (:mod:`fundsim.sim.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundsim.sim.allocation_compiled import _merge_by_keys
from fundsim.sim.patients import CASELOAD, WAITING
from fundsim.sim.work import Assessments, FollowUpVisits, Priority, WorkItems

_URGENT, _RESERVED = int(Priority.URGENT_ASSESSMENT), int(Priority.RESERVED_ASSESSMENT)
_ROUTINE, _FOLLOW_UP = int(Priority.ROUTINE_ASSESSMENT), int(Priority.FOLLOW_UP_VISIT)


@njit(cache=True, nogil=True)
def _collect_assessments(
    day: int,
    urgent_first: bool,
    reserve_share: float,
    rostered: np.ndarray,
    stage: np.ndarray,
    return_day: np.ndarray,
    referral_day: np.ndarray,
    locality: np.ndarray,
    urgent: np.ndarray,
    tier: np.ndarray,
    assessment_minutes: np.ndarray,
    assessment_travel_minutes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled; the reference is Assessments.collect
    n = 0
    for s in range(stage.shape[0]):
        n += stage[s] == WAITING and return_day[s] <= day and referral_day[s] < day
    # Two tables out, their rows the item arrays (numba boxes each returned array, a microsecond apiece).
    ints = np.empty((4, n), np.int64)
    floats = np.empty((3, n))
    slots, loc, priority, tiers = ints[0], ints[1], ints[2], ints[3]
    ref, minutes, travel = floats[0], floats[1], floats[2]
    i = 0
    n_routine = 0
    for s in range(stage.shape[0]):
        if stage[s] == WAITING and return_day[s] <= day and referral_day[s] < day:
            slots[i] = s
            loc[i] = locality[s]
            tiers[i] = tier[s]
            ref[i] = referral_day[s]
            minutes[i] = assessment_minutes[s]
            travel[i] = assessment_travel_minutes[s]
            is_urgent = urgent_first and urgent[s]
            priority[i] = _URGENT if is_urgent else _ROUTINE
            n_routine += not is_urgent
            i += 1
    if n_routine:
        n_loc = rostered.shape[0]
        # The routine items in (locality, referral time) order, stably: a counting sort, then a merge by time.
        start = np.zeros(n_loc + 1, np.int64)
        for i in range(n):
            if priority[i] == _ROUTINE:
                start[loc[i] + 1] += 1
        for j in range(n_loc):
            start[j + 1] += start[j]
        fill = start[:n_loc].copy()
        order = np.empty(n_routine, np.int64)
        for i in range(n):
            if priority[i] == _ROUTINE:
                order[fill[loc[i]]] = i
                fill[loc[i]] += 1
        zeros = np.zeros(n)
        for j in range(n_loc):
            _merge_by_keys(order, start[j], start[j + 1], ref, zeros)
        cum = 0.0
        for j in range(n_loc):
            reserve = 0.0
            for g in range(rostered.shape[1]):  # numpy's row sum of fewer than 8 grades: from zero, in order
                reserve += rostered[j, g]
            reserve = reserve_share * reserve
            before = cum  # the running sum at the locality's first item
            for q in range(start[j], start[j + 1]):
                i = order[q]
                cum += minutes[i] + travel[i]
                if cum - before <= reserve:
                    priority[i] = _RESERVED
    return ints, floats


@njit(cache=True, nogil=True)
def _collect_visits(
    day: int,
    month: int,
    factor: float,
    stage: np.ndarray,
    return_day: np.ndarray,
    next_due_day: np.ndarray,
    due_since_day: np.ndarray,
    locality: np.ndarray,
    tier: np.ndarray,
    visit_offset: np.ndarray,
    visits_done: np.ndarray,
    buffer_f2f: np.ndarray,
    buffer_travel: np.ndarray,
    sums_visits_due: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled; the reference is FollowUpVisits.collect
    n = 0
    for s in range(stage.shape[0]):
        n += stage[s] == CASELOAD and return_day[s] <= day and next_due_day[s] <= day
    ints = np.empty((4, n), np.int64)
    floats = np.empty((5, n))
    slots, loc, tiers, priority = ints[0], ints[1], ints[2], ints[3]
    key1, key2, f2f, travel, cut = floats[0], floats[1], floats[2], floats[3], floats[4]
    due_today = np.zeros(sums_visits_due.shape[0], np.int64)
    i = 0
    for s in range(stage.shape[0]):
        if stage[s] == CASELOAD and return_day[s] <= day and next_due_day[s] <= day:
            slots[i] = s
            loc[i] = locality[s]
            tiers[i] = tier[s]
            priority[i] = _FOLLOW_UP
            key1[i] = float(due_since_day[s])
            key2[i] = -float(tier[s])
            pos = visit_offset[s] + visits_done[s]
            planned = buffer_f2f[pos]
            f2f[i] = planned * factor
            travel[i] = buffer_travel[pos]
            cut[i] = planned * (1.0 - factor)
            if due_since_day[s] == day:
                due_today[locality[s]] += 1
            i += 1
    if month >= 0 and due_today.sum() > 0:
        for j in range(due_today.shape[0]):
            sums_visits_due[j, month] += due_today[j]
    return ints, floats


class CompiledAssessments(Assessments):
    """:class:`~fundsim.sim.work.Assessments` with ``collect`` in one compiled pass (same items, same order)."""

    def collect(self, day: int, rostered_minutes: np.ndarray) -> WorkItems:
        """Urgent assessments first come first served; routine ones within the reserve, then after the visits."""
        s = self.service
        c = s.people.cols
        care = s.scenario.care
        ints, floats = _collect_assessments(
            int(day), bool(care.urgent_assessment_first), float(care.assessment_capacity_share),
            np.ascontiguousarray(rostered_minutes, dtype=np.float64), c["stage"], c["return_day"],
            c["referral_day"], c["locality"], c["urgent"], c["tier"], c["assessment_minutes"],
            c["assessment_travel_minutes"],
        )  # fmt: skip
        zeros = np.zeros(ints.shape[1])
        return WorkItems(self.name, ints[0], ints[1], ints[3], ints[2], floats[0], zeros, floats[1], floats[2], zeros)


class CompiledFollowUpVisits(FollowUpVisits):
    """:class:`~fundsim.sim.work.FollowUpVisits` with ``collect`` in one compiled pass (same items, same order)."""

    def collect(self, day: int, rostered_minutes: np.ndarray) -> WorkItems:
        """Most overdue first, then the most complex; visits shortened by the rationing level in force."""
        s = self.service
        c = s.people.cols
        buffer = s.visit_buffer
        ints, floats = _collect_visits(
            int(day), int(s.accounts.calendar.month_of_day[day]), float(s.visit_time_factor),
            c["stage"], c["return_day"], c["next_due_day"], c["due_since_day"], c["locality"], c["tier"],
            c["visit_offset"], c["visits_done"], buffer.f2f_minutes, buffer.travel_minutes,
            s.accounts.sums["visits_due"],
        )  # fmt: skip
        return WorkItems(self.name, ints[0], ints[1], ints[2], ints[3], *floats)


__all__ = ["CompiledAssessments", "CompiledFollowUpVisits"]
