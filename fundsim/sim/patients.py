"""Per-person state of the whole service, held as columns of numpy arrays.

A person is a row (a *slot*); slots of people who have left are reused, so memory grows with the
live caseload and waiting list, not with the horizon. Visit durations are drawn at referral and
kept in a flat buffer addressed by ``visit_offset + visits_done``.
"""

from __future__ import annotations

import math

import numpy as np

from fundsim.sim.hazard import MAX_ADMISSIONS

FREE, WAITING, CASELOAD = 0, 1, 2

_COLUMNS: dict[str, tuple[type[np.generic], float]] = {
    "uid": (np.int64, -1),
    "stage": (np.int8, FREE),
    "locality": (np.int64, 0),
    "tier": (np.int16, 0),
    "urgent": (np.bool_, False),
    "referral_day": (np.float64, 0.0),
    "stage_start_day": (np.float64, 0.0),
    "n_visits": (np.int32, 0),
    "visits_done": (np.int32, 0),
    "next_due_day": (np.int64, 0),
    "due_since_day": (np.int64, 0),
    "interval_days": (np.int64, 1),
    "visit_offset": (np.int64, 0),
    "assessment_minutes": (np.float64, 0.0),
    "assessment_travel_minutes": (np.float64, 0.0),
    "base_hazard": (np.float64, 0.0),
    "multiplier": (np.float64, 1.0),
    "hazard_since_day": (np.float64, 0.0),
    "budget_left": (np.float64, np.inf),
    "k": (np.int8, 0),
    "admission_day": (np.float64, np.inf),
    "raised_until_day": (np.int64, 0),
    "return_day": (np.int64, 0),
    "planned_end_day": (np.float64, 0.0),
    "window_end_day": (np.float64, 0.0),
}


class PatientTable:
    """Columns of per-person state with slot reuse."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = 0
        self.cols: dict[str, np.ndarray] = {}
        self.budgets = np.empty((0, MAX_ADMISSIONS))
        self.ends = np.empty((0, MAX_ADMISSIONS), dtype=np.bool_)
        self.los = np.empty((0, MAX_ADMISSIONS))
        self._free: list[int] = []
        self._grow(capacity)
        self.next_uid = 0

    def _grow(self, new_capacity: int) -> None:
        old = self.capacity
        for name, (dtype, fill) in _COLUMNS.items():
            col = np.full(new_capacity, fill, dtype=dtype)
            if old:
                col[:old] = self.cols[name]
            self.cols[name] = col
        for attr, dtype in (("budgets", np.float64), ("ends", np.bool_), ("los", np.float64)):
            arr = np.zeros((new_capacity, MAX_ADMISSIONS), dtype=dtype)
            arr[:old] = getattr(self, attr)
            setattr(self, attr, arr)
        # Reuse low slots first (popped from the end of the list).
        self._free.extend(range(new_capacity - 1, old - 1, -1))
        self.capacity = new_capacity

    def allocate(self, n: int) -> np.ndarray:
        """Reserve ``n`` slots and give them new unique ids."""
        while len(self._free) < n:
            self._grow(max(2 * self.capacity, self.capacity + n))
        # The last n free slots, last first (as n pops would give them).
        slots = np.array(self._free[len(self._free) - n :][::-1], dtype=np.int64)
        del self._free[len(self._free) - n :]
        self.cols["uid"][slots] = np.arange(self.next_uid, self.next_uid + n)
        self.next_uid += n
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Free ``slots`` for reuse."""
        if len(slots) == 0:
            return
        self.cols["stage"][slots] = FREE
        self.cols["uid"][slots] = -1
        self.cols["admission_day"][slots] = np.inf
        self._free.extend(slots.tolist())

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def live_count(self) -> int:
        """People on the waiting list or caseload."""
        return self.capacity - len(self._free)

    def nbytes(self) -> int:
        """Bytes held by the per-person columns."""
        return sum(c.nbytes for c in self.cols.values()) + self.budgets.nbytes + self.ends.nbytes + self.los.nbytes

    # -- hazard bookkeeping -------------------------------------------------------------

    def set_multiplier(self, slots: np.ndarray, t_days: float, multiplier: np.ndarray | float) -> None:
        """Change the hazard multiplier of ``slots`` at time ``t_days``, keeping the unspent budget."""
        if len(slots) == 0:
            return
        c = self.cols
        spent = c["base_hazard"][slots] * c["multiplier"][slots] * (t_days - c["hazard_since_day"][slots])
        budget = c["budget_left"][slots] - spent
        if (budget < 0).any():
            # Spent already: the admission happened before t_days and waits to be resolved (the
            # continuous path resolves admissions at day boundaries). It stands at its own time;
            # a later hazard cannot move it.
            keep = budget >= 0
            slots, budget = slots[keep], budget[keep]
            if np.ndim(multiplier):
                multiplier = np.asarray(multiplier)[keep]
        c["budget_left"][slots] = budget
        c["hazard_since_day"][slots] = t_days
        c["multiplier"][slots] = multiplier
        self._schedule(slots)

    def _schedule(self, slots: np.ndarray) -> None:
        c = self.cols
        rate = c["base_hazard"][slots] * c["multiplier"][slots]
        with np.errstate(divide="ignore", invalid="ignore"):
            wait = np.where(rate > 0, c["budget_left"][slots] / rate, np.inf)
        c["admission_day"][slots] = c["hazard_since_day"][slots] + wait

    def start_hazard(self, slots: np.ndarray, t_days: np.ndarray | float, multiplier: np.ndarray | float) -> None:
        """Start budget ``k`` of ``slots`` at ``t_days`` under ``multiplier``."""
        c = self.cols
        k = c["k"][slots].astype(np.int64)
        c["budget_left"][slots] = np.where(
            k < MAX_ADMISSIONS, self.budgets[slots, np.minimum(k, MAX_ADMISSIONS - 1)], np.inf
        )
        c["hazard_since_day"][slots] = t_days
        c["multiplier"][slots] = multiplier
        self._schedule(slots)

    # One slot at a time, in Python floats: the same operations in the same order as the methods above
    # (IEEE doubles either way, so the same bits; tests/test_virtual_ward_fast.py compares them). The
    # virtual ward moves one person's hazard per event, where building arrays costs more than the work.

    def set_multiplier_one(self, s: int, t_days: float, multiplier: float) -> None:
        """:meth:`set_multiplier` of one slot ``s``."""
        c = self.cols
        base = float(c["base_hazard"][s])
        budget = float(c["budget_left"][s]) - base * float(c["multiplier"][s]) * (
            t_days - float(c["hazard_since_day"][s])
        )
        if budget < 0:
            return  # spent already: the admission stands at its own time
        c["budget_left"][s] = budget
        c["hazard_since_day"][s] = t_days
        c["multiplier"][s] = multiplier
        self._schedule_one(s, t_days, budget, base * multiplier)

    def start_hazard_one(self, s: int, t_days: float, multiplier: float) -> None:
        """:meth:`start_hazard` of one slot ``s``."""
        c = self.cols
        k = int(c["k"][s])
        budget = float(self.budgets[s, min(k, MAX_ADMISSIONS - 1)]) if k < MAX_ADMISSIONS else math.inf
        c["budget_left"][s] = budget
        c["hazard_since_day"][s] = t_days
        c["multiplier"][s] = multiplier
        self._schedule_one(s, t_days, budget, float(c["base_hazard"][s]) * multiplier)

    def _schedule_one(self, s: int, since: float, budget: float, rate: float) -> None:
        self.cols["admission_day"][s] = since + (budget / rate if rate > 0 else math.inf)

    def budget_at(self, slots: np.ndarray, t_days: float) -> np.ndarray:
        """Unspent budget of ``slots`` at ``t_days`` (without changing state)."""
        c = self.cols
        return c["budget_left"][slots] - c["base_hazard"][slots] * c["multiplier"][slots] * (
            t_days - c["hazard_since_day"][slots]
        )
