"""Warnings after a run: signs that the numbers should not be read as they stand.

Each check looks at what a run produced, not at the scenario, and says what it saw and what to do:

* **a waiting list that grows without bound**: the monthly time-averaged waiting list (mean of the
  replications) rises by a clearly positive least-squares slope (its 99% interval above 0) and
  ends the horizon at least twice as long as it began: the service is short of capacity, waits
  depend on the horizon chosen, and "mean wait" is not a steady-state figure;
* **waits longer than the follow-up window**: the mean 90th-percentile wait exceeds
  ``outcomes.follow_up_days``, so a good part of each person's time at risk is spent waiting;
* **too few replications**: a headline measure's 95% interval is wider than ±10% of its mean; the
  warning says how many replications would bring it to ±5% (the interval narrows as 1/√n);
* **a warm-up that looks too short**: MSER (see :mod:`fundsim.experiment.advice`) would still drop
  more than two months from the start of the measured horizon's caseload series, and the first
  month lies outside the settled months' spread (3 standard deviations, and 5% of their level):
  MSER alone truncates short stationary series by chance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.experiment.advice import ADVICE_MEASURES, monthly_lists, mser_truncation, relative_half_width
from fundsim.scenario.models import Scenario

#: A headline measure whose 95% interval is wider than this share of its mean gets a warning.
PRECISION_WARNING = 0.10
#: ... and the advice is to reach this precision.
PRECISION_TARGET = 0.05
#: Months of the horizon's start MSER may drop before the warm-up is called too short.
WARMUP_SLACK_MONTHS = 2
#: ... and only when those months' mean differs from the rest's by at least this share of it.
WARMUP_BIAS_SHARE = 0.05


def growing_waiting_list(ledger: pd.DataFrame) -> str | None:
    """A warning when the waiting list grows steadily through the horizon, else None."""
    series = monthly_lists(ledger)["waiting_list"].to_numpy(dtype=float)
    if series.size < 6:
        return None
    months = np.arange(series.size, dtype=float)
    fit = stats.linregress(months, series)
    t = stats.t.ppf(0.995, series.size - 2)
    third = max(1, series.size // 3)
    start, end = float(series[:third].mean()), float(series[-third:].mean())
    if fit.slope - t * fit.stderr > 0 and end >= 2.0 * max(start, 1.0):
        return (
            f"The waiting list grows without levelling off: about {fit.slope:,.0f} people a month, from "
            f"{start:,.0f} on average in the first third of the horizon to {end:,.0f} in the last. The service "
            f"is short of capacity, so waits depend on how long the horizon is; see the sizing check "
            f"(fundsim validate) for where the shortfall is."
        )
    return None


def waits_beyond_follow_up(provider: pd.DataFrame, scenario: Scenario) -> str | None:
    """A warning when the 90th-percentile wait exceeds the follow-up window, else None."""
    if "wait_p90_days" not in provider or "assessments" not in provider:
        return None
    weight = provider["assessments"].where(provider["wait_p90_days"].notna(), 0.0)
    if weight.sum() <= 0:
        return None
    p90 = float((provider["wait_p90_days"].fillna(0.0) * weight).sum() / weight.sum())
    follow_up = scenario.outcomes.follow_up_days
    if p90 > follow_up:
        return (
            f"One referral in ten waits more than {p90:,.0f} days for assessment, longer than the "
            f"{follow_up:g}-day follow-up window (outcomes.follow_up_days): much of these people's time at "
            f"risk is spent waiting, before any care."
        )
    return None


def too_few_replications(per_replication: pd.DataFrame, measures: Sequence[str] = ADVICE_MEASURES) -> list[str]:
    """Warnings for headline measures whose interval is wider than ±10% of the mean."""
    out = []
    n = len(per_replication)
    for measure in measures:
        if measure not in per_replication:
            continue
        values = per_replication[measure].dropna().to_numpy(dtype=float)
        rhw = relative_half_width(values)
        if values.size >= 1 and rhw > PRECISION_WARNING:
            if math.isinf(rhw):
                advice = "run at least 2 replications (-r) for an interval"
            else:
                needed = math.ceil(n * (rhw / PRECISION_TARGET) ** 2)
                advice = f"about {needed:,} replications would bring it to ±{100 * PRECISION_TARGET:.0f}%"
            width = "undefined" if math.isinf(rhw) else f"±{100 * rhw:.0f}% of its mean"
            out.append(f"{measure}: with {n} replication(s) its 95% interval is {width}; {advice} (fundsim advise).")
    return out


def warmup_too_short(ledger: pd.DataFrame) -> str | None:
    """A warning when MSER would drop months from the start of the horizon's caseload series."""
    series = monthly_lists(ledger)["caseload"].to_numpy(dtype=float)
    months = mser_truncation(series)
    if months <= WARMUP_SLACK_MONTHS or months >= series.size - 1:
        return None
    # MSER on a short stationary series can truncate by chance: call the start biased only if the
    # first month lies outside the spread of the settled months (3 standard deviations) by a share
    # that matters (WARMUP_BIAS_SHARE of the settled level).
    rest = series[months:]
    gap = abs(float(series[0] - rest.mean()))
    if gap > 3.0 * float(rest.std(ddof=1)) and gap > WARMUP_BIAS_SHARE * abs(float(rest.mean())):
        return (
            f"The caseload is still settling for the first {months} months of the horizon (MSER): the warm-up "
            f"(simulation.warmup_days) looks too short, so the first months understate the service's load "
            f"(fundsim advise estimates the warm-up to set)."
        )
    return None


def run_warnings(
    scenario: Scenario, ledger: pd.DataFrame, provider: pd.DataFrame, per_replication: pd.DataFrame
) -> list[str]:
    """Every after-run warning for one contract's results, in a fixed order."""
    out = [
        w
        for w in (
            growing_waiting_list(ledger),
            waits_beyond_follow_up(provider, scenario),
            warmup_too_short(ledger),
        )
        if w
    ]
    imprecise = too_few_replications(per_replication)
    if len(imprecise) == 1:
        out.extend(imprecise)
    elif imprecise:
        names = [w.split(":", 1)[0] for w in imprecise]
        n = len(per_replication)
        out.append(
            f"with {n} replication(s), {len(names)} headline measures have 95% intervals wider than "
            f"±{100 * PRECISION_WARNING:.0f}% of their mean ({', '.join(names)}); fundsim advise says how many "
            f"replications bring them to ±{100 * PRECISION_TARGET:.0f}%."
        )
    return out


__all__ = [
    "PRECISION_TARGET",
    "PRECISION_WARNING",
    "growing_waiting_list",
    "run_warnings",
    "too_few_replications",
    "waits_beyond_follow_up",
    "warmup_too_short",
]
