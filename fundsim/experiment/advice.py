"""How many replications, and how long a warm-up: the two questions every DES user must answer.

* **Replications**: the sequential replications algorithm (Hoad, Robinson and Davies, 2010, *J Oper
  Res Soc* 61: 1632–1644): add replications one at a time until the 95% confidence interval of every
  headline measure is within a stated relative precision of its mean, and stays there for a few more
  replications (the look-ahead), because an interval can be narrow by chance.
* **Warm-up**: MSER (White, 1997; MSER-5 applies it to batch means of 5 observations): the
  truncation point d that minimises the squared standard error of the mean of what is left,
  ``MSER(d) = Σ_{i>d} (Y_i − Ȳ_d)² / (n − d)²``, searched over the first half of the series. The
  series are the time-averaged caseload and waiting list of each month of a run started empty (a
  month is already a batch of about 30 days), averaged over replications as Welch's method does.

Both are pure functions of numbers (:func:`replications_needed`, :func:`mser_truncation`);
:func:`advise` runs the scenario to feed them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from fundsim.scenario.models import Scenario

#: Headline measures the replication advice looks at (relative precision needs a mean far from 0).
ADVICE_MEASURES: tuple[str, ...] = (
    "delivered_activity_per_year",
    "cost_gbp_per_year",
    "unpaid_overtime_hours_per_year",
    "wait_mean_days",
    "admissions_per_year",
    "admissions_avoided_per_year",
    "hospital_cost_gbp_per_year",
    "commissioner_spend_gbp_per_year",
)
DAYS_PER_MONTH = 365.25 / 12.0


def relative_half_width(values: ArrayLike, level: float = 0.95) -> float:
    """Half-width of the Student-t interval of the mean of ``values``, divided by |mean|.

    ``inf`` with fewer than two values or a zero mean; 0 when every value is the same.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("inf")
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return 0.0
    if mean == 0.0:
        return float("inf")
    return float(stats.t.ppf(0.5 + level / 2.0, x.size - 1) * sd / np.sqrt(x.size) / abs(mean))


def replications_needed(
    values: ArrayLike, precision: float = 0.05, look_ahead: int = 5, level: float = 0.95, minimum: int = 3
) -> int | None:
    """The sequential replications algorithm on one measure's values, in replication order.

    Returns the smallest n ≥ ``minimum`` whose relative half-width is at most ``precision`` and
    stays so for every n' in (n, n + ``look_ahead``] that ``values`` covers, or ``None`` when no
    such n is seen (more replications are needed than were run). ``look_ahead`` follows Hoad et
    al.'s kLimit: the confirmation asked of n grows with n, ``max(look_ahead, n // 10)``.
    """
    rhw = _running_relative_half_widths(values, level)
    for n in range(minimum, len(rhw) + 1):
        if rhw[n - 1] > precision:
            continue
        ahead = max(look_ahead, n // 10)
        if n + ahead > len(rhw):
            return None  # looks precise, but not yet confirmed
        if bool(np.all(rhw[n : n + ahead] <= precision)):
            return n
    return None


def _running_relative_half_widths(values: ArrayLike, level: float) -> np.ndarray:
    """:func:`relative_half_width` of the first n values, for every n at once (element n − 1)."""
    x = np.asarray(values, dtype=float)
    n = np.arange(1, x.size + 1, dtype=float)
    mean = np.cumsum(x) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (np.cumsum(x * x) - n * mean * mean) / (n - 1)
        sd = np.sqrt(np.maximum(var, 0.0))
        t = stats.t.ppf(0.5 + level / 2.0, np.maximum(n - 1, 1))
        out = t * sd / np.sqrt(n) / np.abs(mean)
    # The same conventions as relative_half_width: inf for n < 2 or a zero mean, 0 with no spread.
    same = np.maximum.accumulate(x) == np.minimum.accumulate(x)
    out = np.where(same, 0.0, out)
    out = np.where((mean == 0.0) & ~same, np.inf, out)
    out[: min(1, x.size)] = np.inf
    return out


def mser_truncation(series: ArrayLike, batch: int = 1, max_share: float = 0.5) -> int:
    """MSER truncation point: how many observations of ``series`` to drop as warm-up.

    ``batch`` > 1 applies MSER to batch means (MSER-5 is ``batch=5``); the result is in
    observations of ``series`` either way. Only the first ``max_share`` of the batches are
    candidates, as White recommends: a minimum in the second half means the run is too short to
    say, and the caller should run longer.
    """
    y = np.asarray(series, dtype=float)
    n_batches = y.size // batch
    if n_batches < 2:
        return 0
    means = y[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    best_d, best = 0, float("inf")
    for d in range(int(n_batches * max_share) + 1):
        rest = means[d:]
        if rest.size < 2:
            break
        value = float(((rest - rest.mean()) ** 2).sum() / rest.size**2)
        if value < best:
            best_d, best = d, value
    return best_d * batch


@dataclass(frozen=True)
class ReplicationAdvice:
    """Per measure: mean, relative half-width at the replications run, and the n needed."""

    table: pd.DataFrame  # measure, mean, relative_half_width, replications_needed
    replications_run: int
    precision: float

    @property
    def recommended(self) -> int | None:
        """The largest n any measure needs, or None if some measure never got precise enough."""
        needed = self.table["replications_needed"]
        if needed.isna().any():
            return None
        return int(needed.max())


@dataclass(frozen=True)
class WarmupAdvice:
    """MSER truncation of the monthly caseload and waiting-list series of runs started empty."""

    truncation_months: dict[str, int]  # series -> months to drop
    series: pd.DataFrame  # month, caseload, waiting_list (time-averaged people, mean of replications)

    @property
    def recommended_days(self) -> int:
        """Warm-up days to set: the longest truncation, in whole months of 365.25/12 days."""
        months = max(self.truncation_months.values(), default=0)
        return int(np.ceil(months * DAYS_PER_MONTH))


def advise_replications(
    per_replication: pd.DataFrame,
    precision: float = 0.05,
    look_ahead: int = 5,
    measures: Sequence[str] = ADVICE_MEASURES,
) -> ReplicationAdvice:
    """Apply :func:`replications_needed` to each measure of a per-replication table."""
    frame = per_replication.sort_values("replication")
    rows = []
    for measure in measures:
        if measure not in frame:
            continue
        values = frame[measure].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        needed = replications_needed(values, precision, look_ahead)
        rows.append(
            {
                "measure": measure,
                "mean": float(values.mean()) if values.size else np.nan,
                "relative_half_width": relative_half_width(values),
                "replications_needed": np.nan if needed is None else needed,
            }
        )
    return ReplicationAdvice(pd.DataFrame(rows), len(frame), precision)


def monthly_lists(ledger: pd.DataFrame) -> pd.DataFrame:
    """Time-averaged caseload and waiting list of each month, summed over localities, mean of replications."""
    by = ledger.groupby(["replication", "month"], sort=True)[["caseload_days", "waiting_list_days", "days"]].sum()
    n_loc = ledger.groupby(["replication", "month"]).size()
    days = by["days"] / n_loc  # "days" is per locality row
    frame = pd.DataFrame({"caseload": by["caseload_days"] / days, "waiting_list": by["waiting_list_days"] / days})
    return frame.groupby("month").mean().reset_index()


def advise_warmup(ledger: pd.DataFrame) -> WarmupAdvice:
    """MSER on the monthly caseload and waiting-list series of runs with no warm-up."""
    series = monthly_lists(ledger)
    truncation = {name: mser_truncation(series[name].to_numpy()) for name in ("caseload", "waiting_list")}
    return WarmupAdvice(truncation, series)


def cold_start(scenario: Scenario) -> Scenario:
    """``scenario`` started empty: no warm-up, the horizon lengthened by the warm-up it had."""
    sim = scenario.simulation
    years = sim.horizon_years + sim.warmup_days / 365.25
    return scenario.model_copy(
        update={"simulation": sim.model_copy(update={"warmup_days": 0, "horizon_years": min(20.0, years)})}
    )


@dataclass(frozen=True)
class Advice:
    """What :func:`advise` found."""

    replications: ReplicationAdvice
    warmup: WarmupAdvice


def advise(
    scenario: Scenario,
    *,
    precision: float = 0.05,
    max_replications: int = 40,
    look_ahead: int = 5,
    warmup_replications: int = 3,
    jobs: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> Advice:
    """Run ``scenario`` to advise how many replications and how long a warm-up it needs.

    Replications are added in batches of ``jobs`` until every measure in :data:`ADVICE_MEASURES`
    is confirmed within ``precision`` (relative half-width of its 95% interval) or
    ``max_replications`` is reached. The warm-up is judged on ``warmup_replications`` runs started
    empty. ``progress(stage, done, total)`` is called as simulations finish.
    """
    from fundsim.experiment.executor import SimTask, run_tasks
    from fundsim.experiment.runner import price, replication_measures, run_replications

    cold = run_replications(cold_start(scenario), warmup_replications, jobs=jobs)
    if progress:
        progress("warm-up", warmup_replications, warmup_replications)
    warmup = advise_warmup(cold.ledger)

    ledgers: list[pd.DataFrame] = []
    target = min(max_replications, max(3 + look_ahead, jobs))
    while True:
        # Replication r is the same whenever it is run, so only the new ones are simulated.
        new = [SimTask(r, scenario, r, False) for r in range(len(ledgers), target)]
        done = run_tasks(new, jobs, None)
        ledgers.extend(done[task.key].ledger for task in new)
        if progress:
            progress("replications", len(ledgers), max_replications)
        ledger = pd.concat(ledgers, ignore_index=True)
        per_rep = replication_measures(price(ledger, scenario, scenario.contract), ledger)
        advice = advise_replications(per_rep, precision, look_ahead)
        if advice.recommended is not None or target >= max_replications:
            return Advice(advice, warmup)
        target = min(max_replications, target + max(jobs, look_ahead))


__all__ = [
    "ADVICE_MEASURES",
    "Advice",
    "ReplicationAdvice",
    "WarmupAdvice",
    "advise",
    "advise_replications",
    "advise_warmup",
    "cold_start",
    "mser_truncation",
    "relative_half_width",
    "replications_needed",
]
