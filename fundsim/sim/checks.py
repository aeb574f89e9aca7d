"""Model invariants, checked while the model runs (``fundsim run --check``).

Each check is something that must hold whatever the scenario; a failure is a bug in fundsim, not
a mistake in the user's input, and stops the run with :class:`InvariantError`. The checks are
cheap vectorised passes over the patient table, run at the end of every simulated day:

- **no negative lists or counters**: waiting list and caseload sizes, visits done, admissions
  per episode, and every count in the monthly accounts are non-negative; no one has more visits
  done than planned (bar a final missed one);
- **every referral is in exactly one state**: referred = declined + discharged + ended by an
  emergency admission + on the waiting list + on the caseload (counted over the whole run,
  warm-up included), and a person is in one stage only;
- **staff are never in two visits at once**: in each locality no grade is given more minutes
  in a day than it has on duty plus its overtime cap (allocation never overbooks anyone);
- **hours worked ≤ rostered + overtime cap**, and overtime hours ≤ the cap, every day;
- **no admission is missed**: after the morning's admissions, no live person's admission time
  is in the past.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fundsim.sim.patients import CASELOAD, FREE, WAITING

if TYPE_CHECKING:
    from fundsim.sim.service import ServiceModel

#: Slack for floating-point sums of minutes.
TOLERANCE_MINUTES = 1e-6


class InvariantError(AssertionError):
    """A model invariant does not hold: a bug in fundsim."""


def _require(condition: bool, day: int, message: str) -> None:
    if not condition:
        raise InvariantError(f"day {day}: {message}")


def check_allocation(
    day: int,
    rostered: np.ndarray,
    overtime_cap: np.ndarray,
    used: np.ndarray,
    done_minutes: np.ndarray | None = None,
) -> int:
    """Minutes given to each (locality, grade) never exceed its minutes on duty plus overtime cap.

    ``done_minutes`` (per locality) are the minutes of the items marked done, summed independently
    of the allocation's own bookkeeping: they must equal the minutes it says it used.
    """
    over = used - (rostered + overtime_cap)
    _require(
        bool((over <= TOLERANCE_MINUTES).all()),
        day,
        f"staff overbooked: {float(over.max()):.3f} minutes beyond on-duty + overtime cap",
    )
    _require(bool((used >= -TOLERANCE_MINUTES).all()), day, "negative minutes worked")
    overtime = np.maximum(0.0, used - rostered)
    _require(bool((overtime <= overtime_cap + TOLERANCE_MINUTES).all()), day, "overtime beyond its cap")
    if done_minutes is None:
        return 3
    booked = used.sum(axis=1)
    gap = np.abs(done_minutes - booked)
    _require(
        bool((gap <= TOLERANCE_MINUTES * np.maximum(1.0, booked)).all()),
        day,
        f"staff overbooked: visits done take {float(done_minutes.sum()):.1f} minutes, "
        f"staff were given {float(booked.sum()):.1f}",
    )
    return 4


def check_day(service: ServiceModel, day: int) -> int:
    """Check the state at the end of ``day``; return the number of checks made."""
    c = service.people.cols
    stage = c["stage"]
    live = stage != FREE
    n_waiting = int(np.count_nonzero(stage == WAITING))
    n_caseload = int(np.count_nonzero(stage == CASELOAD))
    _require(bool(np.isin(stage, (FREE, WAITING, CASELOAD)).all()), day, "a person is in an unknown stage")
    _require(
        n_waiting + n_caseload == service.people.live_count(),
        day,
        f"{n_waiting} waiting + {n_caseload} on caseloads != {service.people.live_count()} live people",
    )
    counts = service.counts
    accounted = counts["declined"] + counts["discharged"] + counts["ended_by_admission"] + n_waiting + n_caseload
    _require(
        counts["referred"] == accounted,
        day,
        f"{counts['referred']} referred but {accounted} accounted for "
        f"(declined {counts['declined']}, discharged {counts['discharged']}, "
        f"ended by admission {counts['ended_by_admission']}, waiting {n_waiting}, caseload {n_caseload})",
    )
    done, planned = c["visits_done"][live], c["n_visits"][live]
    _require(bool((done >= 0).all()), day, "negative visits done")
    _require(bool((done <= planned).all()), day, "more visits done than planned for someone still on the caseload")
    _require(bool((c["k"][live] >= 0).all()), day, "negative admission count")
    _require(bool((c["admission_day"][live] >= day).all()), day, "an admission in the past was not resolved")
    _require(bool((c["uid"][~live] == -1).all()), day, "a free slot still holds a person")
    negative = [m for m, v in service.accounts.sums.items() if (v < -TOLERANCE_MINUTES).any()]
    _require(not negative, day, f"negative monthly totals: {negative}")
    return 10
