"""The monthly accounts' two busiest additions compiled with numba, bit-identical to the pure ones.

:meth:`fundsim.sim.accounts.Accounts.add_times` and :meth:`~fundsim.sim.accounts.Accounts.add_area`
are called tens of thousands of times a replication, mostly with a handful of items, so their cost
is numpy's per-call overhead, not arithmetic. :class:`CompiledAccounts` does each in one compiled
call with the same floating-point operations in the same order:

* ``add_times``: per (locality, month) cell, the items' weights summed in item order from zero (as
  ``np.bincount`` sums them), or the count times a scalar weight, then added to the month's total;
* ``add_area``: an interval inside one month adds its length by locality (the pure fast path);
  otherwise, as the pure path does, each interval's first-month part, then its last-month part,
  then the whole months between (count × month length) are summed per cell before one addition.

Adding a cell's zero (``+0.0``) to a total that is never ``-0.0`` changes nothing, so touching only
the cells an item falls in gives the same totals as the pure path's whole-array additions.
Imported only when numba is installed (:mod:`fundsim.sim.kernels`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fundsim.sim.accounts import Accounts

#: How ``add_times`` weights its items: one each, one scalar each, or an array of weights.
_ONES, _SCALAR, _ARRAY = 0, 1, 2


@njit(cache=True, nogil=True)
def _add_times(
    sums: np.ndarray, bounds: np.ndarray, loc: np.ndarray, t: np.ndarray, mode: int, scalar: float, weights: np.ndarray
) -> None:  # pragma: no cover - compiled; tests/test_kernels.py compares it with the pure path
    n_loc, n = sums.shape
    total = np.zeros(n_loc * n)
    count = np.zeros(n_loc * n, np.int64)
    months = np.searchsorted(bounds, t, side="right") - 1
    for i in range(t.shape[0]):
        m = months[i]
        if m < 0 or m >= n:
            continue
        c = loc[i] * n + m
        if mode == _ARRAY:
            total[c] += weights[i]
        else:
            count[c] += 1
    for c in range(n_loc * n):
        if count[c] == 0 and total[c] == 0.0:
            continue
        if mode == _ONES:
            value = float(count[c])
        elif mode == _SCALAR:
            value = float(count[c]) * scalar
        else:
            value = total[c]
        sums[c // n, c % n] += value


@njit(cache=True, nogil=True)
def _add_area(
    sums: np.ndarray, bounds: np.ndarray, loc: np.ndarray, start: np.ndarray, end: np.ndarray
) -> None:  # pragma: no cover - compiled; tests/test_kernels.py compares it with the pure path
    n_loc, n = sums.shape
    m_lo = np.searchsorted(bounds, start.min(), side="right") - 1
    m_hi = np.searchsorted(bounds, end.max(), side="right") - 1
    if m_lo == m_hi:  # every interval inside one month (or all outside the horizon)
        if 0 <= m_lo < n:
            by_loc = np.zeros(n_loc)
            for i in range(start.shape[0]):
                by_loc[loc[i]] += max(end[i] - start[i], 0.0)
            for j in range(n_loc):
                sums[j, m_lo] += by_loc[j]
        return
    first = np.zeros(n_loc * n)
    last = np.zeros(n_loc * n)
    diff = np.zeros(n_loc * (n + 1), np.int64)
    any_multi = False
    b0, b_end = bounds[0], bounds[n]
    for i in range(start.shape[0]):
        s = max(start[i], b0)
        e = min(end[i], b_end)
        if not e > s:
            continue
        ms = np.searchsorted(bounds, s, side="right") - 1
        me = min(np.searchsorted(bounds, e, side="left") - 1, n - 1)  # the month holding e's last moment
        if ms == me:
            first[loc[i] * n + ms] += e - s
        else:
            any_multi = True
            first[loc[i] * n + ms] += bounds[ms + 1] - s
            last[loc[i] * n + me] += e - bounds[me]
            diff[loc[i] * (n + 1) + ms + 1] += 1
            diff[loc[i] * (n + 1) + me] -= 1
    for j in range(n_loc):
        whole = 0
        for m in range(n):
            c = j * n + m
            area = first[c]
            if any_multi:
                area += last[c]
                whole += diff[j * (n + 1) + m]
                area += float(whole) * (bounds[m + 1] - bounds[m])
            sums[j, m] += area


class CompiledAccounts(Accounts):
    """:class:`.Accounts` with ``add_times`` and ``add_area`` compiled: same totals, bit for bit."""

    def add_times(
        self, metric: str, loc: np.ndarray, t_days: np.ndarray, values: np.ndarray | float | None = None
    ) -> None:
        """Add ``values`` (default 1 each) to ``metric`` by locality in the months of ``t_days``."""
        if len(t_days) == 0:
            return
        if values is None:
            mode, scalar, weights = _ONES, 0.0, _NO_WEIGHTS
        elif np.ndim(values) == 0:
            mode, scalar, weights = _SCALAR, float(values), _NO_WEIGHTS
        else:
            mode, scalar, weights = _ARRAY, 0.0, np.ascontiguousarray(values, dtype=np.float64)
        _add_times(
            self.sums[metric],
            self._bounds,
            np.ascontiguousarray(loc, dtype=np.int64),
            np.ascontiguousarray(t_days, dtype=np.float64),
            mode,
            scalar,
            weights,
        )

    def add_area(self, metric: str, loc: np.ndarray, start_days: np.ndarray, end_days: np.ndarray) -> None:
        """Add the person-days of intervals ``[start, end)`` to the months they overlap."""
        if len(start_days) == 0:
            return
        _add_area(
            self.sums[metric],
            self._bounds,
            np.ascontiguousarray(loc, dtype=np.int64),
            np.ascontiguousarray(start_days, dtype=np.float64),
            np.ascontiguousarray(end_days, dtype=np.float64),
        )


_NO_WEIGHTS = np.zeros(0)

__all__ = ["CompiledAccounts"]
