"""The no-care path: the emergency admissions a person would have had without community care.

Community care avoids admissions only against a counterfactual. Each person's no-care path uses
their own deterioration budgets, stays and episode-ending draws (drawn at referral,
:mod:`fundsim.sim.referrals`), so it depends on nothing the service does: from referral to the
planned end of care the person deteriorates at the untreated multiple of their tier's hazard,
then at the post-discharge multiple to the end of their follow-up window. Admissions avoided =
no-care admissions − actual admissions, both counted over the same window for each person.
"""

from __future__ import annotations

import numpy as np

from fundsim.sim.hazard import admissions_on_path


def no_care_admissions(
    loc: np.ndarray,
    start: np.ndarray,
    planned_end: np.ndarray,
    window_end: np.ndarray,
    hazard: np.ndarray,
    budgets: np.ndarray,
    ends: np.ndarray,
    los: np.ndarray,
    m_untreated: float,
    m_post: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Admissions (locality, time, stay) along each person's path without community care.

    The path runs from referral (``start``) at ``hazard`` × ``m_untreated`` to ``planned_end``,
    then at ``hazard`` × ``m_post`` to ``window_end``, with the person's own ``budgets`` (unit
    exponential, one per possible admission), ``los`` and episode-ending draws ``ends``.
    """
    exposure = hazard * (m_untreated * (planned_end - start) + m_post * (window_end - planned_end))
    a_loc: list[int] = []
    a_time: list[float] = []
    a_los: list[float] = []
    # Only people whose first budget is spent within their window can be admitted at all.
    for r in np.flatnonzero(budgets[:, 0] < exposure).tolist():
        path = admissions_on_path(
            float(start[r]), float(budgets[r, 0]), 0,
            ((float(planned_end[r]), float(hazard[r] * m_untreated)),
             (float(window_end[r]), float(hazard[r] * m_post))),
            budgets[r], ends[r], los[r],
        )  # fmt: skip
        for a in path:
            a_loc.append(int(loc[r]))
            a_time.append(a.time_days)
            a_los.append(a.length_of_stay_days)
    return np.array(a_loc, dtype=np.int64), np.array(a_time), np.array(a_los)


__all__ = ["no_care_admissions"]
