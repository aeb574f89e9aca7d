"""The service's per-person steps compiled with numba, one call each, bit-identical to the reference.

Each step below is a dozen or more numpy calls on the day's handful of people, and the accounts'
additions behind them, so numpy's per-call cost, not arithmetic, is what it costs. The references:

* a referral joining the waiting list: :meth:`fundsim.sim.service.ServiceModel.arrive` (its
  columns, its visit durations into the live buffer, its first hazard);
* an assessment done and a visit done: :meth:`~fundsim.sim.service.ServiceModel.complete_assessments`
  and :meth:`~fundsim.sim.service.ServiceModel.complete_visits`;
* a discharge with its follow-up and no-care walks: :meth:`fundsim.sim.admissions.Admissions.discharge`;
* the night's admissions, the end of an episode or the return home:
  :meth:`fundsim.sim.admissions.Admissions._admit`;
* the day's staff time, overtime, cost and contacts: ``ServiceModel._record_staff_time``;
* a day's deferrals and missed visits: :meth:`~fundsim.sim.service.ServiceModel.defer_visits`, and the
  end of raised hazards: :meth:`fundsim.sim.admissions.Admissions.restore_hazards`.

:class:`CaseloadSteps` does each in one compiled call with the same floating-point operations in the
same order:

* the accounts' additions are the compiled accounts' own kernels
  (:mod:`fundsim.sim.accounts_compiled`), called with the same items in the same order as the
  reference calls :meth:`~fundsim.sim.accounts.Accounts.add_times` and
  :meth:`~fundsim.sim.accounts.Accounts.add_area`; each metric gets the same additions in the
  same sequence, so the same totals, bit for bit; the day's by-locality additions
  (``count_day``, ``add_day``) are summed from zero in item order, as ``np.bincount`` sums them;
* a hazard's new multiplier is :meth:`fundsim.sim.patients.PatientTable.set_multiplier` person
  by person: the unspent budget, then the new admission time, in the reference's order of operations;
* what is left in Python is what touches Python objects: the wait samples (lists of arrays), the
  table's free list (a released slot), and the virtual ward's step-down offers, which receive the
  admissions the compiled step returns, at the same point of the day as in the reference.

Imported only when numba is installed (:mod:`fundsim.sim.kernels`); ``tests/test_kernels.py``
compares whole runs of every shipped scenario and of small variants on both paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from fundsim.sim.accounts import URGENT_KPI_DAYS, Accounts
from fundsim.sim.accounts_compiled import _ARRAY, _ONES, _add_area, _add_times
from fundsim.sim.hazard_compiled import _no_care, _walk_rows
from fundsim.sim.patients import CASELOAD, WAITING, PatientTable

if TYPE_CHECKING:
    from fundsim.sim.admissions import Admissions
    from fundsim.sim.allocation import Allocation
    from fundsim.sim.referrals import ReferralBlock
    from fundsim.sim.visit_buffer import VisitBuffer

_NO_WEIGHTS = np.zeros(0)
MINUTES_PER_HOUR = 60.0
#: The day's staff-time metrics, in the order the reference adds them.
STAFF_METRICS = (
    "rostered_hours", "paid_hours", "overtime_hours", "paid_overtime_hours", "unpaid_overtime_hours", "staff_cost_gbp",
)  # fmt: skip


@njit(cache=True, nogil=True)
def _select(slots: np.ndarray, mask: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled; slots[mask]
    """The slots where ``mask`` is true, in their order: the ``slots[mask]`` of the references, as int64."""
    n = 0
    for i in range(mask.shape[0]):
        n += mask[i]
    out = np.empty(n, np.int64)
    k = 0
    for i in range(mask.shape[0]):
        if mask[i]:
            out[k] = slots[i]
            k += 1
    return out


@njit(cache=True, nogil=True)
def _schedule_one(
    s: int,
    t_days: float,
    budget: float,
    multiplier: float,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
) -> None:  # pragma: no cover - compiled; the reference is PatientTable._schedule
    """Person ``s`` has ``budget`` left at ``t_days`` under ``multiplier``: their admission is when it runs out."""
    budget_left[s] = budget
    since[s] = t_days
    mult[s] = multiplier
    rate = base_hazard[s] * multiplier
    admission_day[s] = t_days + (budget / rate if rate > 0 else np.inf)


@njit(cache=True, nogil=True)
def _no_care_of(
    rows: np.ndarray,
    start_day: np.ndarray,
    planned_end_day: np.ndarray,
    window_end: np.ndarray,
    hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    m_untreated: float,
    m_post: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """:func:`fundsim.sim.hazard_compiled._no_care` of ``rows`` of the per-person columns, to ``window_end``.

    ``window_end`` and ``hazard`` are given per row; the rest is gathered from the columns.
    """
    n = rows.shape[0]
    nb = budgets.shape[1]
    start = np.empty(n)
    planned = np.empty(n)
    rows_budgets = np.empty((n, nb))
    rows_ends = np.empty((n, nb), np.bool_)
    rows_los = np.empty((n, nb))
    for i in range(n):
        r = rows[i]
        start[i] = start_day[r]
        planned[i] = planned_end_day[r]
        for b in range(nb):
            rows_budgets[i, b] = budgets[r, b]
            rows_ends[i, b] = ends[r, b]
            rows_los[i, b] = los[r, b]
    return _no_care(start, planned, window_end, hazard, rows_budgets, rows_ends, rows_los, m_untreated, m_post)


@njit(cache=True, nogil=True)
def _close_counterfactual(
    slots: np.ndarray,
    loc: np.ndarray,
    window_end: np.ndarray,
    bounds: np.ndarray,
    m_untreated: float,
    m_post: float,
    referral_day: np.ndarray,
    planned_end_day: np.ndarray,
    base_hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    sums_counterfactual: np.ndarray,
) -> None:  # pragma: no cover - compiled; the reference is Admissions.close_counterfactual
    """The no-care admissions of ``slots`` (localities ``loc``) to the ends of their windows, counted."""
    hazard = np.empty(slots.shape[0])
    for i in range(slots.shape[0]):
        hazard[i] = base_hazard[slots[i]]
    rows, t, _ = _no_care_of(
        slots, referral_day, planned_end_day, window_end, hazard, budgets, ends, los, m_untreated, m_post
    )
    if t.shape[0]:
        a_loc = np.empty(rows.shape[0], np.int64)
        for j in range(rows.shape[0]):
            a_loc[j] = loc[rows[j]]
        _add_times(sums_counterfactual, bounds, a_loc, t, _ONES, 0.0, _NO_WEIGHTS)


@njit(cache=True, nogil=True)
def _set_multiplier(
    slots: np.ndarray,
    t_days: float,
    multiplier: float,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
) -> None:  # pragma: no cover - compiled; the reference is PatientTable.set_multiplier
    for s in slots:
        budget = budget_left[s] - base_hazard[s] * mult[s] * (t_days - since[s])
        if budget < 0:
            continue  # spent already: the admission stands at its own time
        _schedule_one(s, t_days, budget, multiplier, base_hazard, mult, since, budget_left, admission_day)


@njit(cache=True, nogil=True)
def _complete_assessments(
    slots: np.ndarray,
    t_days: float,
    bounds: np.ndarray,
    urgent_kpi_days: float,
    m_care: float,
    locality: np.ndarray,
    referral_day: np.ndarray,
    tier: np.ndarray,
    urgent: np.ndarray,
    stage: np.ndarray,
    stage_start_day: np.ndarray,
    interval_days: np.ndarray,
    next_due_day: np.ndarray,
    due_since_day: np.ndarray,
    n_visits: np.ndarray,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
    sums_assessments: np.ndarray,
    sums_waiting_list_days: np.ndarray,
    sums_caseload_entries: np.ndarray,
    sums_episodes_by_tier: tuple[np.ndarray, ...],
    sums_urgent_assessments: np.ndarray,
    sums_urgent_quick: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; the reference is ServiceModel.complete_assessments
    n = slots.shape[0]
    loc = np.empty(n, np.int64)
    start = np.empty(n)
    for i in range(n):
        loc[i] = locality[slots[i]]
        start[i] = stage_start_day[slots[i]]
    at = np.full(n, t_days)
    _add_times(sums_assessments, bounds, loc, at, _ONES, 0.0, _NO_WEIGHTS)
    _add_area(sums_waiting_list_days, bounds, loc, start, at)  # close the waiting stage
    _add_times(sums_caseload_entries, bounds, loc, at, _ONES, 0.0, _NO_WEIGHTS)
    for t in range(len(sums_episodes_by_tier)):
        k = 0
        for i in range(n):
            k += tier[slots[i]] == t
        if k == 0:
            continue
        sel = np.empty(k, np.int64)
        k = 0
        for i in range(n):
            if tier[slots[i]] == t:
                sel[k] = loc[i]
                k += 1
        _add_times(sums_episodes_by_tier[t], bounds, sel, at[:k], _ONES, 0.0, _NO_WEIGHTS)
    n_urgent = 0
    for i in range(n):
        n_urgent += urgent[slots[i]]
    if n_urgent:
        u_loc = np.empty(n_urgent, np.int64)
        q_loc = np.empty(n_urgent, np.int64)
        n_quick = 0
        k = 0
        for i in range(n):
            s = slots[i]
            if urgent[s]:
                u_loc[k] = loc[i]
                k += 1
                if t_days - referral_day[s] <= urgent_kpi_days:
                    q_loc[n_quick] = loc[i]
                    n_quick += 1
        _add_times(sums_urgent_assessments, bounds, u_loc, at[:n_urgent], _ONES, 0.0, _NO_WEIGHTS)
        if n_quick:
            _add_times(sums_urgent_quick, bounds, q_loc[:n_quick], at[:n_quick], _ONES, 0.0, _NO_WEIGHTS)
    for i in range(n):
        s = slots[i]
        stage[s] = CASELOAD
        stage_start_day[s] = t_days
    _set_multiplier(slots, t_days, m_care, base_hazard, mult, since, budget_left, admission_day)
    day = int(t_days)
    no_visits = np.empty(n, np.bool_)
    for i in range(n):
        s = slots[i]
        nxt = day + interval_days[s]
        next_due_day[s] = nxt
        due_since_day[s] = nxt
        no_visits[i] = n_visits[s] == 0
    return _select(slots, no_visits)


@njit(cache=True, nogil=True)
def _complete_visits(
    slots: np.ndarray,
    t_days: float,
    bounds: np.ndarray,
    locality: np.ndarray,
    visits_done: np.ndarray,
    n_visits: np.ndarray,
    interval_days: np.ndarray,
    next_due_day: np.ndarray,
    due_since_day: np.ndarray,
    sums_visits_delivered: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; the reference is ServiceModel.complete_visits
    n = slots.shape[0]
    loc = np.empty(n, np.int64)
    for i in range(n):
        loc[i] = locality[slots[i]]
    _add_times(sums_visits_delivered, bounds, loc, np.full(n, t_days), _ONES, 0.0, _NO_WEIGHTS)
    day = int(t_days)
    finished = np.empty(n, np.bool_)
    for i in range(n):
        s = slots[i]
        visits_done[s] += 1
        nxt = day + interval_days[s]
        next_due_day[s] = nxt
        due_since_day[s] = nxt
        finished[i] = visits_done[s] >= n_visits[s]  # the slots are distinct: no later pass changes this one
    return _select(slots, finished)


@njit(cache=True, nogil=True)
def _discharge(
    slots: np.ndarray,
    day: float,
    bounds: np.ndarray,
    m_post: float,
    m_untreated: float,
    follow_up_days: float,
    tariff: float,
    trim: float,
    excess: float,
    locality: np.ndarray,
    stage_start_day: np.ndarray,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    window_end_day: np.ndarray,
    k_col: np.ndarray,
    referral_day: np.ndarray,
    planned_end_day: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    sums_caseload_days: np.ndarray,
    sums_discharges: np.ndarray,
    sums_admissions: np.ndarray,
    sums_after_discharge: np.ndarray,
    sums_bed_days: np.ndarray,
    sums_cost: np.ndarray,
    sums_counterfactual: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled; the reference is Admissions.discharge
    n = slots.shape[0]
    loc = np.empty(n, np.int64)
    start = np.empty(n)
    window_end = np.empty(n)
    at = np.full(n, day)
    n_follow = 0
    follow = np.empty(n, np.int64)
    for i in range(n):
        s = slots[i]
        loc[i] = locality[s]
        start[i] = stage_start_day[s]
        window_end[i] = max(window_end_day[s], day + follow_up_days)
    _add_area(sums_caseload_days, bounds, loc, start, at)  # close the caseload stage
    _add_times(sums_discharges, bounds, loc, at, _ONES, 0.0, _NO_WEIGHTS)
    budget = np.empty(n)
    h_post = np.empty(n)
    for i in range(n):
        s = slots[i]
        budget[i] = budget_left[s] - base_hazard[s] * mult[s] * (day - since[s])
        h_post[i] = base_hazard[s] * m_post
        # Only those whose remaining budget runs out within the window need a path walk.
        if window_end[i] > day and h_post[i] > 0 and budget[i] < h_post[i] * (window_end[i] - day):
            follow[n_follow] = i
            n_follow += 1
    nb = budgets.shape[1]
    f_budget = np.empty(n_follow)
    f_k = np.empty(n_follow, np.int64)
    f_end = np.empty((n_follow, 1))
    f_h = np.empty((n_follow, 1))
    f_budgets = np.empty((n_follow, nb))
    f_ends = np.empty((n_follow, nb), np.bool_)
    f_los = np.empty((n_follow, nb))
    for j in range(n_follow):
        i = follow[j]
        s = slots[i]
        f_budget[j] = budget[i]
        f_k[j] = k_col[s]
        f_end[j, 0] = window_end[i]
        f_h[j, 0] = h_post[i]
        for b in range(nb):
            f_budgets[j, b] = budgets[s, b]
            f_ends[j, b] = ends[s, b]
            f_los[j, b] = los[s, b]
    rows, a_t, a_l = _walk_rows(
        np.full(n_follow, day), f_budget, f_k, f_end, f_h, f_budgets, f_ends, f_los, np.ones(n_follow, np.bool_)
    )
    a_loc = np.empty(rows.shape[0], np.int64)
    for j in range(rows.shape[0]):
        a_loc[j] = loc[follow[rows[j]]]
    if a_t.shape[0]:  # Admissions.record: the totals, the kind, the bed-days and the cost
        cost = np.empty(a_t.shape[0])
        for j in range(a_t.shape[0]):
            cost[j] = tariff + max(0.0, a_l[j] - trim) * excess
        _add_times(sums_admissions, bounds, a_loc, a_t, _ONES, 0.0, _NO_WEIGHTS)
        _add_times(sums_after_discharge, bounds, a_loc, a_t, _ONES, 0.0, _NO_WEIGHTS)
        _add_times(sums_bed_days, bounds, a_loc, a_t, _ARRAY, 0.0, a_l)
        _add_times(sums_cost, bounds, a_loc, a_t, _ARRAY, 0.0, cost)
    # Admissions.close_counterfactual: their no-care path over the same window.
    _close_counterfactual(
        slots, loc, window_end, bounds, m_untreated, m_post, referral_day, planned_end_day, base_hazard,
        budgets, ends, los, sums_counterfactual,
    )  # fmt: skip
    return a_loc, a_t, a_l


@njit(cache=True, nogil=True)
def _declined(
    rows: np.ndarray,
    hazard: np.ndarray,
    bounds: np.ndarray,
    m_untreated: float,
    m_post: float,
    tariff: float,
    trim: float,
    excess: float,
    b_loc: np.ndarray,
    b_time: np.ndarray,
    b_planned_end: np.ndarray,
    b_window_end: np.ndarray,
    b_budgets: np.ndarray,
    b_ends: np.ndarray,
    b_los: np.ndarray,
    sums_admissions: np.ndarray,
    sums_declined: np.ndarray,
    sums_bed_days: np.ndarray,
    sums_cost: np.ndarray,
    sums_counterfactual: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled; the reference is Admissions.declined
    window = np.empty(rows.shape[0])
    for i in range(rows.shape[0]):
        window[i] = b_window_end[rows[i]]
    hit, a_t, a_l = _no_care_of(
        rows, b_time, b_planned_end, window, hazard, b_budgets, b_ends, b_los, m_untreated, m_post
    )
    a_loc = np.empty(hit.shape[0], np.int64)
    cost = np.empty(hit.shape[0])
    for j in range(hit.shape[0]):
        a_loc[j] = b_loc[rows[hit[j]]]
        cost[j] = tariff + max(0.0, a_l[j] - trim) * excess
    if a_t.shape[0]:  # Admissions.record, then the counterfactual: the same admissions
        _add_times(sums_admissions, bounds, a_loc, a_t, _ONES, 0.0, _NO_WEIGHTS)
        _add_times(sums_declined, bounds, a_loc, a_t, _ONES, 0.0, _NO_WEIGHTS)
        _add_times(sums_bed_days, bounds, a_loc, a_t, _ARRAY, 0.0, a_l)
        _add_times(sums_cost, bounds, a_loc, a_t, _ARRAY, 0.0, cost)
        _add_times(sums_counterfactual, bounds, a_loc, a_t, _ONES, 0.0, _NO_WEIGHTS)
    return a_loc, a_t, a_l


@njit(cache=True, nogil=True)
def _admit(
    due: np.ndarray,
    day: int,
    bounds: np.ndarray,
    m_care: float,
    m_wait: float,
    m_post: float,
    m_untreated: float,
    follow_up_days: float,
    tariff: float,
    trim: float,
    excess: float,
    locality: np.ndarray,
    stage: np.ndarray,
    stage_start_day: np.ndarray,
    admission_day: np.ndarray,
    k_col: np.ndarray,
    next_due_day: np.ndarray,
    due_since_day: np.ndarray,
    return_day: np.ndarray,
    raised_until_day: np.ndarray,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    window_end_day: np.ndarray,
    referral_day: np.ndarray,
    planned_end_day: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    sums_admissions: np.ndarray,
    sums_from_caseload: np.ndarray,
    sums_from_waiting_list: np.ndarray,
    sums_bed_days: np.ndarray,
    sums_cost: np.ndarray,
    sums_cancelled: np.ndarray,
    sums_waiting_list_days: np.ndarray,
    sums_caseload_days: np.ndarray,
    sums_ended: np.ndarray,
    sums_counterfactual: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled; reference: Admissions._admit
    n = due.shape[0]
    nb = budgets.shape[1]
    t = np.empty(n)
    stay_los = np.empty(n)
    ended = np.empty(n, np.bool_)
    loc = np.empty(n, np.int64)
    on_caseload = np.empty(n, np.bool_)
    cost = np.empty(n)
    n_caseload = 0
    n_out = 0
    n_ended = 0
    for i in range(n):
        s = due[i]
        k = np.int64(k_col[s])
        t[i] = admission_day[s]
        stay_los[i] = los[s, k]
        ended[i] = ends[s, k]
        loc[i] = locality[s]
        on_caseload[i] = stage[s] == CASELOAD
        cost[i] = tariff + max(0.0, stay_los[i] - trim) * excess
        n_caseload += on_caseload[i]
        n_out += on_caseload[i] and next_due_day[s] <= day
        n_ended += ended[i]
    _add_times(sums_admissions, bounds, loc, t, _ONES, 0.0, _NO_WEIGHTS)
    c_loc = np.empty(n_caseload, np.int64)
    c_t = np.empty(n_caseload)
    w_loc = np.empty(n - n_caseload, np.int64)
    w_t = np.empty(n - n_caseload)
    o_loc = np.empty(n_out, np.int64)
    o_t = np.empty(n_out)
    a = b = o = 0
    for i in range(n):
        if on_caseload[i]:
            c_loc[a], c_t[a] = loc[i], t[i]
            a += 1
            if next_due_day[due[i]] <= day:  # a visit due when admitted will not happen as planned
                o_loc[o], o_t[o] = loc[i], t[i]
                o += 1
        else:
            w_loc[b], w_t[b] = loc[i], t[i]
            b += 1
    if n_caseload:
        _add_times(sums_from_caseload, bounds, c_loc, c_t, _ONES, 0.0, _NO_WEIGHTS)
    if n - n_caseload:
        _add_times(sums_from_waiting_list, bounds, w_loc, w_t, _ONES, 0.0, _NO_WEIGHTS)
    _add_times(sums_bed_days, bounds, loc, t, _ARRAY, 0.0, stay_los)
    _add_times(sums_cost, bounds, loc, t, _ARRAY, 0.0, cost)
    if n_out:
        _add_times(sums_cancelled, bounds, o_loc, o_t, _ONES, 0.0, _NO_WEIGHTS)
    out_ended = np.empty(n_ended, np.int64)
    if n_ended:
        e_loc = np.empty(n_ended, np.int64)
        e_t = np.empty(n_ended)
        e = 0
        for i in range(n):
            if ended[i]:
                out_ended[e], e_loc[e], e_t[e] = due[i], loc[i], t[i]
                e += 1
        # ServiceModel.close_stage by stage: the waiting list's person-days, then the caseload's.
        for code in (WAITING, CASELOAD):
            m = 0
            for j in range(n_ended):
                m += stage[out_ended[j]] == code
            if m == 0:
                continue
            g_loc = np.empty(m, np.int64)
            g_start = np.empty(m)
            g_end = np.empty(m)
            q = 0
            for j in range(n_ended):
                s = out_ended[j]
                if stage[s] == code:
                    g_loc[q], g_start[q], g_end[q] = e_loc[j], stage_start_day[s], e_t[j]
                    q += 1
            _add_area(sums_waiting_list_days if code == WAITING else sums_caseload_days, bounds, g_loc, g_start, g_end)
        _add_times(sums_ended, bounds, e_loc, e_t, _ONES, 0.0, _NO_WEIGHTS)
        # Admissions.close_counterfactual: their no-care path to the end of their window.
        window = np.empty(n_ended)
        for j in range(n_ended):
            window[j] = max(window_end_day[out_ended[j]], e_t[j] + follow_up_days)
        _close_counterfactual(
            out_ended, e_loc, window, bounds, m_untreated, m_post, referral_day, planned_end_day, base_hazard,
            budgets, ends, los, sums_counterfactual,
        )  # fmt: skip
    # The others come home: care resumes on the first whole day after the stay, the risk from the moment home.
    for i in range(n):
        if ended[i]:
            continue
        s = due[i]
        k_col[s] += 1
        home = t[i] + stay_los[i]
        back = max(np.int64(np.ceil(home)), day)
        return_day[s] = back
        if on_caseload[i]:
            next_due_day[s] = back
            due_since_day[s] = back
        raised_until_day[s] = 0
        k = np.int64(k_col[s])
        budget = budgets[s, min(k, nb - 1)] if k < nb else np.inf
        multiplier = m_care if on_caseload[i] else m_wait
        _schedule_one(s, home, budget, multiplier, base_hazard, mult, since, budget_left, admission_day)
    return loc, t, stay_los, out_ended


@njit(cache=True, nogil=True)
def _join(
    keep: np.ndarray,
    slots: np.ndarray,
    offset0: int,
    m_wait: float,
    interval_by_tier: np.ndarray,
    hazard_by_tier: np.ndarray,
    b_loc: np.ndarray,
    b_time: np.ndarray,
    b_tier: np.ndarray,
    b_urgent: np.ndarray,
    b_n_visits: np.ndarray,
    b_visit_start: np.ndarray,
    b_assessment: np.ndarray,
    b_assessment_travel: np.ndarray,
    b_planned_end: np.ndarray,
    b_window_end: np.ndarray,
    b_budgets: np.ndarray,
    b_ends: np.ndarray,
    b_los: np.ndarray,
    b_f2f: np.ndarray,
    b_travel: np.ndarray,
    buffer_f2f: np.ndarray,
    buffer_travel: np.ndarray,
    stage: np.ndarray,
    locality: np.ndarray,
    tier: np.ndarray,
    urgent: np.ndarray,
    referral_day: np.ndarray,
    stage_start_day: np.ndarray,
    n_visits: np.ndarray,
    visits_done: np.ndarray,
    interval_days: np.ndarray,
    visit_offset: np.ndarray,
    assessment_minutes: np.ndarray,
    assessment_travel_minutes: np.ndarray,
    base_hazard: np.ndarray,
    k_col: np.ndarray,
    raised_until_day: np.ndarray,
    return_day: np.ndarray,
    planned_end_day: np.ndarray,
    window_end_day: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
) -> None:  # pragma: no cover - compiled; the reference is ServiceModel.arrive
    nb = budgets.shape[1]
    pos = offset0
    for i in range(keep.shape[0]):
        r = keep[i]
        s = slots[i]
        nv = b_n_visits[r]
        for v in range(nv):  # the person's visit durations into the live buffer
            buffer_f2f[pos + v] = b_f2f[b_visit_start[r] + v]
            buffer_travel[pos + v] = b_travel[b_visit_start[r] + v]
        t = b_time[r]
        tk = b_tier[r]
        stage[s] = WAITING
        locality[s] = b_loc[r]
        tier[s] = tk
        urgent[s] = b_urgent[r]
        referral_day[s] = t
        stage_start_day[s] = t
        n_visits[s] = nv
        visits_done[s] = 0
        interval_days[s] = interval_by_tier[tk]
        visit_offset[s] = pos
        assessment_minutes[s] = b_assessment[r]
        assessment_travel_minutes[s] = b_assessment_travel[r]
        base_hazard[s] = hazard_by_tier[tk]
        k_col[s] = 0
        raised_until_day[s] = 0
        return_day[s] = 0
        planned_end_day[s] = b_planned_end[r]
        window_end_day[s] = b_window_end[r]
        for j in range(nb):
            budgets[s, j] = b_budgets[r, j]
            ends[s, j] = b_ends[r, j]
            los[s, j] = b_los[r, j]
        # PatientTable.start_hazard with k = 0: the first budget, from the referral, at the waiting list's hazard.
        _schedule_one(s, t, budgets[s, 0], m_wait, base_hazard, mult, since, budget_left, admission_day)
        pos += nv


@njit(cache=True, nogil=True)
def _by_loc(sums: np.ndarray, m: int, loc: np.ndarray, done: np.ndarray, values: np.ndarray, scale: float) -> None:
    """``count_day``: per locality, ``values / scale`` of the done items summed from zero in item order, then added."""
    total = np.zeros(sums.shape[0])
    for i in range(loc.shape[0]):
        if done[i]:
            total[loc[i]] += values[i] / scale
    for j in range(sums.shape[0]):
        sums[j, m] += total[j]


@njit(cache=True, nogil=True)
def _staff_time(
    m: int,
    used: np.ndarray,
    rostered: np.ndarray,
    hourly_cost: np.ndarray,
    unpaid_share: float,
    premium: float,
    pay: float,
    fte_scale: float,
    on_duty_hours: np.ndarray,
    paid_hours: np.ndarray,
    base_staff_cost: np.ndarray,
    loc: np.ndarray,
    tier: np.ndarray,
    done: np.ndarray,
    f2f: np.ndarray,
    travel: np.ndarray,
    cut: np.ndarray,
    minutes_per_hour: float,
    sums_staff: tuple[np.ndarray, ...],
    sums_contact_hours: np.ndarray,
    sums_cut: np.ndarray,
    sums_travel: np.ndarray,
    sums_contacts_by_tier: tuple[np.ndarray, ...],
    sums_hours_by_tier: tuple[np.ndarray, ...],
) -> None:  # pragma: no cover - compiled; the reference is ServiceModel._record_staff_time
    n_loc, n_grades = used.shape
    for j in range(n_loc):
        # numpy's sum along a row of fewer than 8 items: from zero, in order (its pairwise sum's base case).
        overtime_h = 0.0
        ot_cost = 0.0
        for g in range(n_grades):
            ot_h = max(0.0, used[j, g] - rostered[j, g]) / minutes_per_hour
            overtime_h += ot_h
            ot_cost += ot_h * hourly_cost[g]
        unpaid_h = overtime_h * unpaid_share
        paid_ot_cost = ot_cost * (1.0 - unpaid_share) * premium * pay
        sums_staff[0][j, m] += on_duty_hours[j] * fte_scale
        sums_staff[1][j, m] += paid_hours[j] * fte_scale
        sums_staff[2][j, m] += overtime_h
        sums_staff[3][j, m] += overtime_h - unpaid_h
        sums_staff[4][j, m] += unpaid_h
        sums_staff[5][j, m] += base_staff_cost[j] * pay * fte_scale + paid_ot_cost
    n_done = 0
    any_cut = False
    for i in range(loc.shape[0]):
        n_done += done[i]
        any_cut |= cut[i] != 0.0
    if n_done == 0:
        return
    _by_loc(sums_contact_hours, m, loc, done, f2f, minutes_per_hour)
    if any_cut:
        _by_loc(sums_cut, m, loc, done, cut, 1.0)
    _by_loc(sums_travel, m, loc, done, travel, minutes_per_hour)
    n_t = len(sums_contacts_by_tier)
    counts = np.zeros((n_loc, n_t), np.int64)
    hours = np.zeros((n_loc, n_t))
    for i in range(loc.shape[0]):
        if done[i]:
            counts[loc[i], tier[i]] += 1
            hours[loc[i], tier[i]] += f2f[i] / minutes_per_hour
    for t in range(n_t):
        for j in range(n_loc):
            sums_contacts_by_tier[t][j, m] += counts[j, t]
    for t in range(n_t):
        for j in range(n_loc):
            sums_hours_by_tier[t][j, m] += hours[j, t]


@njit(cache=True, nogil=True)
def _defer_visits(
    slots: np.ndarray,
    day: int,
    month: int,
    tolerance_days: int,
    missed_effect_days: int,
    m_missed: float,
    locality: np.ndarray,
    due_since_day: np.ndarray,
    next_due_day: np.ndarray,
    interval_days: np.ndarray,
    visits_done: np.ndarray,
    n_visits: np.ndarray,
    raised_until_day: np.ndarray,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
    sums_deferrals: np.ndarray,
    sums_missed: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; the reference is ServiceModel.defer_visits
    n = slots.shape[0]
    n_loc = sums_deferrals.shape[0]
    deferred = np.zeros(n_loc, np.int64)
    missed_by_loc = np.zeros(n_loc, np.int64)
    n_missed = 0
    late = np.empty(n, np.bool_)
    for i in range(n):
        s = slots[i]
        late[i] = day - due_since_day[s] >= tolerance_days
        if late[i]:
            missed_by_loc[locality[s]] += 1
            n_missed += 1
        else:
            deferred[locality[s]] += 1
    if month >= 0:  # count_day: the day's counts by locality, added as floats
        if n - n_missed:
            for j in range(n_loc):
                sums_deferrals[j, month] += deferred[j]
        if n_missed:
            for j in range(n_loc):
                sums_missed[j, month] += missed_by_loc[j]
    missed = _select(slots, late)
    finished = np.empty(n_missed, np.bool_)
    for j in range(n_missed):  # missed: the plan moves on to the next visit, and the risk rises for a while
        s = missed[j]
        visits_done[s] += 1
        nxt = max(day + 1, due_since_day[s] + interval_days[s])
        next_due_day[s] = nxt
        due_since_day[s] = nxt
        finished[j] = visits_done[s] >= n_visits[s]
    if missed_effect_days > 0:
        for s in missed:
            raised_until_day[s] = day + missed_effect_days
        _set_multiplier(missed, float(day), m_missed, base_hazard, mult, since, budget_left, admission_day)
    return _select(missed, finished)


@njit(cache=True, nogil=True)
def _restore_hazards(
    day: int,
    m_care: float,
    stage: np.ndarray,
    raised_until_day: np.ndarray,
    base_hazard: np.ndarray,
    mult: np.ndarray,
    since: np.ndarray,
    budget_left: np.ndarray,
    admission_day: np.ndarray,
) -> None:  # pragma: no cover - compiled; the reference is Admissions.restore_hazards
    n = 0
    for s in range(stage.shape[0]):
        n += raised_until_day[s] > 0 and raised_until_day[s] <= day and stage[s] == CASELOAD
    if n == 0:
        return
    back = np.empty(n, np.int64)
    k = 0
    for s in range(stage.shape[0]):
        if raised_until_day[s] > 0 and raised_until_day[s] <= day and stage[s] == CASELOAD:
            back[k] = s
            k += 1
    for j in range(n):
        raised_until_day[back[j]] = 0
    _set_multiplier(back, float(day), m_care, base_hazard, mult, since, budget_left, admission_day)


class CaseloadSteps:
    """The compiled assessment and visit steps of one service's people and accounts."""

    def __init__(self, people: PatientTable, accounts: Accounts, urgent_kpi_days: float = URGENT_KPI_DAYS) -> None:
        self.people = people
        self.accounts = accounts
        self.urgent_kpi_days = float(urgent_kpi_days)
        self._episodes = tuple(accounts.sums[f"episodes_tier_{name}"] for name in accounts.tiers)
        self._month_of_day = accounts.calendar.month_of_day
        self._staff = tuple(accounts.sums[name] for name in STAFF_METRICS)
        self._contacts_by_tier = tuple(accounts.sums[f"contacts_tier_{name}"] for name in accounts.tiers)
        self._hours_by_tier = tuple(accounts.sums[f"contact_hours_tier_{name}"] for name in accounts.tiers)

    def complete_assessments(self, slots: np.ndarray, t_days: float, m_care: float) -> np.ndarray:
        """Move ``slots`` from the waiting list to the caseload at ``t_days``; return those with no visits planned.

        The caller records the waits first (:meth:`~fundsim.sim.accounts.Accounts.add_waits`, Python
        lists) and discharges the slots returned.
        """
        c = self.people.cols  # read each call: the table's columns are new arrays after it grows
        sums = self.accounts.sums
        return _complete_assessments(
            np.ascontiguousarray(slots, dtype=np.int64), float(t_days), self.accounts._bounds,
            self.urgent_kpi_days, float(m_care),
            c["locality"], c["referral_day"], c["tier"], c["urgent"], c["stage"], c["stage_start_day"],
            c["interval_days"], c["next_due_day"], c["due_since_day"], c["n_visits"],
            c["base_hazard"], c["multiplier"], c["hazard_since_day"], c["budget_left"], c["admission_day"],
            sums["assessments"], sums["waiting_list_days"], sums["caseload_entries"], self._episodes,
            sums["urgent_assessments"], sums["urgent_assessed_within_2_days"],
        )  # fmt: skip

    def complete_visits(self, slots: np.ndarray, t_days: float) -> np.ndarray:
        """Record a visit delivered to each of ``slots`` at ``t_days``; return those whose plan is finished."""
        c = self.people.cols
        return _complete_visits(
            np.ascontiguousarray(slots, dtype=np.int64), float(t_days), self.accounts._bounds,
            c["locality"], c["visits_done"], c["n_visits"], c["interval_days"], c["next_due_day"],
            c["due_since_day"], self.accounts.sums["visits_delivered"],
        )  # fmt: skip

    def discharge(
        self, slots: np.ndarray, day: float, admissions: Admissions
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`fundsim.sim.admissions.Admissions.discharge` up to releasing the slots, in one call.

        Returns the admissions after discharge (locality, time, stay) for the hooks that take them
        in Python (a virtual ward's step-down offers); the caller counts and releases the slots.
        """
        p = self.people
        c = p.cols
        sums = self.accounts.sums
        return _discharge(
            np.ascontiguousarray(slots, dtype=np.int64), float(day), self.accounts._bounds,
            float(admissions.m_post), float(admissions.m_untreated), float(admissions.follow_up_days),
            float(admissions.tariff), float(admissions.trim), float(admissions.excess),
            c["locality"], c["stage_start_day"], c["base_hazard"], c["multiplier"], c["hazard_since_day"],
            c["budget_left"], c["window_end_day"], c["k"], c["referral_day"], c["planned_end_day"],
            p.budgets, p.ends, p.los,
            sums["caseload_days"], sums["discharges"], sums["admissions"], sums["admissions_after_discharge"],
            sums["bed_days"], sums["hospital_cost_gbp"], sums["counterfactual_admissions"],
        )  # fmt: skip

    def admit(
        self, due: np.ndarray, day: int, admissions: Admissions, m_care: float, m_wait: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`fundsim.sim.admissions.Admissions._admit` bar the Python hooks, in one call.

        Returns the admissions (locality, time, stay) for a virtual ward's step-down offers, and the
        slots whose episode the admission ended, for the caller to count and release.
        """
        p = self.people
        c = p.cols
        sums = self.accounts.sums
        return _admit(
            np.ascontiguousarray(due, dtype=np.int64), int(day), self.accounts._bounds,
            float(m_care), float(m_wait), float(admissions.m_post), float(admissions.m_untreated),
            float(admissions.follow_up_days), float(admissions.tariff), float(admissions.trim),
            float(admissions.excess),
            c["locality"], c["stage"], c["stage_start_day"], c["admission_day"], c["k"], c["next_due_day"],
            c["due_since_day"], c["return_day"], c["raised_until_day"], c["base_hazard"], c["multiplier"],
            c["hazard_since_day"], c["budget_left"], c["window_end_day"], c["referral_day"], c["planned_end_day"],
            p.budgets, p.ends, p.los,
            sums["admissions"], sums["admissions_from_caseload"], sums["admissions_from_waiting_list"],
            sums["bed_days"], sums["hospital_cost_gbp"], sums["visits_cancelled"], sums["waiting_list_days"],
            sums["caseload_days"], sums["episodes_ended_by_admission"], sums["counterfactual_admissions"],
        )  # fmt: skip

    def declined(
        self, block: ReferralBlock, rows: np.ndarray, hazard: np.ndarray, admissions: Admissions
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`fundsim.sim.admissions.Admissions.declined` bar the ward's hook, in one call.

        Returns the admissions (locality, time, stay) for a virtual ward's step-down offers.
        """
        b = block
        sums = self.accounts.sums
        return _declined(
            np.ascontiguousarray(rows, dtype=np.int64), np.ascontiguousarray(hazard, dtype=np.float64),
            self.accounts._bounds, float(admissions.m_untreated), float(admissions.m_post),
            float(admissions.tariff), float(admissions.trim), float(admissions.excess),
            b.loc, b.time, b.planned_end, b.window_end, b.budgets, b.ends, b.los,
            sums["admissions"], sums["admissions_declined_referrals"], sums["bed_days"], sums["hospital_cost_gbp"],
            sums["counterfactual_admissions"],
        )  # fmt: skip

    def join(
        self,
        block: ReferralBlock,
        keep: np.ndarray,
        slots: np.ndarray,
        buffer: VisitBuffer,
        interval_by_tier: np.ndarray,
        hazard_by_tier: np.ndarray,
        m_wait: float,
    ) -> None:
        """Rows ``keep`` of ``block`` join the waiting lists in ``slots``: their columns, visits and hazard.

        :meth:`fundsim.sim.service.ServiceModel.arrive` from the visit buffer's store on, in one call.
        """
        b = block
        p = self.people
        c = p.cols
        offset0 = buffer.reserve(int(b.n_visits[keep].sum()))
        _join(
            np.ascontiguousarray(keep, dtype=np.int64), slots, offset0, float(m_wait), interval_by_tier,
            hazard_by_tier, b.loc, b.time, b.tier, b.urgent, b.n_visits, b.visit_start, b.assessment_minutes,
            b.assessment_travel_minutes, b.planned_end, b.window_end, b.budgets, b.ends, b.los, b.f2f, b.travel,
            buffer.f2f_minutes, buffer.travel_minutes,
            c["stage"], c["locality"], c["tier"], c["urgent"], c["referral_day"], c["stage_start_day"],
            c["n_visits"], c["visits_done"], c["interval_days"], c["visit_offset"], c["assessment_minutes"],
            c["assessment_travel_minutes"], c["base_hazard"], c["k"], c["raised_until_day"], c["return_day"],
            c["planned_end_day"], c["window_end_day"], c["multiplier"], c["hazard_since_day"], c["budget_left"],
            c["admission_day"], p.budgets, p.ends, p.los,
        )  # fmt: skip

    def staff_time(
        self,
        day: int,
        alloc: Allocation,
        hourly_cost: np.ndarray,
        unpaid_share: float,
        premium: float,
        pay: float,
        fte_scale: float,
        on_duty_hours: np.ndarray,
        paid_hours: np.ndarray,
        base_staff_cost: np.ndarray,
    ) -> None:
        """:meth:`fundsim.sim.service.ServiceModel._record_staff_time` in one call (the same sums, bit for bit)."""
        m = int(self._month_of_day[day])
        if m < 0:  # a warm-up day: nothing is kept
            return
        sums = self.accounts.sums
        _staff_time(
            m, alloc.used_minutes, np.ascontiguousarray(alloc.rostered_minutes), hourly_cost, float(unpaid_share),
            float(premium), float(pay), float(fte_scale), on_duty_hours, paid_hours, base_staff_cost,
            alloc.loc.astype(np.int64, copy=False), alloc.tier, alloc.done, alloc.f2f_minutes, alloc.travel_minutes,
            alloc.cut_minutes, MINUTES_PER_HOUR, self._staff, sums["contact_hours"], sums["visit_minutes_cut"],
            sums["travel_hours"], self._contacts_by_tier, self._hours_by_tier,
        )  # fmt: skip

    def defer_visits(
        self, slots: np.ndarray, day: int, tolerance_days: int, missed_effect_days: int, m_missed: float
    ) -> np.ndarray:
        """:meth:`fundsim.sim.service.ServiceModel.defer_visits` in one call; return those whose plan ends."""
        c = self.people.cols
        sums = self.accounts.sums
        return _defer_visits(
            np.ascontiguousarray(slots, dtype=np.int64), int(day), int(self._month_of_day[day]), int(tolerance_days),
            int(missed_effect_days), float(m_missed), c["locality"], c["due_since_day"], c["next_due_day"],
            c["interval_days"], c["visits_done"], c["n_visits"], c["raised_until_day"], c["base_hazard"],
            c["multiplier"], c["hazard_since_day"], c["budget_left"], c["admission_day"],
            sums["visit_deferrals"], sums["visits_missed"],
        )  # fmt: skip

    def restore_hazards(self, day: int, m_care: float) -> None:
        """:meth:`fundsim.sim.admissions.Admissions.restore_hazards` in one pass over the table."""
        c = self.people.cols
        _restore_hazards(
            int(day), float(m_care), c["stage"], c["raised_until_day"], c["base_hazard"], c["multiplier"],
            c["hazard_since_day"], c["budget_left"], c["admission_day"],
        )  # fmt: skip


__all__ = ["CaseloadSteps"]
