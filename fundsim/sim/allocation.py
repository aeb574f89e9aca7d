"""The day's allocation: work items in priority order onto each locality's staff time.

A pure function of (work items, capacity by locality × grade): it decides which items are placed
and how many minutes each grade gives, and nothing else. What placing or not placing an item
means (an assessment done, a visit deferred or missed) is the job of the source the item came
from (:mod:`fundsim.sim.work`).

The rule, as district nursing teams plan a day: within each locality, items are taken in priority
order (:class:`~fundsim.sim.work.Priority`, then each source's own keys: first come first served
for assessments, most overdue then most complex for visits), and each goes to the cheapest allowed
grade with time left; an item that does not fit is skipped, and a later, shorter item may still
fill the gap. Rostered time is used first across every allowed grade; only then do staff stay on
(overtime, up to the roster's cap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from fundsim.sim.work import WorkItems


@dataclass(frozen=True)
class Allocation:
    """What one day's allocation decided.

    ``order`` indexes the concatenation of the sources' items (source by source, in the order given)
    in priority order; every other per-item array is in that priority order. ``source_of`` says
    which source (its position) each item came from.
    """

    order: np.ndarray
    source_of: np.ndarray
    slots: np.ndarray
    loc: np.ndarray
    tier: np.ndarray
    f2f_minutes: np.ndarray
    travel_minutes: np.ndarray
    cut_minutes: np.ndarray
    done: np.ndarray  # placed (True) or not
    used_minutes: np.ndarray  # (n_loc, n_grades): rostered and overtime minutes given
    rostered_minutes: np.ndarray  # (n_loc, n_grades)
    overtime_cap_minutes: np.ndarray  # (n_loc, n_grades)
    #: :meth:`of_source`'s answers when already grouped (the compiled allocation): source by source, placed first.
    groups: tuple[np.ndarray, ...] | None = None

    def of_source(self, index: int, placed: bool) -> np.ndarray:
        """Slots of source ``index``'s items that were (``placed``) or were not placed, in priority order."""
        if self.groups is not None:
            return self.groups[2 * index + (0 if placed else 1)]
        return self.slots[(self.source_of == index) & (self.done == placed)]

    def done_minutes_by_locality(self, n_loc: int) -> np.ndarray:
        """Minutes of the placed items (face to face and travel) per locality."""
        minutes = self.f2f_minutes + self.travel_minutes
        return np.bincount(self.loc[self.done], weights=minutes[self.done], minlength=n_loc)


def priority_order(items: Sequence[WorkItems]) -> np.ndarray:
    """Positions of the concatenated items in the day's order: locality, priority, then the sources' keys.

    The sort is stable, so ties keep the order the sources gave.
    """
    loc = np.concatenate([w.loc for w in items])
    priority = np.concatenate([w.priority for w in items])
    key1 = np.concatenate([w.key1 for w in items])
    key2 = np.concatenate([w.key2 for w in items])
    return np.lexsort((key2, key1, priority, loc))


def allocate_day(
    items: Sequence[WorkItems],
    rostered_minutes: np.ndarray,
    overtime_cap_minutes: np.ndarray,
    cells: list[list[list[int]]],
) -> Allocation:
    """Place the day's ``items`` on staff time: rostered minutes first, then overtime up to its cap.

    ``rostered_minutes`` and ``overtime_cap_minutes`` are (locality × grade); ``cells[loc][tier]``
    lists the flat cells (``loc × n_grades + grade``) an item of that tier may use, cheapest first.
    Its compiled twin, the whole day in one call, is :func:`fundsim.sim.allocation_compiled.allocate_day`
    (:func:`day_allocator_for` picks one).
    """
    order = priority_order(items)
    source_of = np.concatenate([np.full(len(w.slots), i, dtype=np.int64) for i, w in enumerate(items)])[order]

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(w, name) for w in items])[order]

    loc = cat("loc")
    tier = cat("tier").astype(np.int64)
    f2f = cat("f2f_minutes")
    travel = cat("travel_minutes")
    minutes = f2f + travel
    done = np.zeros(len(order), dtype=bool)
    spare = allocate(minutes, loc, tier, cells, rostered_minutes.ravel().tolist(), done)
    if done.all():
        spare_ot = overtime_cap_minutes.ravel()
    else:
        spare_ot = np.array(allocate(minutes, loc, tier, cells, overtime_cap_minutes.ravel().tolist(), done))
    used = rostered_minutes + overtime_cap_minutes - (np.array(spare) + spare_ot).reshape(rostered_minutes.shape)
    return Allocation(
        order=order,
        source_of=source_of,
        slots=cat("slots"),
        loc=loc,
        tier=tier,
        f2f_minutes=f2f,
        travel_minutes=travel,
        cut_minutes=cat("cut_minutes"),
        done=done,
        used_minutes=used,
        rostered_minutes=rostered_minutes,
        overtime_cap_minutes=overtime_cap_minutes,
    )


def allocate(
    minutes: np.ndarray,
    loc: np.ndarray,
    tiers: np.ndarray,
    cells: list[list[list[int]]],
    capacity: list[float],
    done: np.ndarray,
) -> list[float]:
    """Give each not-yet-done item, in priority order, to the first allowed grade of its locality with time left.

    ``capacity`` is flat over (locality, grade) *cells*; ``cells[loc][tier]`` lists the cells an
    item may use, cheapest grade first. Items must be grouped by locality. Marks ``done`` in place
    and returns the minutes left per cell. Items that do not fit are skipped (a later, shorter one
    may still fit: nurses fill gaps in the day).

    The rule is sequential (each item sees what the ones before it left), but in each locality
    every item up to some point usually fits its first cell. That prefix is found with a running
    total per cell, vectorised; the item-by-item walk takes over only from the first item of the
    locality that does not fit its first cell. Time left only falls, so an item longer than the
    most any of its cells has left can never be placed, and is not walked.
    """
    remaining = list(capacity)
    todo = np.flatnonzero(~done)
    if len(todo) == 0:
        return remaining
    n_loc, n_tiers = len(cells), len(cells[0])
    first = np.array([[row[0] for row in by_loc] for by_loc in cells], dtype=np.int64).ravel()
    m = minutes[todo]
    lt = loc[todo] * n_tiers + tiers[todo]
    cell = first[lt]
    # Running total of each item's first cell over the items before it (stable sort by cell).
    by_cell = np.argsort(cell, kind="stable")
    cum = np.cumsum(m[by_cell])
    cell_sorted = cell[by_cell]
    starts = np.searchsorted(cell_sorted, np.arange(len(capacity)))
    before = np.concatenate(([0.0], cum))[starts]
    running = np.empty(len(todo))
    running[by_cell] = cum - before[cell_sorted]
    fits = running <= np.asarray(capacity)[cell]
    # Each locality's prefix ends at its first item that does not fit (items are grouped by locality).
    item_loc = loc[todo]
    misfit = np.flatnonzero(~fits)
    stop_pos = np.full(n_loc, len(todo))
    if len(misfit):
        first_misfit = np.unique(item_loc[misfit], return_index=True)
        stop_pos[first_misfit[0]] = misfit[first_misfit[1]]
    placed = np.arange(len(todo)) < stop_pos[item_loc]
    done[todo[placed]] = True
    used = np.bincount(cell[placed], weights=m[placed], minlength=len(capacity))
    remaining = (np.asarray(capacity) - used).tolist()
    rest = np.flatnonzero(~placed)
    if len(rest) == 0:
        return remaining
    most = np.array([[max(remaining[g] for g in row) for row in by_loc] for by_loc in cells]).ravel()
    rest = rest[m[rest] <= most[lt[rest]]]
    for j, mj, lo, t in zip(
        todo[rest].tolist(), m[rest].tolist(), item_loc[rest].tolist(), tiers[todo[rest]].tolist(), strict=True
    ):
        for g in cells[lo][t]:
            if remaining[g] >= mj:
                remaining[g] -= mj
                done[j] = True
                break
    return remaining


#: The signature :func:`allocate_day` and its compiled twin share.
DayAllocator = Callable[[Sequence[WorkItems], np.ndarray, np.ndarray, list[list[list[int]]]], Allocation]


def day_allocator_for(kernel: str) -> DayAllocator:
    """:func:`allocate_day` for ``kernel == "pure"``; for ``"compiled"``, one compiled call (the same allocation)."""
    if kernel == "compiled":
        from fundsim.sim.allocation_compiled import allocate_day as compiled  # numba: imported only when chosen

        return compiled
    return allocate_day


__all__ = [
    "Allocation",
    "DayAllocator",
    "allocate",
    "allocate_day",
    "day_allocator_for",
    "priority_order",
]
