"""The provider's decisions as a table: what was in force each month, and what each review decided.

The ledger shows what the service did; this table shows what the provider chose, so the
behavioural layer (:mod:`fundsim.sim.management`) is seen and not only its effects. One row per
reported month of one replication:

- ``fte_share``: staff in post at the month's end, as a share of the initial establishment (a
  hire or a leaver counts from the day its lag ends);
- ``unpaid_overtime_share``: the share of overtime worked unpaid during the month;
- ``ration_level``: the rationing level in force during the month (0: none);
- ``hire_share`` and ``shed_share``: the staff the review at the month's start decided to hire or
  let go, as shares of the initial establishment (they arrive or leave after their lag).

The review at the start of month ``m`` reads the signals of month ``m - 1`` and sets the
unpaid-overtime share and the rationing level from that day, so they hold for the whole of month
``m``: a row is "what the provider did in this month". The first month has no review. Under a
passive policy nothing is decided and the table is flat at the scenario's starting values.

With ``provider_policy.reserves`` two more columns (absent otherwise, so a scenario without
reserves has the same table as before):

- ``reserves_gbp``: the reserves the review at the month's start read (opening + closed years'
  surplus + the year-to-date surplus, :mod:`fundsim.sim.reserves`); NaN in the first month, which
  has no review;
- ``reserve_status``: ``normal``, ``recovery`` (the recovery plan in force this month) or ``failed``
  (the contract handed back at or before this month's review; every later month is ``failed``).

The levers are read from the service at each month's close (:meth:`ServiceModel.close_month
<fundsim.sim.service.ServiceModel.close_month>`), so they are what was applied, whatever decided it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from fundsim.sim.calendar import Calendar
from fundsim.sim.policy import Decision

#: The table's columns, in order (``contract`` is put first by the runner and the comparison).
COLUMNS = (
    "replication",
    "month",
    "fte_share",
    "unpaid_overtime_share",
    "ration_level",
    "hire_share",
    "shed_share",
)

#: What the service records at each month's close: (month index, FTE share, unpaid share, ration level).
MonthEnd = tuple[int, float, float, int]


def decision_table(
    calendar: Calendar,
    month_ends: Sequence[MonthEnd],
    reviews: Iterable[tuple[int, Decision]],
    replication: int,
) -> pd.DataFrame:
    """One replication's decisions by month (see the module docstring for the columns).

    ``month_ends`` are the service's month-end records; ``reviews`` the manager's
    ``(month whose signals were read, decision)`` pairs (none under a passive policy). Every month
    must have been closed (a finished run closes them all).
    """
    n = calendar.n_months
    fte = np.full(n, np.nan)
    unpaid = np.full(n, np.nan)
    level = np.zeros(n, dtype=np.int64)
    for month, fte_share, unpaid_share, ration_level in month_ends:
        fte[month], unpaid[month], level[month] = fte_share, unpaid_share, ration_level
    if np.isnan(fte).any():
        raise ValueError(f"months {np.flatnonzero(np.isnan(fte)).tolist()} were never closed")
    hire = np.zeros(n)
    shed = np.zeros(n)
    reserves = np.full(n, np.nan)
    status = np.full(n, "normal", dtype=object)
    with_reserves = False
    for month, decision in reviews:
        if 0 <= month + 1 < n:  # decided at the start of the next month
            hire[month + 1] = decision.hire_share
            shed[month + 1] = decision.shed_share
            reserves[month + 1] = decision.reserves_gbp
            status[month + 1] = decision.reserve_status or "normal"
        with_reserves = with_reserves or bool(decision.reserve_status)
    table = pd.DataFrame(
        {
            "replication": replication,
            "month": pd.to_datetime(list(calendar.month_starts)),
            "fte_share": fte,
            "unpaid_overtime_share": unpaid,
            "ration_level": level,
            "hire_share": hire,
            "shed_share": shed,
        },
        columns=list(COLUMNS),
    )
    if with_reserves:
        table["reserves_gbp"] = reserves
        table["reserve_status"] = status
    return table


#: The columns added with provider_policy.reserves.
RESERVE_COLUMNS = ("reserves_gbp", "reserve_status")

__all__ = ["COLUMNS", "RESERVE_COLUMNS", "MonthEnd", "decision_table"]
