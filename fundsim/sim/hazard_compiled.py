"""Admissions along many people's hazard paths at once, compiled with numba, bit-identical to the pure walk.

The pure path walks one person at a time in Python (:func:`fundsim.sim.hazard.admissions_on_path`),
from :func:`fundsim.sim.no_care.no_care_admissions` (the no-care path of everyone whose care ends,
and of declined referrals) and from :meth:`fundsim.sim.admissions.Admissions.discharge` (the
post-discharge window). The functions here do the same walk over every person of a call in one
compiled loop, with the same floating-point operations in the same order, and return the same
admissions in the same order. Imported only when numba is installed (:mod:`fundsim.sim.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundsim.sim.hazard import MAX_ADMISSIONS


@njit(cache=True, nogil=True)
def _walk(
    t: float,
    b: float,
    k: int,
    piece_end: np.ndarray,
    piece_h: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    row: int,
    out_row: np.ndarray,
    out_t: np.ndarray,
    out_los: np.ndarray,
    count: int,
) -> int:  # pragma: no cover - compiled; tests/test_kernels.py compares it with the pure path
    """:func:`fundsim.sim.hazard.admissions_on_path` for one person, appending to the ``out_*`` arrays."""
    i = 0
    n = piece_end.shape[0]
    while k < MAX_ADMISSIONS and i < n:
        end = piece_end[i]
        h = piece_h[i]
        if t >= end:
            i += 1
            continue
        if h > 0.0 and t + b / h < end:
            t_hit = t + b / h
            out_row[count] = row
            out_t[count] = t_hit
            out_los[count] = los[k]
            count += 1
            if ends[k]:
                break
            t = t_hit + los[k]
            k += 1
            b = budgets[k] if k < MAX_ADMISSIONS else np.inf
        else:
            b -= h * (end - t)
            t = end
            i += 1
    return count


@njit(cache=True, nogil=True)
def _walk_rows(
    start: np.ndarray,
    budget_left: np.ndarray,
    k: np.ndarray,
    piece_end: np.ndarray,
    piece_h: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    walk: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The walks of the rows ``walk`` marks, each along its own pieces (``piece_end[r]``, ``piece_h[r]``)."""
    n = start.shape[0]
    out_row = np.empty(n * MAX_ADMISSIONS, np.int64)
    out_t = np.empty(n * MAX_ADMISSIONS)
    out_los = np.empty(n * MAX_ADMISSIONS)
    count = 0
    for r in range(n):
        if walk[r]:
            count = _walk(
                start[r], budget_left[r], k[r], piece_end[r], piece_h[r],
                budgets[r], ends[r], los[r], r, out_row, out_t, out_los, count,
            )  # fmt: skip
    return out_row[:count], out_t[:count], out_los[:count]


@njit(cache=True, nogil=True)
def _no_care(
    start: np.ndarray,
    planned_end: np.ndarray,
    window_end: np.ndarray,
    hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    m_untreated: float,
    m_post: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = start.shape[0]
    walk = np.empty(n, np.bool_)
    piece_end = np.empty((n, 2))
    piece_h = np.empty((n, 2))
    for r in range(n):
        exposure = hazard[r] * (m_untreated * (planned_end[r] - start[r]) + m_post * (window_end[r] - planned_end[r]))
        # Only people whose first budget is spent within their window can be admitted at all.
        walk[r] = budgets[r, 0] < exposure
        piece_end[r, 0] = planned_end[r]
        piece_h[r, 0] = hazard[r] * m_untreated
        piece_end[r, 1] = window_end[r]
        piece_h[r, 1] = hazard[r] * m_post
    return _walk_rows(start, budgets[:, 0], np.zeros(n, np.int64), piece_end, piece_h, budgets, ends, los, walk)


def no_care_admissions(
    loc: np.ndarray,
    start: np.ndarray,
    planned_end: np.ndarray,
    window_end: np.ndarray,
    hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    m_untreated: float,
    m_post: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fundsim.sim.no_care.no_care_admissions`, compiled: same arguments, same admissions in the same order."""
    rows, t, stay = _no_care(
        np.ascontiguousarray(start, dtype=np.float64),
        np.ascontiguousarray(planned_end, dtype=np.float64),
        np.ascontiguousarray(window_end, dtype=np.float64),
        np.ascontiguousarray(hazard, dtype=np.float64),
        np.ascontiguousarray(budgets, dtype=np.float64),
        np.ascontiguousarray(ends, dtype=np.bool_),
        np.ascontiguousarray(los, dtype=np.float64),
        float(m_untreated),
        float(m_post),
    )
    return np.asarray(loc)[rows].astype(np.int64), t, stay


def post_discharge_admissions(
    day: float,
    budget_left: np.ndarray,
    k: np.ndarray,
    window_end: np.ndarray,
    hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Admissions from ``day`` to each ``window_end`` at a constant ``hazard``: (row, time, stay), rows in order.

    Row ``r`` starts with ``budget_left[r]`` of budget ``k[r]`` and its own ``budgets``, ``ends`` and ``los``.
    """
    n = len(budget_left)
    return _walk_rows(
        np.full(n, float(day)),
        np.ascontiguousarray(budget_left, dtype=np.float64),
        np.ascontiguousarray(k, dtype=np.int64),
        np.ascontiguousarray(window_end, dtype=np.float64).reshape(n, 1),
        np.ascontiguousarray(hazard, dtype=np.float64).reshape(n, 1),
        np.ascontiguousarray(budgets, dtype=np.float64),
        np.ascontiguousarray(ends, dtype=np.bool_),
        np.ascontiguousarray(los, dtype=np.float64),
        np.ones(n, dtype=np.bool_),
    )


__all__ = ["no_care_admissions", "post_discharge_admissions"]
