"""Where the day's work comes from: named sources of work items, each with its own priority classes.

A district nursing team's day is filled from several sources: assessments of new referrals
(urgent ones first) and due follow-up visits on the caseload. Each source

* **collects** its items for the day (:class:`WorkItems`: who, where, which tier, which priority
  class, its ordering keys and its minutes), and
* is told which of its items were **placed** and which were **not placed**, and does what that
  means (an assessment done moves the person to the caseload; a visit not placed is deferred, or
  missed once it is late beyond the tolerance).

The allocation itself (:mod:`fundsim.sim.allocation`) sees only items and capacity. A new kind of
work (a virtual-ward round, an urgent-response call) is a new source: one class here or in its own
module, added to the service's list of sources; nothing in the allocation or the day loop changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

import numpy as np

from fundsim.scenario.models import Scenario
from fundsim.sim.accounts import Accounts
from fundsim.sim.patients import CASELOAD, WAITING, PatientTable
from fundsim.sim.visit_buffer import VisitBuffer


class Priority(IntEnum):
    """Priority classes of the day's work, most urgent first (within each locality)."""

    URGENT_ASSESSMENT = 0
    #: Routine assessments up to the share of the day reserved for them (``care.assessment_capacity_share``),
    #: so the service keeps taking new patients when its caseload alone could fill the day.
    RESERVED_ASSESSMENT = 1
    FOLLOW_UP_VISIT = 2
    ROUTINE_ASSESSMENT = 3


@dataclass(frozen=True)
class WorkItems:
    """One source's items for the day (arrays of equal length, in the source's own order).

    ``key1`` then ``key2`` order items of one priority class within a locality (smaller first);
    ``cut_minutes`` are face-to-face minutes rationing took off the item (0 where none).
    """

    source: str
    slots: np.ndarray
    loc: np.ndarray
    tier: np.ndarray
    priority: np.ndarray
    key1: np.ndarray
    key2: np.ndarray
    f2f_minutes: np.ndarray
    travel_minutes: np.ndarray
    cut_minutes: np.ndarray


class WorkSource(Protocol):
    """A source of the day's work: it collects items, and is told which were placed."""

    name: str

    def collect(self, day: int, rostered_minutes: np.ndarray) -> WorkItems:
        """The items due on ``day``; ``rostered_minutes`` is (locality × grade) staff time on duty."""
        ...

    def placed(self, slots: np.ndarray, day: int) -> None:
        """``slots``' items were done on ``day`` (in priority order)."""
        ...

    def not_placed(self, slots: np.ndarray, day: int) -> None:
        """``slots``' items did not fit in ``day`` (in priority order)."""
        ...


class Team(Protocol):
    """What the built-in sources need of the service (:class:`fundsim.sim.service.ServiceModel` is one)."""

    scenario: Scenario
    accounts: Accounts
    people: PatientTable
    n_localities: int
    visit_time_factor: float
    visit_buffer: VisitBuffer

    def visit_f2f_minutes(self, pos: np.ndarray) -> np.ndarray: ...  # noqa: D102
    def visit_travel_minutes(self, pos: np.ndarray) -> np.ndarray: ...  # noqa: D102
    def complete_assessments(self, slots: np.ndarray, t_days: float) -> None: ...  # noqa: D102
    def complete_visits(self, slots: np.ndarray, t_days: float) -> None: ...  # noqa: D102
    def defer_visits(self, slots: np.ndarray, day: int) -> None: ...  # noqa: D102


class Assessments:
    """Initial assessments of the people on the waiting lists (referred before today, not in hospital)."""

    name = "assessments"

    def __init__(self, service: Team) -> None:
        self.service = service

    def collect(self, day: int, rostered_minutes: np.ndarray) -> WorkItems:
        """Urgent assessments first come first served; routine ones within the reserve, then after the visits."""
        s = self.service
        c = s.people.cols
        care = s.scenario.care
        waiting = np.flatnonzero((c["stage"] == WAITING) & (c["return_day"] <= day) & (c["referral_day"] < day))
        loc = c["locality"][waiting]
        ref = c["referral_day"][waiting]
        urgent = c["urgent"][waiting] if care.urgent_assessment_first else np.zeros(len(waiting), bool)
        minutes = c["assessment_minutes"][waiting]
        travel = c["assessment_travel_minutes"][waiting]
        priority = np.where(urgent, int(Priority.URGENT_ASSESSMENT), int(Priority.ROUTINE_ASSESSMENT)).astype(np.int64)
        routine = np.flatnonzero(~urgent)
        if len(routine):
            r_order = routine[np.lexsort((ref[routine], loc[routine]))]
            cum = np.cumsum(minutes[r_order] + travel[r_order])
            r_loc = loc[r_order]
            # Running total within each locality: subtract what the localities before it used.
            first = np.searchsorted(r_loc, np.arange(s.n_localities))
            before = np.concatenate(([0.0], cum))[first]
            reserve = care.assessment_capacity_share * rostered_minutes.sum(axis=1)
            reserved = (cum - before[r_loc]) <= reserve[r_loc]
            priority[r_order[reserved]] = int(Priority.RESERVED_ASSESSMENT)
        return WorkItems(
            source=self.name,
            slots=waiting,
            loc=loc,
            tier=c["tier"][waiting],
            priority=priority,
            key1=ref,
            key2=np.zeros(len(waiting)),
            f2f_minutes=minutes,
            travel_minutes=travel,
            cut_minutes=np.zeros(len(waiting)),
        )

    def placed(self, slots: np.ndarray, day: int) -> None:
        """Assessed today: onto the caseload."""
        self.service.complete_assessments(slots, float(day))

    def not_placed(self, slots: np.ndarray, day: int) -> None:
        """Not assessed today: the person stays on the waiting list (their wait goes on)."""


class FollowUpVisits:
    """Due follow-up visits of the people on the caseloads (not in hospital)."""

    name = "follow-up visits"

    def __init__(self, service: Team) -> None:
        self.service = service

    def collect(self, day: int, rostered_minutes: np.ndarray) -> WorkItems:
        """Most overdue first, then the most complex; visits shortened by the rationing level in force."""
        s = self.service
        c = s.people.cols
        follow = np.flatnonzero((c["stage"] == CASELOAD) & (c["return_day"] <= day) & (c["next_due_day"] <= day))
        loc = c["locality"][follow]
        s.accounts.count_day("visits_due", day, loc[c["due_since_day"][follow] == day])
        pos = c["visit_offset"][follow] + c["visits_done"][follow]
        planned = s.visit_f2f_minutes(pos)
        factor = s.visit_time_factor
        return WorkItems(
            source=self.name,
            slots=follow,
            loc=loc,
            tier=c["tier"][follow],
            priority=np.full(len(follow), int(Priority.FOLLOW_UP_VISIT), dtype=np.int64),
            key1=c["due_since_day"][follow].astype(float),
            key2=-c["tier"][follow].astype(float),
            f2f_minutes=planned * factor,
            travel_minutes=s.visit_travel_minutes(pos),
            cut_minutes=planned * (1.0 - factor),
        )

    def placed(self, slots: np.ndarray, day: int) -> None:
        """Visited today: the next visit is due an interval on, or the plan is finished (discharge)."""
        self.service.complete_visits(slots, float(day))

    def not_placed(self, slots: np.ndarray, day: int) -> None:
        """Not visited today: deferred, or missed once late beyond the tolerance."""
        self.service.defer_visits(slots, day)


__all__ = ["Assessments", "FollowUpVisits", "Priority", "Team", "WorkItems", "WorkSource"]
