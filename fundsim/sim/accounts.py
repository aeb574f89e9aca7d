"""Monthly accumulators the simulation writes into: one row per locality, one column per month.

The simulation only adds numbers here; turning them into the tidy ledger table is
:mod:`fundsim.sim.ledger`'s job.
"""

from __future__ import annotations

import bisect

import numpy as np

from fundsim.columns import (
    SNAPSHOT_METRICS,
    SUM_METRICS,
    URGENT_KPI_DAYS,
    WAIT_BANDS_WEEKS,
    source_columns,
    tier_columns,
    wait_band_names,
)
from fundsim.sim.calendar import Calendar

# The ledger's column names live in fundsim.columns; re-exported here for the simulation's own use.
__all__ = [
    "SNAPSHOT_METRICS",
    "SUM_METRICS",
    "URGENT_KPI_DAYS",
    "WAIT_BANDS_WEEKS",
    "Accounts",
    "DailyArraySums",
    "DailySums",
    "accounts_class",
    "source_columns",
    "tier_columns",
    "wait_band_names",
]


class Accounts:
    """Per-locality, per-month sums, snapshots and wait samples of one replication.

    Every array is ``(n_localities, n_months)``. The model works on all localities at once, so
    each method takes the locality of every item (``loc``) and adds by locality with one
    ``bincount``; warm-up and post-horizon times are ignored.
    """

    def __init__(
        self, calendar: Calendar, n_localities: int, sources: tuple[str, ...] = (), tiers: tuple[str, ...] = ()
    ) -> None:
        self.calendar = calendar
        self.n_localities = n_localities
        n = calendar.n_months
        self.sources = sources
        self.tiers = tiers
        shape = (n_localities, n)
        self.sums = {m: np.zeros(shape) for m in (*SUM_METRICS, *source_columns(sources), *tier_columns(tiers))}
        self.snapshots = {m: np.zeros(shape) for m in (*SNAPSHOT_METRICS, *wait_band_names())}
        # Each month's waits for assessment as recorded, one (localities, waits) pair per call: split by
        # locality only when read (waits_of), not on each of a run's thousand-odd assessment days.
        self._waits: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n)]
        self._bounds = calendar.month_start_day.astype(float)
        self._bounds_list = self._bounds.tolist()
        self._band_edges_days = np.array(WAIT_BANDS_WEEKS[1:], dtype=float) * 7.0
        #: Summed metrics of optional parts of the model (an add-on service), ledger columns only when present.
        self.extra_metrics: tuple[str, ...] = ()

    def add_metrics(self, names: tuple[str, ...]) -> None:
        """Sum ``names`` too, as ledger columns of their own (an add-on's, present only when configured)."""
        shape = (self.n_localities, self.calendar.n_months)
        for name in names:
            if name in self.sums:
                raise ValueError(f"ledger metric {name!r} is already kept")
            self.sums[name] = np.zeros(shape)
        self.extra_metrics += names

    # -- helpers ---------------------------------------------------------------------------

    def _month_of(self, t_days: float) -> int:
        # bisect on a list: far cheaper than numpy for one scalar
        return bisect.bisect_right(self._bounds_list, t_days) - 1

    def _by_locality(self, loc: np.ndarray, values: np.ndarray | float | None = None) -> np.ndarray:
        """Sum ``values`` (default 1 each) by locality."""
        if values is None or np.ndim(values) == 0:
            counts = np.bincount(loc, minlength=self.n_localities).astype(float)
            return counts if values is None else counts * float(values)
        return np.bincount(loc, weights=values, minlength=self.n_localities)

    # -- adding ------------------------------------------------------------------------------

    def add_day(self, metric: str, day: int, values: np.ndarray | float) -> None:
        """Add ``values`` (one per locality) to ``metric`` in the month of integer ``day``."""
        m = self.calendar.month_of_day[day]
        if m >= 0:
            self.sums[metric][:, m] += values

    def count_day(self, metric: str, day: int, loc: np.ndarray, values: np.ndarray | None = None) -> None:
        """Add one (or ``values``) per item to ``metric`` of the item's locality, in ``day``'s month."""
        m = self.calendar.month_of_day[day]
        if m >= 0 and len(loc):
            self.sums[metric][:, m] += self._by_locality(loc, values)

    def add_times(
        self, metric: str, loc: np.ndarray, t_days: np.ndarray, values: np.ndarray | float | None = None
    ) -> None:
        """Add ``values`` (default 1 each) to ``metric`` by locality in the months of ``t_days``."""
        if len(t_days) == 0:
            return
        n = self.calendar.n_months
        m_lo = self._month_of(float(t_days.min()))
        if m_lo == self._month_of(float(t_days.max())):
            # Fast path: nearly every call's times fall in one month (a day's events).
            if 0 <= m_lo < n:
                self.sums[metric][:, m_lo] += self._by_locality(loc, values)
            return
        months = np.searchsorted(self._bounds, t_days, side="right") - 1
        ok = (months >= 0) & (months < n)
        flat = loc[ok] * n + months[ok]
        if values is None or np.ndim(values) == 0:
            counts = np.bincount(flat, minlength=self.n_localities * n).astype(float)
            if values is not None:
                counts *= float(values)
        else:
            counts = np.bincount(flat, weights=np.asarray(values, dtype=float)[ok], minlength=self.n_localities * n)
        self.sums[metric] += counts.reshape(self.n_localities, n)

    def add_day_by_tier(
        self, metric: str, day: int, loc: np.ndarray, tiers: np.ndarray, values: np.ndarray | None = None
    ) -> None:
        """Add ``values`` (default 1 each) to ``<metric>_tier_<t>`` by locality and tier, on ``day``."""
        m = self.calendar.month_of_day[day]
        if m < 0 or len(tiers) == 0:
            return
        n_t = len(self.tiers)
        totals = np.bincount(loc * n_t + tiers, weights=values, minlength=self.n_localities * n_t)
        totals = totals.reshape(self.n_localities, n_t)
        for t, name in enumerate(self.tiers):
            self.sums[f"{metric}_tier_{name}"][:, m] += totals[:, t]

    def add_times_by_tier(self, metric: str, loc: np.ndarray, t_days: np.ndarray, tiers: np.ndarray) -> None:
        """Count items to ``<metric>_tier_<t>`` by locality, tier and the month of ``t_days``."""
        for t, name in enumerate(self.tiers):
            sel = tiers == t
            self.add_times(f"{metric}_tier_{name}", loc[sel], t_days[sel])

    def add_area(self, metric: str, loc: np.ndarray, start_days: np.ndarray, end_days: np.ndarray) -> None:
        """Add the person-days of intervals ``[start, end)`` to the months they overlap."""
        if len(start_days) == 0:
            return
        m = self._month_of(float(start_days.min()))
        if m == self._month_of(float(end_days.max())):
            # Fast path: every interval inside one month (or all outside the horizon).
            if 0 <= m < self.calendar.n_months:
                self.sums[metric][:, m] += self._by_locality(loc, np.clip(end_days - start_days, 0.0, None))
            return
        # Clip to the horizon, then split each interval into its first month's part, its last
        # month's part and the whole months between (counted with a difference array), so the
        # cost does not grow with the number of months.
        n, b = self.calendar.n_months, self._bounds
        s = np.maximum(start_days, b[0])
        e = np.minimum(end_days, b[-1])
        ok = e > s
        s, e, loc = s[ok], e[ok], loc[ok]
        if len(s) == 0:
            return
        ms = np.searchsorted(b, s, side="right") - 1
        me = np.minimum(np.searchsorted(b, e, side="left") - 1, n - 1)  # the month holding e's last moment
        size = self.n_localities * n
        same = ms == me
        part = np.where(same, e - s, b[ms + 1] - s)
        area = np.bincount(loc * n + ms, weights=part, minlength=size)
        multi = ~same
        if multi.any():
            lm, mse, mee = loc[multi], ms[multi], me[multi]
            area += np.bincount(lm * n + mee, weights=e[multi] - b[mee], minlength=size)
            # Whole months strictly between: +1 from ms+1, -1 from me, summed along months.
            diff = np.bincount(lm * (n + 1) + mse + 1, minlength=self.n_localities * (n + 1)).astype(float)
            diff -= np.bincount(lm * (n + 1) + mee, minlength=self.n_localities * (n + 1))
            whole = np.cumsum(diff.reshape(self.n_localities, n + 1), axis=1)[:, :n]
            area += (whole * np.diff(b)[None, :]).ravel()
        self.sums[metric] += area.reshape(self.n_localities, n)

    def add_at(self, metric: str, loc: int, t_days: float, value: float) -> None:
        """Add ``value`` to ``metric`` of locality ``loc`` in the month of time ``t_days``."""
        m = self._month_of(t_days)
        if 0 <= m < self.calendar.n_months:
            self.sums[metric][loc, m] += value

    def add_waits(self, t_days: float, loc: np.ndarray, waits_days: np.ndarray) -> None:
        """Record waits for assessment that ended at time ``t_days``, by locality."""
        m = self._month_of(t_days)
        if not (0 <= m < self.calendar.n_months) or len(waits_days) == 0:
            return
        self.sums["assessed_without_wait"][:, m] += self._by_locality(loc[waits_days <= 0.0])
        self._waits[m].append((loc, waits_days))

    def wait_calls(self, month: int) -> int:
        """How many times waits ending in ``month`` were recorded (grows whenever samples are added)."""
        return len(self._waits[month])

    def waits_of(self, locality: int, month: int) -> np.ndarray:
        """The waits (days) of ``locality``'s assessments in ``month``, in the order they were recorded."""
        parts = self._waits[month]
        if not parts:
            return np.empty(0)
        loc = np.concatenate([p[0] for p in parts])
        return np.concatenate([p[1] for p in parts])[loc == locality]

    def month_waits(self, month: int) -> np.ndarray:
        """Every locality's waits in ``month``: locality by locality, each in the order recorded."""
        parts = self._waits[month]
        if not parts:
            return np.empty(0)
        loc = np.concatenate([p[0] for p in parts])
        return np.concatenate([p[1] for p in parts])[np.argsort(loc, kind="stable")]

    def snapshot(self, month: int, caseload_loc: np.ndarray, waiting_loc: np.ndarray, ages_days: np.ndarray) -> None:
        """Month-end snapshot of the lists, with the waiting list by SitRep band."""
        self.snapshots["caseload_end"][:, month] = self._by_locality(caseload_loc)
        self.snapshots["waiting_list_end"][:, month] = self._by_locality(waiting_loc)
        n_bands = len(WAIT_BANDS_WEEKS)
        # Bands are [lo, hi) in days, as np.histogram's (the last band is open).
        band = np.searchsorted(self._band_edges_days, ages_days, side="right")
        counts = np.bincount(waiting_loc * n_bands + band, minlength=self.n_localities * n_bands)
        counts = counts.reshape(self.n_localities, n_bands)
        for b, name in enumerate(wait_band_names()):
            self.snapshots[name][:, month] = counts[:, b]


class _MonthSums:
    """Running sums of one month, by metric and locality, added to the accounts at the month's close.

    The month bookkeeping shared by :class:`DailySums` and :class:`DailyArraySums`; a subclass holds
    the sums and adds them (:meth:`_add_month`).
    """

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts
        self._month_of_day = accounts.calendar.month_of_day.tolist()
        self._month = -1

    def start(self, day: int) -> bool:
        """Ready the sums for integer ``day``'s month; ``False`` in the warm-up, whose days are not kept."""
        month = self._month_of_day[day]
        if month < 0:
            return False
        if month != self._month:
            self.flush()
            self._month = month
        return True

    def flush(self) -> None:
        """Add the month's running sums to the accounts and start again from zero."""
        if self._month < 0:
            return
        self._add_month(self._accounts.sums, self._month)
        self._month = -1

    def _add_month(self, sums: dict[str, np.ndarray], month: int) -> None:
        raise NotImplementedError


class DailySums(_MonthSums):
    """Daily per-locality additions to metrics one part of the model alone writes, added once a month.

    :meth:`Accounts.add_day` adds a day's values to the month's cells, day after day; this keeps
    each month's running sums in Python floats instead and adds them at the month's close
    (:meth:`flush`). A cell no one else writes starts at 0.0, so ``0.0 + (((0.0 + x1) + x2) + ...)``
    is the same float as ``((0.0 + x1) + x2) + ...``: the same sums, bit for bit, without a numpy
    call per metric per day. Warm-up days are not kept, as in ``add_day``.
    """

    def __init__(self, accounts: Accounts, metrics: tuple[str, ...]) -> None:
        super().__init__(accounts)
        self._sums = {metric: [0.0] * accounts.n_localities for metric in metrics}

    def add(self, metric: str, day: int, values: list[float]) -> None:
        """Add ``values`` (one per locality) to ``metric`` in the month of integer ``day``."""
        if not self.start(day):
            return
        sums = self._sums[metric]
        for i, value in enumerate(values):
            sums[i] += value

    def _add_month(self, totals: dict[str, np.ndarray], month: int) -> None:
        for metric, sums in self._sums.items():
            if any(sums):
                totals[metric][:, month] += sums
                self._sums[metric] = [0.0] * len(sums)


class DailyArraySums(_MonthSums):
    """:class:`DailySums` in an array a compiled step adds to: row ``r`` of :attr:`sums` is ``metrics[r]``.

    The compiled add-on steps (:mod:`fundsim.sim.addons_compiled`) add a day's values to the rows in
    day order, after :meth:`start`, as :meth:`DailySums.add` adds them to its lists: the same sums,
    bit for bit.
    """

    def __init__(self, accounts: Accounts, metrics: tuple[str, ...]) -> None:
        super().__init__(accounts)
        self.metrics = metrics
        #: The month's running sums: (metric, locality).
        self.sums = np.zeros((len(metrics), accounts.n_localities))

    def _add_month(self, totals: dict[str, np.ndarray], month: int) -> None:
        for row, metric in enumerate(self.metrics):
            sums = self.sums[row]
            if sums.any():
                totals[metric][:, month] += sums
                sums[:] = 0.0


def accounts_class(kernel: str) -> type[Accounts]:
    """:class:`Accounts` for ``kernel == "pure"``; for ``"compiled"``, its subclass with numba's additions."""
    if kernel == "compiled":
        from fundsim.sim.accounts_compiled import CompiledAccounts  # numba: imported only when chosen

        return CompiledAccounts
    return Accounts
