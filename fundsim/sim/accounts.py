"""Monthly accumulators the simulation writes into (one per locality).

The simulation only adds numbers here; turning them into the tidy ledger table is
:mod:`fundsim.ledger`'s job.
"""

from __future__ import annotations

import bisect
import itertools

import numpy as np

from fundsim.sim.calendar import Calendar

#: Metrics summed over a month. Units are in the names.
SUM_METRICS = (
    "referrals",
    "referrals_urgent",
    "referrals_declined",
    "assessments",
    "assessed_without_wait",
    "visits_due",
    "visits_delivered",
    "visit_deferrals",
    "visits_missed",
    "visits_cancelled",
    "contact_hours",
    "travel_hours",
    "rostered_hours",
    "paid_hours",
    "overtime_hours",
    "paid_overtime_hours",
    "unpaid_overtime_hours",
    "staff_cost_gbp",
    "discharges",
    "episodes_ended_by_admission",
    "admissions",
    "admissions_from_caseload",
    "admissions_from_waiting_list",
    "admissions_after_discharge",
    "admissions_declined_referrals",
    "bed_days",
    "hospital_cost_gbp",
    "counterfactual_admissions",
    "caseload_days",
    "waiting_list_days",
    "caseload_entries",
    "urgent_assessments",
    "urgent_assessed_within_2_days",
)

#: Per-tier metrics, one column per tier: ``<metric>_tier_<tier name>``. Contracts priced by tier
#: (cost and volume) and risk adjustment by case mix (outcomes) read these.
TIER_METRICS = ("referrals", "contacts", "contact_hours", "episodes")

#: An urgent referral assessed within this many days of referral meets the urgent-response KPI.
#: (The daily model resolves days, not hours, so the 2-hour urgent community response standard
#: becomes "by the end of the next working day or the one after".)
URGENT_KPI_DAYS = 2

#: Metrics read at the end of a month (a snapshot).
SNAPSHOT_METRICS = ("caseload_end", "waiting_list_end")

#: Waiting-list bands in weeks, as in NHS England's community services SitRep.
WAIT_BANDS_WEEKS = (0, 1, 2, 4, 12, 18, 52)


def source_columns(sources: tuple[str, ...]) -> list[str]:
    """Ledger columns counting referrals by source, e.g. ``referrals_from_gp``."""
    return [f"referrals_from_{s}" for s in sources]


def tier_columns(tiers: tuple[str, ...]) -> list[str]:
    """Ledger columns of the per-tier metrics, e.g. ``contacts_tier_high``."""
    return [f"{metric}_tier_{t}" for metric in TIER_METRICS for t in tiers]


def wait_band_names() -> list[str]:
    """Column names of the waiting-list bands, e.g. ``waiting_4_12_weeks``."""
    edges = [*WAIT_BANDS_WEEKS, None]
    return [
        f"waiting_{lo}_{hi}_weeks" if hi is not None else f"waiting_{lo}_plus_weeks"
        for lo, hi in itertools.pairwise(edges)
    ]


class MonthlyAccounts:
    """Per-month sums, snapshots and wait samples for one locality."""

    def __init__(self, calendar: Calendar, sources: tuple[str, ...] = (), tiers: tuple[str, ...] = ()) -> None:
        self.calendar = calendar
        n = calendar.n_months
        self.sources = sources
        self.tiers = tiers
        self.sums = {m: np.zeros(n) for m in (*SUM_METRICS, *source_columns(sources), *tier_columns(tiers))}
        self.snapshots = {m: np.zeros(n) for m in (*SNAPSHOT_METRICS, *wait_band_names())}
        self.waits: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._bounds = calendar.month_start_day.astype(float)
        self._bounds_list = self._bounds.tolist()

    def month_of_time(self, t_days: np.ndarray) -> np.ndarray:
        """Month index of each time (-1 in warm-up, n_months past the horizon)."""
        return np.searchsorted(self._bounds, t_days, side="right") - 1

    def add_day(self, metric: str, day: int, value: float) -> None:
        """Add ``value`` to ``metric`` in the month of integer ``day`` (ignored in warm-up)."""
        m = self.calendar.month_of_day[day]
        if m >= 0:
            self.sums[metric][m] += value

    def add_times(self, metric: str, t_days: np.ndarray, values: np.ndarray | float = 1.0) -> None:
        """Add ``values`` to ``metric`` in the months of the times ``t_days`` (outside horizon: ignored)."""
        t_days = np.asarray(t_days, dtype=float)
        if t_days.size == 0:
            return
        n = self.calendar.n_months
        # Fast path: nearly every call's times fall in one month (a day's events).
        m_lo = self._month_of(float(t_days.min()))
        if m_lo == self._month_of(float(t_days.max())):
            if 0 <= m_lo < n:
                total = t_days.size * float(values) if np.ndim(values) == 0 else float(np.sum(values))
                self.sums[metric][m_lo] += total
            return
        months = np.searchsorted(self._bounds, t_days, side="right") - 1
        ok = (months >= 0) & (months < n)
        if np.ndim(values) == 0:
            # Counting (the common case): one bincount, no broadcast array.
            self.sums[metric] += np.bincount(months[ok], minlength=n)[:n] * float(values)
        else:
            weights = np.asarray(values, dtype=float)[ok]
            self.sums[metric] += np.bincount(months[ok], weights=weights, minlength=n)[:n]

    def add_day_by_tier(self, metric: str, day: int, tiers: np.ndarray, values: np.ndarray | None = None) -> None:
        """Add ``values`` (default 1 each) to ``<metric>_tier_<t>`` by each item's tier index, on ``day``."""
        m = self.calendar.month_of_day[day]
        if m < 0 or len(tiers) == 0:
            return
        totals = np.bincount(tiers, weights=values, minlength=len(self.tiers))
        for t, name in enumerate(self.tiers):
            if totals[t]:
                self.sums[f"{metric}_tier_{name}"][m] += totals[t]

    def add_area(self, metric: str, start_days: np.ndarray, end_days: np.ndarray) -> None:
        """Add the person-days of intervals ``[start, end)`` to the months they overlap."""
        if len(start_days) == 0:
            return
        start_days = np.asarray(start_days, dtype=float)
        end_days = np.asarray(end_days, dtype=float)
        m = self._month_of(float(start_days.min()))
        if m == self._month_of(float(end_days.max())):
            # Fast path: every interval inside one month (or all outside the horizon).
            if 0 <= m < self.calendar.n_months:
                self.sums[metric][m] += float(np.clip(end_days - start_days, 0.0, None).sum())
            return
        lo = np.maximum(np.asarray(start_days, dtype=float)[:, None], self._bounds[None, :-1])
        hi = np.minimum(np.asarray(end_days, dtype=float)[:, None], self._bounds[None, 1:])
        self.sums[metric] += np.clip(hi - lo, 0.0, None).sum(axis=0)

    def _month_of(self, t_days: float) -> int:
        # bisect on a list: far cheaper than numpy for one scalar (the continuous path calls this per visit)
        return bisect.bisect_right(self._bounds_list, t_days) - 1

    def add_at(self, metric: str, t_days: float, value: float) -> None:
        """Add ``value`` to ``metric`` in the month of time ``t_days`` (outside the horizon: ignored)."""
        m = self._month_of(t_days)
        if 0 <= m < self.calendar.n_months:
            self.sums[metric][m] += value

    def add_waits(self, t_days: float, waits_days: np.ndarray) -> None:
        """Record waits for assessment that ended at time ``t_days``."""
        m = self._month_of(t_days)
        if 0 <= m < self.calendar.n_months and len(waits_days):
            waits = np.asarray(waits_days, dtype=float)
            self.waits[m].append(waits)
            self.sums["assessed_without_wait"][m] += np.count_nonzero(waits <= 0.0)

    def snapshot(self, month: int, caseload: int, waiting_ages_days: np.ndarray) -> None:
        """Month-end snapshot of the lists, with the waiting list by SitRep band."""
        self.snapshots["caseload_end"][month] = caseload
        self.snapshots["waiting_list_end"][month] = len(waiting_ages_days)
        edges = np.array([*WAIT_BANDS_WEEKS, np.inf]) * 7.0
        counts, _ = np.histogram(waiting_ages_days, bins=edges)
        for name, c in zip(wait_band_names(), counts, strict=True):
            self.snapshots[name][month] = c
