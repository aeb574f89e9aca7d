"""The virtual ward's night (:mod:`fundsim.sim.ward_night`) over arrays, in one loop compiled with numba.

:class:`CompiledNight` has :class:`~fundsim.sim.ward_night.PureNight`'s methods and takes the same
events in the same order with the same floating-point operations, so a run's numbers are the same
to the last bit (``tests/test_kernels.py``). The two heaps are arrays ordered by (time, seq), as
Python's heaps of tuples order the pure path's; the open outside stays are at most the ward's places,
so their heap never grows. Imported only when numba is installed (:mod:`fundsim.sim.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundsim.sim.event_draws import EventDraws
from fundsim.sim.ward_night import (
    CORE_DEPARTURE,
    DOWN,
    DUE,
    FROM_WARD_GP,
    GP_AVOIDED,
    GP_ESCALATED,
    HOME,
    NOTHING,
    REFUSED,
    V_BED_DAYS_SAVED,
    V_BED_DAYS_SAVED_STEP_DOWN,
    V_STAY_DAYS,
)

#: Entries of the integer state vector.
_N_OUT, _NEXT_GP, _SEQ, _N_ENDED, _N_SD = range(5)
#: The loop's extra answer: the ended stays' arrays are full (grow them and call again).
_ENDED_FULL = 3
#: Rows of the GP step-ups (time, seq, locality, ward stay, hospital days avoided, when escalated).
_G_T, _G_SEQ, _G_LOC, _G_LEN, _G_OTHER, _G_WHEN = range(6)
#: Rows of the heaps: outside stays (end, seq, loc, start, escalated), step-downs (time, seq, loc, stay, saved).
_KEY_T, _KEY_SEQ, _LOC, _F1, _F2 = range(5)


@njit(cache=True, nogil=True)
def _mix64(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """SplitMix64's finaliser (fundsim.sim.event_draws._mix64) in uint64 arithmetic, which wraps as its mask does."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def _offered(prefixes: np.ndarray, loc: np.ndarray, bits: np.ndarray, share: float) -> np.ndarray:  # pragma: no cover
    """Positions whose uniform (the hash of the locality's prefix then the time's bits) is below ``share``."""
    out = np.empty(loc.shape[0], dtype=np.int64)
    n = 0
    for j in range(loc.shape[0]):
        h = _mix64(prefixes[loc[j]] ^ bits[j])
        if float(h >> np.uint64(11)) * 2.0**-53 < share:
            out[n] = j
            n += 1
    return out[:n]


@njit(cache=True, nogil=True)
def _before(t1: float, q1: float, t2: float, q2: float) -> bool:  # pragma: no cover - compiled
    return t1 < t2 or (t1 == t2 and q1 < q2)


@njit(cache=True, nogil=True)
def _push(heap: np.ndarray, n: int, row: np.ndarray) -> None:  # pragma: no cover - compiled
    """Put ``row`` (its first two entries the key) onto the heap of ``n`` columns (heapq's sift)."""
    pos = n
    while pos > 0:
        parent = (pos - 1) >> 1
        if not _before(row[0], row[1], heap[0, parent], heap[1, parent]):
            break
        heap[:, pos] = heap[:, parent]
        pos = parent
    heap[:, pos] = row


@njit(cache=True, nogil=True)
def _pop(heap: np.ndarray, n: int) -> None:  # pragma: no cover - compiled
    """Remove the first column of the heap of ``n`` columns (read it first)."""
    last = n - 1
    if last == 0:
        return
    t, q = heap[0, last], heap[1, last]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= last:
            break
        right = child + 1
        if right < last and _before(heap[0, right], heap[1, right], heap[0, child], heap[1, child]):
            child = right
        if not _before(heap[0, child], heap[1, child], t, q):
            break
        heap[:, pos] = heap[:, child]
        pos = child
    heap[:, pos] = heap[:, last]


@njit(cache=True, nogil=True)
def _advance(
    day: int,
    t_core: float,
    q_core: int,
    t_due: float,
    state: np.ndarray,
    occupied: np.ndarray,
    places: np.ndarray,
    out: np.ndarray,
    gp: np.ndarray,
    step_downs: np.ndarray,
    counts: np.ndarray,
    values: np.ndarray,
    bounds: np.ndarray,
    ended: np.ndarray,
) -> int:  # pragma: no cover - compiled; tests/test_kernels.py compares it with PureNight.advance
    inf = np.inf
    n_gp = gp.shape[1]
    row = np.empty(5)
    while True:
        n_out = state[_N_OUT]
        t_dep, outside_dep = t_core, False
        if n_out > 0:
            end, seq = out[_KEY_T, 0], out[_KEY_SEQ, 0]
            if end <= day and (end < t_core or (end == t_core and seq < q_core)):
                t_dep, outside_dep = end, True
        g = state[_NEXT_GP]
        t_arr, from_gp = inf, False
        if g < n_gp and gp[_G_T, g] < day:
            t_arr, from_gp = gp[_G_T, g], True
        n_sd = state[_N_SD]
        if n_sd > 0 and step_downs[_KEY_T, 0] < day:
            if not from_gp or _before(step_downs[_KEY_T, 0], step_downs[_KEY_SEQ, 0], gp[_G_T, g], gp[_G_SEQ, g]):
                t_arr, from_gp = step_downs[_KEY_T, 0], False
        if t_dep == inf and t_due == inf and t_arr == inf:
            return NOTHING
        if t_dep <= t_due and t_dep <= t_arr:
            if not outside_dep:
                return CORE_DEPARTURE
            n_e = state[_N_ENDED]
            if n_e >= ended.shape[1]:
                return _ENDED_FULL
            end, loc, start, escalated = out[_KEY_T, 0], int(out[_LOC, 0]), out[_F1, 0], out[_F2, 0]
            _pop(out, n_out)
            state[_N_OUT] = n_out - 1
            occupied[loc] -= 1
            ended[0, n_e] = loc
            ended[1, n_e] = start
            ended[2, n_e] = end
            state[_N_ENDED] = n_e + 1
            col = np.searchsorted(bounds, end, side="right")
            counts[FROM_WARD_GP if escalated != 0.0 else HOME, loc, col] += 1
            values[V_STAY_DAYS, loc, col] += end - start
            continue
        if t_due <= t_arr:
            return DUE
        if from_gp:
            loc, length, other, when = int(gp[_G_LOC, g]), gp[_G_LEN, g], gp[_G_OTHER, g], gp[_G_WHEN, g]
            state[_NEXT_GP] = g + 1
        else:
            loc, length, other, when = int(step_downs[_LOC, 0]), step_downs[_F1, 0], step_downs[_F2, 0], np.nan
            _pop(step_downs, n_sd)
            state[_N_SD] = n_sd - 1
        t = t_arr
        col = np.searchsorted(bounds, t, side="right")
        if occupied[loc] >= places[loc]:
            counts[REFUSED, loc, col] += 1
            continue
        escalated = False
        if from_gp:
            escalated = not np.isnan(when)
            if escalated:
                end = t + when * length
                counts[GP_ESCALATED, loc, col] += 1
            else:
                end = t + length
                counts[GP_AVOIDED, loc, col] += 1
                values[V_BED_DAYS_SAVED, loc, col] += other
        else:
            end = t + length
            counts[DOWN, loc, col] += 1
            values[V_BED_DAYS_SAVED, loc, col] += other
            values[V_BED_DAYS_SAVED_STEP_DOWN, loc, col] += other
        seq = state[_SEQ] + 1
        state[_SEQ] = seq + 1
        row[_KEY_T], row[_KEY_SEQ], row[_LOC], row[_F1], row[_F2] = end, seq, loc, t, 1.0 if escalated else 0.0
        _push(out, state[_N_OUT], row)
        state[_N_OUT] += 1
        occupied[loc] += 1


class CompiledNight:
    """:class:`~fundsim.sim.ward_night.PureNight` over arrays: the same events, order and sums."""

    def __init__(
        self,
        gp: np.ndarray,
        places: np.ndarray,
        bounds: np.ndarray,
        counts: np.ndarray,
        values: np.ndarray,
        occupied: np.ndarray,
        first_seq: int,
        draws: EventDraws,
        step_down_prefixes: list[int],
    ) -> None:
        # The step-down keys' hash states by locality, once (draws made them; the offers hash in the loop).
        self._draws = draws
        self._step_down_prefixes = np.array(step_down_prefixes, dtype=np.uint64)
        # Sequence numbers and localities are held as floats beside the times: exact below 2^53.
        self._gp = np.ascontiguousarray(gp, dtype=np.float64)
        self._places = places
        self._bounds = np.ascontiguousarray(bounds, dtype=np.float64)
        self.counts, self.values, self.occupied = counts, values, occupied
        self._state = np.zeros(5, dtype=np.int64)
        self._state[_SEQ] = first_seq
        self._out = np.zeros((5, max(int(places.sum()), 1)))
        self._step_downs = np.zeros((5, 64))
        self._ended = np.zeros((3, 1024))

    def next_seq(self) -> int:
        """The next sequence number (the ward's order of creation)."""
        seq = int(self._state[_SEQ])
        self._state[_SEQ] = seq + 1
        return seq

    def offered(self, loc: np.ndarray, t: np.ndarray, share: float) -> list[int]:
        """:meth:`fundsim.sim.ward_night.PureNight.offered`, compiled."""
        bits = np.ascontiguousarray(t, dtype=np.float64).view(np.uint64)
        return _offered(self._step_down_prefixes, np.asarray(loc, dtype=np.int64), bits, share).tolist()

    def push_step_down(self, t: float, length: float, saved: float, loc: int) -> None:
        """A step-down arriving at ``t`` in locality ``loc`` for ``length`` days, ``saved`` hospital days saved."""
        n = int(self._state[_N_SD])
        if n >= self._step_downs.shape[1]:
            self._step_downs = np.concatenate((self._step_downs, np.zeros_like(self._step_downs)), axis=1)
        _push(self._step_downs, n, np.array([t, float(self.next_seq()), float(loc), length, saved]))
        self._state[_N_SD] = n + 1

    def _grow_ended(self) -> None:
        self._ended = np.concatenate((self._ended, np.zeros_like(self._ended)), axis=1)

    def append_ended(self, loc: int, start: float, end: float) -> None:
        """Record a stay ``[start, end)`` of locality ``loc`` for the occupied place-days."""
        n = int(self._state[_N_ENDED])
        if n >= self._ended.shape[1]:
            self._grow_ended()
        self._ended[:, n] = (loc, start, end)
        self._state[_N_ENDED] = n + 1

    def take_ended(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stays ended since the last take, in order: locality, start and end arrays."""
        n = int(self._state[_N_ENDED])
        self._state[_N_ENDED] = 0
        return self._ended[0, :n].astype(np.int64), self._ended[1, :n].copy(), self._ended[2, :n].copy()

    def open_stays(self) -> list[tuple[int, int, float, float]]:
        """The open outside stays: (locality, seq, start, planned end)."""
        n = int(self._state[_N_OUT])
        out = self._out[:, :n]
        return [
            (int(loc), int(seq), start, end)
            for end, seq, loc, start in zip(*out[[_KEY_T, _KEY_SEQ, _LOC, _F1]].tolist(), strict=True)
        ]

    def nothing_before(self, day: int) -> bool:
        """Whether no outside event is due before the start of ``day``."""
        state = self._state
        if state[_N_OUT] > 0 and self._out[_KEY_T, 0] <= day:
            return False
        g = int(state[_NEXT_GP])
        if g < self._gp.shape[1] and self._gp[_G_T, g] < day:
            return False
        return not (state[_N_SD] > 0 and self._step_downs[_KEY_T, 0] < day)

    def advance(self, day: int, t_core: float, q_core: int, t_due: float) -> int:
        """:meth:`fundsim.sim.ward_night.PureNight.advance`, compiled."""
        while True:
            nxt = _advance(
                day,
                t_core,
                q_core,
                t_due,
                self._state,
                self.occupied,
                self._places,
                self._out,
                self._gp,
                self._step_downs,
                self.counts,
                self.values,
                self._bounds,
                self._ended,
            )
            if nxt != _ENDED_FULL:
                return int(nxt)
            self._grow_ended()


__all__ = ["CORE_DEPARTURE", "DUE", "NOTHING", "CompiledNight"]
