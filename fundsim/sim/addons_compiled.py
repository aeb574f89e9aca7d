"""The add-ons' own steps compiled with numba: the urgent response's queue and a day's shared minutes.

Twins of :func:`fundsim.sim.urgent_response.fcfs_waits`, of the urgent response's and the virtual
ward's ``take_core_minutes`` with one staff grade (the usual case), with the same floating-point
operations in the same order, so a run's numbers are the same to the last bit
(``tests/test_kernels.py`` compares whole runs on both paths). A day's minutes were a dozen small
Python steps a day per add-on (the take, three to four running sums by locality); here each is one
call. Imported only when numba is installed (:mod:`fundsim.sim.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

MINUTES_PER_HOUR = 60.0


@njit(cache=True, nogil=True)
def fcfs_waits(
    arrival_minutes: np.ndarray, busy_minutes: np.ndarray, responders: int
) -> np.ndarray:  # pragma: no cover - compiled; tests/test_urgent_response.py checks it against SimPy
    """:func:`fundsim.sim.urgent_response.fcfs_waits`, compiled: the same waits.

    Each call takes the responder free first; which of several equal free times it takes changes
    nothing, so the responders' free times are a plain array searched for its least (a handful of
    responders), not a heap: the same least value, so the same start, wait and free time.
    """
    free = np.zeros(responders)
    waits = np.zeros(arrival_minutes.shape[0])
    for i in range(arrival_minutes.shape[0]):
        first = 0
        for r in range(1, responders):
            if free[r] < free[first]:
                first = r
        arrive = arrival_minutes[i]
        start = max(arrive, free[first])
        waits[i] = start - arrive
        free[first] = start + busy_minutes[i]
    return waits


@njit(cache=True, nogil=True)
def _take(rostered: np.ndarray, i: int, grade: int, want: float, cap_share: float) -> float:  # pragma: no cover
    """Take ``want`` minutes, up to ``cap_share`` of the grade's, from locality ``i``'s (in place); the minutes taken.

    :func:`fundsim.sim.urgent_response.take_one_grade` for one locality.
    """
    pool = rostered[i, grade]
    cap = cap_share * pool
    take = want if want <= cap else cap
    share = take / pool if pool > 0 else 0.0
    rostered[i, grade] = pool * (1.0 - share)
    return take


@njit(cache=True, nogil=True)
def urgent_day(
    rostered: np.ndarray,
    grade: int,
    need: np.ndarray,
    cap_share: float,
    rate_gbp: float,
    pay: float,
    sums: np.ndarray,
    record: bool,
) -> None:  # pragma: no cover - compiled; the reference is UrgentResponseService.take_core_minutes
    """A shared urgent response's day: its responders' ``need`` minutes (by locality) out of ``rostered``, in place.

    With ``record``, adds the core's hours, the bank's hours and the bank's cost to rows 0-2 of ``sums``.
    """
    for i in range(rostered.shape[0]):
        want = need[i]
        take = _take(rostered, i, grade, want, cap_share)
        if record:
            bank_h = (want - take) / MINUTES_PER_HOUR
            sums[0, i] += take / MINUTES_PER_HOUR
            sums[1, i] += bank_h
            sums[2, i] += bank_h * rate_gbp * pay


@njit(cache=True, nogil=True)
def ward_day(
    rostered: np.ndarray,
    grade: int,
    occupied: np.ndarray,
    minutes_per_place: float,
    shared: bool,
    cap_share: float,
    rate_gbp: float,
    pay: float,
    sums: np.ndarray,
    record: bool,
) -> bool:  # pragma: no cover - compiled; the reference is VirtualWardService.take_core_minutes
    """A virtual ward's day: its staff minutes (row 0 of ``sums``) and, ``shared``, those out of ``rostered``.

    Returns whether any minutes were taken (``rostered`` changed in place). With ``record``, adds the
    minutes needed, and (shared) the core's minutes, the bank's and the bank's cost, to rows 0-3.
    """
    n_loc = rostered.shape[0]
    busy = False
    for i in range(n_loc):
        need = float(occupied[i]) * minutes_per_place
        busy |= need != 0.0
        if record:
            sums[0, i] += need
    if not shared or not busy:
        return False
    for i in range(n_loc):
        need = float(occupied[i]) * minutes_per_place
        take = _take(rostered, i, grade, need, cap_share)
        if record:
            bank = need - take
            sums[1, i] += take
            sums[2, i] += bank
            sums[3, i] += bank / MINUTES_PER_HOUR * rate_gbp * pay
    return True


__all__ = ["fcfs_waits", "urgent_day", "ward_day"]
