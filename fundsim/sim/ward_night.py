"""The virtual ward's night for stays from outside the caseload: GP step-ups and step-downs.

Most of a ward's events are people from outside the core's lists: GP step-ups (drawn once, up front)
and step-downs from hospital (drawn when the core's admission happens). Their arrivals and planned
ends touch nothing of the core but the ward's places, so a *night engine* takes them, in the night's
time order, and hands back to :meth:`fundsim.sim.virtual_ward.VirtualWardService.overnight` whenever
the next event is one of the core's: a due admission, or the planned end of a caseload person's stay.

The order of events is the ward's rule: at equal times a departure comes first (the place it frees
is free at that moment), then a due admission, then an arrival; departures among themselves, and
arrivals among themselves, by time, then by the sequence number they were given (their order of
creation). Counts and sums go into the service's arrays in that order, as the core's events' do.

:class:`PureNight` is the reference, in Python's heaps and tuples;
:class:`fundsim.sim.ward_night_compiled.CompiledNight` does the same over arrays in one numba loop,
with the same floating-point operations in the same order (``tests/test_kernels.py`` compares them).
"""

from __future__ import annotations

import bisect
import heapq
import math
from typing import Protocol

import numpy as np

from fundsim.sim.event_draws import EventDraws, float_key

#: What :meth:`PureNight.advance` hands back: no event is left before the day; the core's departure
#: (a caseload person's planned end of stay) is next; a due admission is next.
NOTHING, CORE_DEPARTURE, DUE = 0, 1, 2

#: Event kinds the ward counts (the first index of its ``counts``).
(REFUSED, UP_ESCALATED, UP_AVOIDED, GP_ESCALATED, GP_AVOIDED, DOWN, HOME, FROM_WARD, FROM_WARD_GP) = range(9)
N_KINDS = 9
#: Sums the ward keeps in event order (the first index of its ``values``).
V_STAY_DAYS, V_BED_DAYS_SAVED, V_BED_DAYS_SAVED_STEP_DOWN = range(3)
N_VALUES = 3


class NightEngine(Protocol):
    """What :class:`~fundsim.sim.virtual_ward.VirtualWardService` asks of a night engine (both have it all)."""

    counts: np.ndarray
    values: np.ndarray
    occupied: np.ndarray

    def next_seq(self) -> int: ...  # noqa: D102 - as PureNight's
    def offered(self, loc: np.ndarray, t: np.ndarray, share: float) -> list[int]: ...  # noqa: D102
    def push_step_down(self, t: float, length: float, saved: float, loc: int) -> None: ...  # noqa: D102
    def append_ended(self, loc: int, start: float, end: float) -> None: ...  # noqa: D102
    def take_ended(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...  # noqa: D102
    def open_stays(self) -> list[tuple[int, int, float, float]]: ...  # noqa: D102
    def nothing_before(self, day: int) -> bool: ...  # noqa: D102
    def advance(self, day: int, t_core: float, q_core: int, t_due: float) -> int: ...  # noqa: D102


class PureNight:
    """The outside stays' events in Python: a cursor over the GP step-ups and two heaps.

    ``gp`` holds the GP step-ups as rows (time, seq, locality, ward stay days, hospital days avoided,
    when in the stay an escalated one is admitted (NaN: never)), sorted by time, then seq. ``counts``
    (kind × locality × month column), ``values`` (sum × locality × month column) and ``occupied`` (by
    locality) are the service's arrays, added to here; ``bounds`` are the month starts (and the
    end), whose ``bisect_right`` is a time's month column (the month index plus one, 0 in the warm-up).
    ``draws`` and ``step_down_prefixes`` (the hash state of the step-down keys' start, by locality)
    give the step-down offers' uniforms.
    """

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
        self._draws, self._step_down_prefixes = draws, step_down_prefixes
        self._gp = [(t, int(q), int(loc), length, other, when) for t, q, loc, length, other, when in gp.T.tolist()]
        self._next_gp = 0
        self._places = places
        self._bounds = bounds.tolist()
        self.counts, self.values, self.occupied = counts, values, occupied
        self._seq = first_seq
        self._out: list[tuple[float, int, int, float, bool]] = []  # open stays: (end, seq, loc, start, escalated)
        self._step_downs: list[tuple[float, int, int, float, float]] = []  # (time, seq, loc, stay days, days saved)
        self._ended: list[tuple[int, float, float]] = []  # stays ended since the last take: (loc, start, end)

    def next_seq(self) -> int:
        """The next sequence number (the ward's order of creation)."""
        seq = self._seq
        self._seq = seq + 1
        return seq

    def offered(self, loc: np.ndarray, t: np.ndarray, share: float) -> list[int]:
        """Which of the admissions at times ``t`` of localities ``loc`` are offered a step-down (positions).

        Admission ``j``'s uniform is ``draws.uniform_after(step_down_prefixes[loc[j]], (float_key(t[j]),))``;
        it is offered when that is below ``share``.
        """
        draws, prefixes = self._draws, self._step_down_prefixes
        return [
            j
            for j, (i, when) in enumerate(zip(loc.tolist(), t.tolist(), strict=True))
            if draws.uniform_after(prefixes[i], (float_key(when),)) < share
        ]

    def push_step_down(self, t: float, length: float, saved: float, loc: int) -> None:
        """A step-down arriving at ``t`` in locality ``loc`` for ``length`` days, ``saved`` hospital days saved."""
        heapq.heappush(self._step_downs, (t, self.next_seq(), loc, length, saved))

    def append_ended(self, loc: int, start: float, end: float) -> None:
        """Record a stay ``[start, end)`` of locality ``loc`` for the occupied place-days."""
        self._ended.append((loc, start, end))

    def take_ended(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stays ended since the last take, in order: locality, start and end arrays."""
        ended, self._ended = self._ended, []
        if not ended:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        locs, starts, ends = zip(*ended, strict=True)
        return np.array(locs, dtype=np.int64), np.array(starts), np.array(ends)

    def open_stays(self) -> list[tuple[int, int, float, float]]:
        """The open outside stays: (locality, seq, start, planned end)."""
        return [(loc, seq, start, end) for end, seq, loc, start, _ in self._out]

    def nothing_before(self, day: int) -> bool:
        """Whether no outside event is due before the start of ``day``."""
        if self._out and self._out[0][0] <= day:
            return False
        if self._next_gp < len(self._gp) and self._gp[self._next_gp][0] < day:
            return False
        return not (self._step_downs and self._step_downs[0][0] < day)

    def advance(self, day: int, t_core: float, q_core: int, t_due: float) -> int:
        """Take the outside events before ``day`` that come before the core's next event; say what is next.

        ``(t_core, q_core)`` is the (end, seq) of the first planned end of a caseload person's stay
        at or before ``day`` (``inf`` if none), ``t_due`` the first due admission's time (``inf`` if
        none). Returns :data:`NOTHING`, :data:`CORE_DEPARTURE` or :data:`DUE`.
        """
        inf = math.inf
        out, step_downs, gp, n_gp = self._out, self._step_downs, self._gp, len(self._gp)
        counts, values, occupied, places, bounds = self.counts, self.values, self.occupied, self._places, self._bounds
        pop, push, bisect_right = heapq.heappop, heapq.heappush, bisect.bisect_right
        while True:
            # The first departure: the outside stays' (if due by the start of the day) or the core's.
            t_dep, outside_dep = t_core, False
            if out:
                end, seq = out[0][0], out[0][1]
                if end <= day and (end < t_core or (end == t_core and seq < q_core)):
                    t_dep, outside_dep = end, True
            # The first arrival before the day: a GP step-up or a step-down, by (time, seq).
            g = self._next_gp
            t_arr, from_gp = inf, False
            if g < n_gp and gp[g][0] < day:
                t_arr, from_gp = gp[g][0], True
            if step_downs and step_downs[0][0] < day and (not from_gp or step_downs[0][:2] < gp[g][:2]):
                t_arr, from_gp = step_downs[0][0], False
            if t_dep == inf and t_due == inf and t_arr == inf:
                return NOTHING
            if t_dep <= t_due and t_dep <= t_arr:  # a departure first at equal times
                if not outside_dep:
                    return CORE_DEPARTURE
                end, _, loc, start, escalated = pop(out)
                occupied[loc] -= 1
                self._ended.append((loc, start, end))
                col = bisect_right(bounds, end)
                counts[FROM_WARD_GP if escalated else HOME, loc, col] += 1
                values[V_STAY_DAYS, loc, col] += end - start
                continue
            if t_due <= t_arr:
                return DUE
            # An arrival: onto the ward if a place is free, else refused.
            if from_gp:
                t, _, loc, length, other, when = gp[g]
                self._next_gp = g + 1
            else:
                t, _, loc, length, other = pop(step_downs)
                when = math.nan
            col = bisect_right(bounds, t)
            if occupied[loc] >= places[loc]:
                counts[REFUSED, loc, col] += 1
                continue
            escalated = False
            if from_gp:
                escalated = not math.isnan(when)  # admitted from the ward part-way through the stay
                if escalated:
                    end = t + when * length
                    counts[GP_ESCALATED, loc, col] += 1
                else:
                    end = t + length
                    counts[GP_AVOIDED, loc, col] += 1
                    values[V_BED_DAYS_SAVED, loc, col] += other  # the hospital stay it would have been
            else:
                end = t + length
                counts[DOWN, loc, col] += 1
                values[V_BED_DAYS_SAVED, loc, col] += other
                values[V_BED_DAYS_SAVED_STEP_DOWN, loc, col] += other
            # A stay's sequence numbers: one for its key, one for its planned end (the order of creation).
            seq = self._seq + 1
            self._seq = seq + 1
            push(out, (end, seq, loc, t, escalated))
            occupied[loc] += 1


__all__ = [
    "CORE_DEPARTURE",
    "DUE",
    "NOTHING",
    "NightEngine",
    "PureNight",
]
