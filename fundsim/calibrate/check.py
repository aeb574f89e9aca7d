"""Check a fit before trusting it: simulate the scenario fitted without the last months and compare.

:func:`check_fit` refits the extract leaving out its last ``holdout_months`` whole months, simulates
that scenario over the extract's period from its second whole month with fundsim's public API (:func:`fundsim.simulate`,
a few replications, passive provider so management rules do not move the comparison), and sets the
observed monthly measures beside the simulated ones:

* referrals received; contacts (attended face-to-face); contact hours (their clinical minutes);
* caseload at the month's end (referrals visited and not yet discharged);
* mean wait from referral to the first visit, of first visits in the month.

The simulation starts from the extract's own state, not empty: the caseload and waiting list open
at the end of the extract's first whole month (:func:`fundsim.calibrate.initial_state.start_state`
on that day, as the fitted scenario starts from the lists open on the extract's last day), so the
comparison runs from the second whole month. Why the end of the first month and not its start:
referrals received before the extract have none of their earlier contacts in it, so only after a
month of contacts can the extract say who of them is on the caseload and who still waits.

The band is a predictive interval for one month's observed value, taken from the spread of single
replications' monthly values (order statistics: with R replications the k-th smallest to k-th
largest hold one more draw with probability (R + 1 − 2k)/(R + 1); 39 replications give 95%), not
a confidence interval of the simulated mean, which is far narrower than one month's noise. It
holds the simulation's randomness, not the fitted parameters' uncertainty. A held-out month is
*within* when the observed value lies in it; :func:`coverage_table` sets the share within beside
the share expected, with an exact binomial interval. Observed counts pass the small-number rule.
The report (page, workbook, CSVs, figures) is drawn by :mod:`fundsim.report.calibration_check`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import binomtest

from fundsim.calibrate.episodes import visits_of
from fundsim.calibrate.fit import Calibration, fit_scenario
from fundsim.calibrate.initial_state import StartState, forecast_scenario, start_state
from fundsim.calibrate.read import Extract
from fundsim.calibrate.suppress import enough, suppress_count
from fundsim.calibrate.writer import number, scenario_yaml

#: Replications simulated by default: 39 gives a 95% predictive interval from the extremes (38/40).
DEFAULT_REPLICATIONS = 39
#: Nominal coverage sought for the predictive interval.
LEVEL = 0.95
#: Where in its day a referral is taken to arrive, for an observed wait: the extract has dates only, the
#: model's referrals arrive uniformly through the day and are assessed at the start of a later day, so
#: the observed wait (whole days between the dates) less this half day is what the model's wait measures.
REFERRAL_TIME_OF_DAY = 0.5

#: Unit of each measure (as the report formats it).
UNITS = {
    "referrals": "referrals",
    "contacts": "contacts",
    "contact_hours": "hours",
    "caseload_end": "people",
    "wait_mean_days": "days",
}

#: Measures compared: (column, label, is a count of people or events).
MEASURES = (
    ("referrals", "Referrals received", True),
    ("contacts", "Contacts (face to face)", True),
    ("contact_hours", "Contact hours", False),
    ("caseload_end", "Caseload at month end", True),
    ("wait_mean_days", "Mean wait for first visit (days)", False),
)


@dataclass
class CheckResult:
    """The comparison table, the coverage per measure and the files written."""

    table: pd.DataFrame
    coverage: pd.DataFrame
    files: list[Path]

    @property
    def held_out_within_share(self) -> float:
        """Share of (held-out month, measure) pairs whose observed value lies in the simulation interval."""
        held = self.table[self.table["held_out"] & self.table["side"].isin(["within", "above", "below"])]
        return float(held["within"].mean()) if len(held) else float("nan")


def observed_monthly(extract: Extract, months: list[pd.Timestamp]) -> pd.DataFrame:
    """The observed measures per whole month of the extract (unsuppressed; for comparison only).

    The wait is counted for referrals received on or after the extract's first day only: an older
    referral's earlier contacts are not in the extract, so its first contact in it need not be its
    first visit. It is the days between the dates less :data:`REFERRAL_TIME_OF_DAY` (0 for a first
    contact on the day of referral).
    """
    refs = extract["referrals"]
    visits = visits_of(extract, extract.last_day)
    attended = visits[visits["attended"]]
    first = visits.groupby("ServiceRequestId")["CareContDate"].min()
    disch = refs.set_index("ServiceRequestId")["ServDischDate"] if "ServDischDate" in refs else None
    received = refs.set_index("ServiceRequestId")["ReferralRequestReceivedDate"]
    rows = []
    for m in months:
        end = m + pd.offsets.MonthBegin(1) - pd.Timedelta(days=1)
        in_month = (attended["CareContDate"] >= m) & (attended["CareContDate"] <= end)
        started = first[(first <= end)]
        if disch is not None:
            d = disch.reindex(started.index)
            open_ = d.isna() | (d > end)
        else:
            open_ = pd.Series(True, index=started.index)
        firsts = first[(first >= m) & (first <= end)]
        days_between = (firsts - received.reindex(firsts.index)).dt.days
        within = received.reindex(firsts.index) >= extract.first_day
        # A same-day first contact came after the referral within the day: at least 0, not -0.5.
        waits = (days_between[within] - REFERRAL_TIME_OF_DAY).clip(lower=0.0)
        rows.append(
            {
                "month": m,
                "referrals": float(
                    ((refs["ReferralRequestReceivedDate"] >= m) & (refs["ReferralRequestReceivedDate"] <= end)).sum()
                ),
                "contacts": float(in_month.sum()),
                "contact_hours": float(attended.loc[in_month, "minutes"].sum() / 60.0),
                "caseload_end": float(open_.sum()),
                "wait_mean_days": float(waits.mean()) if len(waits) >= 8 else np.nan,
            }
        )
    return pd.DataFrame(rows)


def simulated_monthly(scenario_text: str, replications: int) -> pd.DataFrame:
    """Provider-wide monthly measures of ``replications`` simulations of the scenario (passive provider)."""
    from fundsim import simulate
    from fundsim.columns import provider_totals
    from fundsim.scenario.models import Scenario

    data = yaml.safe_load(scenario_text)
    data.setdefault("provider_policy", {})["mode"] = "passive"
    scenario = Scenario.model_validate(data)
    frames = [provider_totals(simulate(scenario, r).ledger) for r in range(replications)]
    return pd.concat(frames, ignore_index=True)


def predictive_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Distribution-free predictive interval for one more replication from ``values`` (one per replication).

    For R exchangeable replications and one more (the observed month, if the model is right), the
    new value lies between the k-th smallest and the k-th largest of the R with probability
    (R + 1 − 2k)/(R + 1) (order statistics; ties only raise it). k is the largest whole number with
    that probability at least ``level`` (at least 1). Returns (low, high, nominal coverage).
    """
    x = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    r = len(x)
    if r < 2:
        return float("nan"), float("nan"), float("nan")
    k = max(1, int(np.floor((1 - level) / 2 * (r + 1))))
    return float(x[k - 1]), float(x[r - k]), (r + 1 - 2 * k) / (r + 1)


def coverage_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per measure (and all together): held-out months within the interval, expected share, binomial interval.

    The 95% interval of the share is Clopper–Pearson's (exact binomial). A measure is *consistent*
    when its interval holds the expected share. Months of one measure are treated as independent
    (they are not quite: a caseload carries over), so the interval is somewhat too narrow.
    """
    held = table[table["held_out"] & table["side"].isin(["within", "above", "below"])]
    rows = []
    groups = [(str(m), str(g["label"].iloc[0]), g) for m, g in held.groupby("measure", sort=False)]
    groups.append(("all", "All measures", held))
    for measure, label, g in groups:
        n = len(g)
        k = int((g["side"] == "within").sum())
        expected = float(g["expected_share"].mean()) if n else float("nan")
        if n:
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            low, high = float(ci.low), float(ci.high)
        else:
            low = high = float("nan")
        rows.append(
            {
                "measure": measure,
                "label": label,
                "months_compared": n,
                "months_within": k,
                "months_above": int((g["side"] == "above").sum()),
                "months_below": int((g["side"] == "below").sum()),
                "share_within": round(k / n, 4) if n else float("nan"),
                "share_expected": round(expected, 4),
                "share_ci_low": round(low, 4),
                "share_ci_high": round(high, 4),
                "consistent": ("yes" if low <= expected <= high else "no") if n else "",
            }
        )
    return pd.DataFrame(rows)


def compare(observed: pd.DataFrame, sim: pd.DataFrame, months: list[pd.Timestamp], holdout_months: int) -> pd.DataFrame:
    """One row per measure and month: observed (small-number rule applied) beside the simulated interval."""
    held = set(months[len(months) - holdout_months :])
    rows = []
    for column, label, is_count in MEASURES:
        by_month = {m: g[column].to_numpy(dtype=float) for m, g in sim.groupby("month")}
        # observed_monthly gives one row per month of ``months``, in order.
        for month, r in zip(months, observed.itertuples(), strict=True):
            value = float(getattr(r, column))
            values = by_month.get(month, np.array([]))
            finite = values[np.isfinite(values)]
            low, high, nominal = predictive_interval(finite)
            mean = float(finite.mean()) if len(finite) else float("nan")
            shown = suppress_count(value) if is_count else (round(value, 1) if np.isfinite(value) else None)
            n_contacts = float(getattr(r, "contacts"))  # noqa: B009 (itertuples rows are typed loosely)
            if column == "contact_hours" and 0 < n_contacts and not enough(n_contacts):
                shown = None  # hours of 1-7 contacts rest on too few individuals to be shown
            side = ""
            # A suppressed value is not compared either: within/above/below would bound it.
            if shown is not None and np.isfinite(value) and np.isfinite(low):
                side = "below" if value < low else "above" if value > high else "within"
            rows.append(
                {
                    "measure": column,
                    "label": label,
                    "unit": UNITS[column],
                    "month": month.date().isoformat(),
                    "held_out": month in held,
                    "observed": shown,
                    "sim_mean": round(mean, 2) if np.isfinite(mean) else None,
                    "sim_low": round(low, 2) if np.isfinite(low) else None,
                    "sim_high": round(high, 2) if np.isfinite(high) else None,
                    "replications": len(finite),
                    "expected_share": round(nominal, 4) if np.isfinite(nominal) else None,
                    "within": side == "within",
                    "side": side,
                }
            )
    return pd.DataFrame(rows)


def check_scenario_text(calibration: Calibration, state: StartState, extract_name: str, n_months: int) -> str:
    """The scenario the check simulates: fitted on the window, started from ``state``, for ``n_months`` months.

    It is :func:`~fundsim.calibrate.initial_state.forecast_scenario` (the rates carried to the start
    by the fitted growth, no warm-up, the open lists seeded) run over the rest of the extract.
    """
    scenario, comments = forecast_scenario(calibration, state)
    sim = dict(scenario["simulation"])
    sim["horizon_years"] = number(n_months / 12, 6)
    scenario["simulation"] = sim
    comments["simulation.start_date"] = (
        f"the month after {state.as_of:%Y-%m-%d}, the day whose open lists the run starts from (initial_state)"
    )
    comments["simulation.horizon_years"] = f"the extract's remaining {n_months} whole months"
    summary = calibration.summary
    header = [
        f"fundsim calibrate --check: the scenario fitted from '{extract_name}' without its last "
        f"{summary['months_held_out']} months",
        f"(fitting window {summary['window']}), started from the caseload and waiting list open on "
        f"{state.as_of:%Y-%m-%d} and simulated over the rest of the extract.",
        "Aggregates only: counts pass the NHS small-number rule (1-7 suppressed, others rounded to 5).",
        "",
    ]
    return scenario_yaml(scenario, comments, header)


def check_fit(
    extract: Extract,
    out_dir: Path,
    *,
    holdout_months: int = 6,
    replications: int = DEFAULT_REPLICATIONS,
    n_tiers: int = 3,
    overwrite: bool = True,
) -> CheckResult:
    """Fit without the last ``holdout_months``, simulate the whole period, compare; write the check's report."""
    from fundsim.report.calibration_check import write_check_report

    calibration = fit_scenario(extract, name="check", n_tiers=n_tiers, holdout_months=holdout_months)
    months = calibration.months
    # Start from the lists open at the end of the first whole month (module docstring).
    as_of = months[0] + pd.offsets.MonthBegin(1) - pd.Timedelta(days=1)
    state = start_state(extract, calibration, as_of=as_of)
    text = check_scenario_text(calibration, state, extract.folder.name, len(months) - 1)
    observed = observed_monthly(extract, months)
    sim = simulated_monthly(text, replications)
    sim["month"] = pd.to_datetime(sim["month"])
    table = compare(observed, sim, months, holdout_months)
    coverage = coverage_table(table)
    level = float(np.nanmean(table["expected_share"].astype(float))) if len(table) else float("nan")
    files = write_check_report(
        Path(out_dir),
        table,
        coverage,
        title=f"Calibration check: {extract.folder.name}",
        intro=_intro(calibration.summary["window"], holdout_months, replications, level),
        method=METHOD,
        level_pct=100 * level,
        extra_files={"scenario-fit-window.yaml": text},
        overwrite=overwrite,
    )
    return CheckResult(table, coverage, files)


def _intro(window: str, holdout_months: int, replications: int, level: float) -> list[str]:
    return [
        f"The extract was refitted without its last {holdout_months} whole months (fitting window {window}) and "
        "that scenario simulated from the caseload and waiting list open at the end of the extract's first whole "
        f"month to the extract's end, {replications} replications, passive provider.",
        f"Each band is a {100 * level:.0f}% predictive interval for one month's value: the range a single month "
        "would fall in if the fitted model were the truth. Filled points are held-out months; the table below "
        "says how many fell inside, against the share expected.",
        "Observed counts pass the NHS small-number rule (1-7 suppressed, others rounded to 5); means rest on 8 or "
        "more first visits.",
    ]


#: The method, as the page states it.
METHOD = (
    "Each measure is computed the same way from the extract and from each simulated replication: referrals "
    "received in the month; attended face-to-face contacts and their clinical hours; referrals visited and not "
    "yet discharged at the month's end; the mean wait from referral to first visit of first visits in the month.",
    "The interval is distribution-free: with R replications, one more value (the observed month, if the model is "
    "right) lies between the k-th smallest and the k-th largest of them with probability (R + 1 - 2k)/(R + 1). "
    "It is the spread of single replications' monthly values, not the confidence interval of their mean, so it "
    "holds a month's Poisson noise and the variation of the care each patient needs.",
    "It holds the simulation's randomness only, not the uncertainty of the fitted parameters: a model that is "
    "right but fitted on few referrals covers less than the expected share.",
    "The share within is compared with the expected share by an exact binomial (Clopper-Pearson) 95% interval; "
    "months of one measure are not independent (caseload carries over), so that interval is somewhat narrow.",
    "The simulated service starts from the extract's own state: the caseload and waiting list open at the end of "
    "the extract's first whole month (by tier and visits made, the waiting list by wait band, under the small-number "
    "rule), so the comparison runs from the second month. Observed waits count referrals received within the "
    "extract, from the middle of the referral's day (the model's referrals arrive through the day).",
)
