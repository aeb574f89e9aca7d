"""The day's allocation compiled with numba: the same rule and the same arithmetic as the pure path.

:func:`fundsim.sim.allocation.allocate` is the reference. This module does what it does, in the same
floating-point order, so the two give bit-identical placements and minutes left:

* each item's running total on its first cell is taken, as the pure path does, from one running sum
  over the items sorted (stably) by cell, less that sum at the start of the item's cell;
* the minutes used by the placed prefix are summed per cell in item order (as ``np.bincount``
  does) and subtracted from the capacity once;
* the walk then takes the remaining items in order, each to the first of its cells with time left.

The pure path skips items longer than the most any of their cells has left; those can never be
placed (time left only falls), so walking them instead changes nothing. Imported only when numba is
installed (:mod:`fundsim.sim.kernels`); the first call compiles, and the machine code is cached on disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from fundsim.sim.allocation import Allocation
from fundsim.sim.work import WorkItems


@njit(cache=True, nogil=True)
def _allocate(
    minutes: np.ndarray,
    loc: np.ndarray,
    tiers: np.ndarray,
    cells: np.ndarray,
    n_tiers: int,
    n_loc: int,
    capacity: np.ndarray,
    done: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; tests/test_kernels.py compares it with the pure path
    n_cap = capacity.shape[0]
    remaining = capacity.copy()
    todo = np.flatnonzero(~done)
    nt = todo.shape[0]
    if nt == 0:
        return remaining
    m = np.empty(nt)
    cell = np.empty(nt, np.int64)
    item_loc = np.empty(nt, np.int64)
    row = np.empty(nt, np.int64)
    for j in range(nt):
        i = todo[j]
        m[j] = minutes[i]
        item_loc[j] = loc[i]
        row[j] = loc[i] * n_tiers + tiers[i]
        cell[j] = cells[row[j], 0]
    # A stable counting sort by first cell, and the running sum in that order (np.cumsum's order).
    start = np.zeros(n_cap + 1, np.int64)
    for j in range(nt):
        start[cell[j] + 1] += 1
    for c in range(n_cap):
        start[c + 1] += start[c]
    fill = start.copy()
    by_cell = np.empty(nt, np.int64)
    for j in range(nt):
        by_cell[fill[cell[j]]] = j
        fill[cell[j]] += 1
    cum = np.empty(nt)
    total = 0.0
    for q in range(nt):
        total += m[by_cell[q]]
        cum[q] = total
    # Each locality's prefix ends at its first item that does not fit its first cell.
    stop = np.full(n_loc, nt, np.int64)
    for q in range(nt):
        j = by_cell[q]
        s = start[cell[j]]
        before = cum[s - 1] if s > 0 else 0.0
        if not (cum[q] - before <= capacity[cell[j]]) and j < stop[item_loc[j]]:
            stop[item_loc[j]] = j
    used = np.zeros(n_cap)
    placed = np.zeros(nt, np.bool_)
    for j in range(nt):
        if j < stop[item_loc[j]]:
            placed[j] = True
            done[todo[j]] = True
            used[cell[j]] += m[j]
    for c in range(n_cap):
        remaining[c] = capacity[c] - used[c]
    for j in range(nt):
        if placed[j]:
            continue
        mj = m[j]
        for k in range(cells.shape[1]):
            g = cells[row[j], k]
            if g < 0:
                break
            if remaining[g] >= mj:
                remaining[g] -= mj
                done[todo[j]] = True
                break
    return remaining


@njit(cache=True, nogil=True)
def _merge_by_keys(
    out: np.ndarray, lo: int, hi: int, key1: np.ndarray, key2: np.ndarray
) -> None:  # pragma: no cover - compiled; tests/test_kernels.py compares it with np.lexsort
    """Sort the indices ``out[lo:hi]`` by ``(key1, key2)`` in place, keeping ties in order (a bottom-up merge sort)."""
    n = hi - lo
    if n < 2:
        return
    src = out[lo:hi].copy()
    dst = np.empty(n, np.int64)
    width = 1
    while width < n:
        i = 0
        while i < n:
            mid, end = min(i + width, n), min(i + 2 * width, n)
            a, b, k = i, mid, i
            while a < mid and b < end:
                x, y = src[a], src[b]
                if key1[y] < key1[x] or (key1[y] == key1[x] and key2[y] < key2[x]):
                    dst[k] = y
                    b += 1
                else:
                    dst[k] = x
                    a += 1
                k += 1
            while a < mid:
                dst[k] = src[a]
                a += 1
                k += 1
            while b < end:
                dst[k] = src[b]
                b += 1
                k += 1
            i += 2 * width
        src, dst = dst, src
        width *= 2
    out[lo:hi] = src


@njit(cache=True, nogil=True)
def _order(
    loc: np.ndarray, priority: np.ndarray, key1: np.ndarray, key2: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; tests/test_kernels.py compares it with np.lexsort
    n = loc.shape[0]
    n_pri = 0
    n_loc = 0
    for i in range(n):
        n_pri = max(n_pri, priority[i] + 1)
        n_loc = max(n_loc, loc[i] + 1)
    # Stable counting sort by (locality, priority): both are small non-negative integers.
    n_groups = n_loc * n_pri
    start = np.zeros(n_groups + 1, np.int64)
    for i in range(n):
        start[loc[i] * n_pri + priority[i] + 1] += 1
    for g in range(n_groups):
        start[g + 1] += start[g]
    fill = start[:n_groups].copy()
    out = np.empty(n, np.int64)
    for i in range(n):
        g = loc[i] * n_pri + priority[i]
        out[fill[g]] = i
        fill[g] += 1
    # Then each group by (key1, key2), stably, as lexsort does.
    for g in range(n_groups):
        _merge_by_keys(out, start[g], start[g + 1], key1, key2)
    return out


def priority_order(items: Sequence[WorkItems]) -> np.ndarray:
    """:func:`fundsim.sim.allocation.priority_order`, compiled: the same permutation.

    ``np.lexsort`` is a stable sort on (locality, priority, key1, key2); so is a stable counting sort
    on the two small integer keys followed by a stable merge sort on the two float keys within each
    group. A stable sort's result is unique, so the two agree item for item.
    """
    return _order(
        np.concatenate([w.loc for w in items]).astype(np.int64, copy=False),
        np.concatenate([w.priority for w in items]).astype(np.int64, copy=False),
        np.concatenate([w.key1 for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.key2 for w in items]).astype(np.float64, copy=False),
    )


@njit(cache=True, nogil=True)
def _allocate_day(
    loc: np.ndarray,
    priority: np.ndarray,
    key1: np.ndarray,
    key2: np.ndarray,
    tier: np.ndarray,
    f2f: np.ndarray,
    travel: np.ndarray,
    cut: np.ndarray,
    slots: np.ndarray,
    source_of: np.ndarray,
    n_sources: int,
    cells: np.ndarray,
    n_tiers: int,
    n_loc: int,
    rostered: np.ndarray,
    overtime_cap: np.ndarray,
) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled; the reference is fundsim.sim.allocation.allocate_day
    order = _order(loc, priority, key1, key2)
    n = order.shape[0]
    # Few arrays out (numba boxes each returned array, about a microsecond apiece): rows of two tables.
    ints = np.empty((5, n), np.int64)  # order, source, slot, locality, tier
    floats = np.empty((3, n))  # face to face, travel, cut minutes
    minutes = np.empty(n)
    for q in range(n):
        i = order[q]
        ints[0, q] = i
        ints[1, q] = source_of[i]
        ints[2, q] = slots[i]
        ints[3, q] = loc[i]
        ints[4, q] = tier[i]
        floats[0, q] = f2f[i]
        floats[1, q] = travel[i]
        floats[2, q] = cut[i]
        minutes[q] = f2f[i] + travel[i]
    done = np.zeros(n, np.bool_)
    o_loc, o_tier = ints[3], ints[4]
    spare = _allocate(minutes, o_loc, o_tier, cells, n_tiers, n_loc, rostered, done)
    all_done = True
    for q in range(n):
        all_done &= done[q]
    if all_done:  # nobody stays on
        spare_ot = overtime_cap.copy()
    else:
        spare_ot = _allocate(minutes, o_loc, o_tier, cells, n_tiers, n_loc, overtime_cap, done)
    used = np.empty(rostered.shape[0])
    for c in range(rostered.shape[0]):
        used[c] = rostered[c] + overtime_cap[c] - (spare[c] + spare_ot[c])
    # Each source's slots placed, then not placed, in priority order: Allocation.of_source's groups.
    bounds = np.zeros(2 * n_sources + 1, np.int64)
    for q in range(n):
        bounds[2 * ints[1, q] + (0 if done[q] else 1) + 1] += 1
    for g in range(2 * n_sources):
        bounds[g + 1] += bounds[g]
    fill = bounds[: 2 * n_sources].copy()
    grouped = np.empty(n, np.int64)
    for q in range(n):
        g = 2 * ints[1, q] + (0 if done[q] else 1)
        grouped[fill[g]] = ints[2, q]
        fill[g] += 1
    return ints, floats, done, used, grouped, bounds


def allocate_day(
    items: Sequence[WorkItems],
    rostered_minutes: np.ndarray,
    overtime_cap_minutes: np.ndarray,
    cells: list[list[list[int]]],
) -> Allocation:
    """:func:`fundsim.sim.allocation.allocate_day` with the compiled allocator and order, in one call."""
    rostered = np.ascontiguousarray(rostered_minutes, dtype=np.float64)
    overtime = np.ascontiguousarray(overtime_cap_minutes, dtype=np.float64)
    ints, floats, done, used, grouped, bounds = _allocate_day(
        np.concatenate([w.loc for w in items]).astype(np.int64, copy=False),
        np.concatenate([w.priority for w in items]).astype(np.int64, copy=False),
        np.concatenate([w.key1 for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.key2 for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.tier for w in items]).astype(np.int64, copy=False),
        np.concatenate([w.f2f_minutes for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.travel_minutes for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.cut_minutes for w in items]).astype(np.float64, copy=False),
        np.concatenate([w.slots for w in items]).astype(np.int64, copy=False),
        np.concatenate([np.full(len(w.slots), i, dtype=np.int64) for i, w in enumerate(items)]),
        len(items), cell_table(cells), len(cells[0]), len(cells), rostered.ravel(), overtime.ravel(),
    )  # fmt: skip
    b = bounds.tolist()
    return Allocation(
        order=ints[0],
        source_of=ints[1],
        slots=ints[2],
        loc=ints[3],
        tier=ints[4],
        f2f_minutes=floats[0],
        travel_minutes=floats[1],
        cut_minutes=floats[2],
        done=done,
        used_minutes=used.reshape(rostered_minutes.shape),
        rostered_minutes=rostered_minutes,
        overtime_cap_minutes=overtime_cap_minutes,
        groups=tuple(grouped[b[g] : b[g + 1]] for g in range(len(b) - 1)),
    )


#: The last ``cells`` converted (a copy, compared by value) and its table: a run passes the same cells every day.
_last_cells: tuple[list[list[list[int]]] | None, np.ndarray] = (None, np.zeros((0, 0), dtype=np.int64))


def cell_table(cells: list[list[list[int]]]) -> np.ndarray:
    """``cells[loc][tier]`` as one array: row ``loc × n_tiers + tier``, cheapest cell first, ``-1`` after the last."""
    global _last_cells
    if _last_cells[0] == cells:
        return _last_cells[1]
    rows = [row for by_loc in cells for row in by_loc]
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    _last_cells = ([[list(row) for row in by_loc] for by_loc in cells], out)
    return out


def allocate(
    minutes: np.ndarray,
    loc: np.ndarray,
    tiers: np.ndarray,
    cells: list[list[list[int]]],
    capacity: list[float],
    done: np.ndarray,
) -> list[float]:
    """:func:`fundsim.sim.allocation.allocate`, compiled: same arguments, same results, bit for bit."""
    remaining = _allocate(
        np.ascontiguousarray(minutes, dtype=np.float64),
        np.ascontiguousarray(loc, dtype=np.int64),
        np.ascontiguousarray(tiers, dtype=np.int64),
        cell_table(cells),
        len(cells[0]),
        len(cells),
        np.asarray(capacity, dtype=np.float64),
        done,
    )
    return remaining.tolist()


__all__ = ["allocate", "allocate_day", "cell_table", "priority_order"]
