"""Check a fit before trusting it: simulate the scenario fitted without the last months and compare.

:func:`check_fit` refits the extract leaving out its last ``holdout_months`` whole months, simulates
that scenario over the extract's whole period with fundsim's public API (:func:`fundsim.simulate`,
a few replications, passive provider so management rules do not move the comparison), and sets the
observed monthly measures beside the simulated ones:

* referrals received; contacts (attended face-to-face); contact hours (their clinical minutes);
* caseload at the month's end (referrals visited and not yet discharged);
* mean wait from referral to the first visit, of first visits in the month.

The simulation interval is a 95% prediction interval for one more replication, mean ± t(R−1) ×
sd × √(1 + 1/R) over the R replications (floored at 0): a few replications give an honest interval
where their bare range would be too narrow. It holds the simulation's randomness, not the fitted
parameters' uncertainty. A held-out month is *within* when the observed value lies in it.
Observed counts pass the small-number rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from scipy.stats import t as t_dist

from fundsim.calibrate.api import render
from fundsim.calibrate.episodes import visits_of
from fundsim.calibrate.fit import fit_scenario
from fundsim.calibrate.read import Extract
from fundsim.calibrate.suppress import suppress_count

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
    """The comparison table and the files written."""

    table: pd.DataFrame
    files: list[Path]

    @property
    def held_out_within_share(self) -> float:
        """Share of (held-out month, measure) pairs whose observed value lies in the simulation interval."""
        held = self.table[self.table["held_out"] & self.table["observed"].notna()]
        return float(held["within"].mean()) if len(held) else float("nan")


def observed_monthly(extract: Extract, months: list[pd.Timestamp]) -> pd.DataFrame:
    """The observed measures per whole month of the extract (unsuppressed; for comparison only)."""
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
        waits = (firsts - received.reindex(firsts.index)).dt.days
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


def check_fit(
    extract: Extract,
    out_dir: Path,
    *,
    holdout_months: int = 6,
    replications: int = 5,
    n_tiers: int = 3,
) -> CheckResult:
    """Fit without the last ``holdout_months``, simulate the whole period, compare; write CSV, PNGs and a workbook."""
    calibration = fit_scenario(extract, name="check", n_tiers=n_tiers, holdout_months=holdout_months)
    text = render(calibration, extract.folder.name)
    months = calibration.months
    observed = observed_monthly(extract, months)
    sim = simulated_monthly(text, replications)
    sim["month"] = pd.to_datetime(sim["month"])
    held = set(months[len(months) - holdout_months :])
    rows = []
    for column, label, is_count in MEASURES:
        grouped = sim.groupby("month")[column]
        mean, sd, n = grouped.mean(), grouped.std(ddof=1).fillna(0.0), grouped.count()
        half = t_dist.ppf(0.975, np.maximum(n - 1, 1)) * sd * np.sqrt(1 + 1 / n)
        stats = pd.DataFrame({"sim_mean": mean, "sim_low": np.maximum(mean - half, 0.0), "sim_high": mean + half})
        # observed_monthly gives one row per month of ``months``, in order.
        for month, r in zip(months, observed.itertuples(), strict=True):
            value = getattr(r, column)
            # stats is indexed by the groupby's months, each once, so .loc[month] is one row (a Series).
            s = cast(pd.Series, stats.loc[month]) if month in stats.index else None
            within = bool(s is not None and np.isfinite(value) and s["sim_low"] <= value <= s["sim_high"])
            shown = suppress_count(value) if is_count else (round(value, 1) if np.isfinite(value) else None)
            rows.append(
                {
                    "measure": column,
                    "label": label,
                    "month": month.date().isoformat(),
                    "held_out": month in held,
                    "observed": shown,
                    "sim_mean": round(float(s["sim_mean"]), 2) if s is not None else None,
                    "sim_low": round(float(s["sim_low"]), 2) if s is not None else None,
                    "sim_high": round(float(s["sim_high"]), 2) if s is not None else None,
                    "within": within,
                }
            )
    table = pd.DataFrame(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "check.csv", out_dir / "check.xlsx", out_dir / "scenario-fit-window.yaml"]
    from fundsim.spreadsheet import write_csv

    write_csv(table, files[0])
    with pd.ExcelWriter(files[1], engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name="check", index=False)
    files[2].write_text(text, encoding="utf-8")
    for column, label, _ in MEASURES:
        path = out_dir / f"check-{column}.png"
        _figure(table[table["measure"] == column], label, holdout_months).savefig(path, dpi=110)
        files.append(path)
    return CheckResult(table, files)


def _figure(rows: pd.DataFrame, label: str, holdout_months: int) -> Figure:
    """Observed (points) against simulated (line and 95% band) by month; held-out months shaded."""
    fig = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.subplots()
    months = pd.to_datetime(rows["month"])
    ax.fill_between(
        months,
        rows["sim_low"].astype(float),
        rows["sim_high"].astype(float),
        alpha=0.2,
        color="#1f77b4",
        label="simulated (95% prediction interval)",
    )
    ax.plot(months, rows["sim_mean"].astype(float), color="#1f77b4", label="simulated mean")
    ax.plot(months, pd.to_numeric(rows["observed"], errors="coerce"), "o", color="#d62728", label="observed")
    held = months[rows["held_out"].to_numpy()]
    if len(held):
        # matplotlib's stubs type axvspan's limits as float, but its unit machinery takes the dates the
        # x axis already holds (the same as fill_between above, whose stubs say ArrayLike).
        ax.axvspan(
            held.min() - pd.Timedelta(days=15),  # type: ignore[arg-type]
            held.max() + pd.Timedelta(days=15),  # type: ignore[arg-type]
            color="#999999",
            alpha=0.15,
            label=f"held out ({holdout_months} months)",
        )
    ax.set_title(label)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small", loc="best")
    return fig
