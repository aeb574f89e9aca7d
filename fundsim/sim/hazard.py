"""Time to emergency admission from a piecewise-constant hazard.

Each person carries a sequence of unit-exponential "deterioration budgets" ``E_k`` drawn once
at referral. The k-th admission happens when the cumulative hazard since the (k-1)-th reaches
``E_k`` (the inverse-cumulative-hazard method). When the hazard changes (an assessment, a
missed visit, a discharge) the unspent budget carries over, so nothing is redrawn and no event
is scheduled per person per day; and because the budgets do not depend on care, the same
budgets replayed under the no-care hazard give the *counterfactual* admissions exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Admissions tracked per episode; a fourth within one episode is vanishingly rare at NHS rates.
MAX_ADMISSIONS = 3


@dataclass(frozen=True)
class Admission:
    """One emergency admission: when, for how long, and whether it ended the episode."""

    time_days: float
    length_of_stay_days: float
    ends_episode: bool


def admissions_on_path(
    start_day: float,
    budget_left: float,
    k: int,
    pieces: Sequence[tuple[float, float]],
    budgets: Sequence[float],
    ends_episode: Sequence[bool],
    length_of_stay_days: Sequence[float],
) -> list[Admission]:
    """Admissions along a hazard path.

    ``pieces`` is a list of ``(end_day, hazard_per_day)`` in time order, the first piece starting
    at ``start_day``. ``budget_left`` is what remains of budget ``k``; after an admission the
    person is in hospital (no hazard) for its length of stay, then budget ``k + 1`` starts. The
    path stops at the last piece's end, at an admission that ends the episode, or after
    :data:`MAX_ADMISSIONS`.
    """
    result: list[Admission] = []
    t = start_day
    b = budget_left
    i = 0
    n = len(pieces)
    while k < MAX_ADMISSIONS and i < n:
        end, h = pieces[i]
        if t >= end:
            i += 1
            continue
        if h > 0.0 and t + b / h < end:
            t_hit = t + b / h
            result.append(Admission(t_hit, length_of_stay_days[k], bool(ends_episode[k])))
            if ends_episode[k]:
                break
            t = t_hit + length_of_stay_days[k]
            k += 1
            b = budgets[k] if k < MAX_ADMISSIONS else math.inf
        else:
            b -= h * (end - t)
            t = end
            i += 1
    return result
