"""The report's tables: tidy pandas frames built from a results folder, one per figure or section.

Every table is a :class:`ReportTable`: a frame with plain column names (what the figure functions
read) and the unit of each column (what the CSV files and the Excel workbook show in their
headers). Means and 95% confidence intervals are taken over replications (Student t), as in the
rest of fundsim.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.columns import mean_wait
from fundsim.experiment.observability import poisson_limits
from fundsim.report.results import ResultsFolder
from fundsim.report.style import unit_text

#: Confidence level of every interval in the report.
LEVEL = 0.95

#: Control limits of the funnel plot: about 2 and 3 standard deviations.
FUNNEL_LEVELS = (0.95, 0.998)

#: Days in a year, as fundsim annualises.
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: its data, a title, and the unit of each column (``''`` = none)."""

    name: str
    title: str
    frame: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)

    def with_unit_headers(self) -> pd.DataFrame:
        """The frame with each column headed ``name (unit)``, as written to CSV and Excel."""
        return self.frame.rename(columns={c: f"{c} ({u})" for c, u in self.units.items() if u and c in self.frame})


def mean_ci_by(frame: pd.DataFrame, keys: Sequence[str], values: Sequence[str], level: float = LEVEL) -> pd.DataFrame:
    """Mean and Student-t interval of each ``values`` column over the rows of each ``keys`` group.

    The rows of a group are replications. Columns out: ``keys``, then ``<value>``,
    ``<value>_ci_low``, ``<value>_ci_high`` for each value (NaN interval for a single replication).
    """
    grouped = frame.groupby(list(keys), sort=False)[list(values)]
    mean, sd, n = grouped.mean(), grouped.std(ddof=1), grouped.count()
    out = pd.DataFrame(index=mean.index)
    for col in values:
        k = n[col].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(k >= 2, stats.t.ppf(0.5 + level / 2.0, np.maximum(k - 1, 1)), np.nan)
            half = t * sd[col].to_numpy(dtype=float) / np.sqrt(k)
        out[col] = mean[col]
        out[f"{col}_ci_low"] = mean[col].to_numpy(dtype=float) - half
        out[f"{col}_ci_high"] = mean[col].to_numpy(dtype=float) + half
    return out.reset_index()


def _units(values: Sequence[str], unit: str | dict[str, str]) -> dict[str, str]:
    out = {}
    for col in values:
        u = unit if isinstance(unit, str) else unit[col]
        out.update({col: u, f"{col}_ci_low": u, f"{col}_ci_high": u})
    return out


def _ordered(frame: pd.DataFrame, contracts: Sequence[str]) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(contracts)}
    return (
        frame.assign(_order=frame["contract"].map(order))
        .sort_values(
            ["_order", *[c for c in ("month", "locality", "demand_growth_per_year") if c in frame]], kind="stable"
        )
        .drop(columns="_order")
        .reset_index(drop=True)
    )


# --- the scenario in brief -----------------------------------------------------------------------------


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def key_parameters(folder: ResultsFolder) -> ReportTable:
    """The scenario's key parameters (parameter, value, unit), read from the manifest's copy of it."""
    sc = folder.scenario
    rows: list[tuple[str, Any, str]] = [
        ("Scenario", folder.name, ""),
        ("Start date", _get(sc, "simulation", "start_date"), "date"),
        ("Horizon", _get(sc, "simulation", "horizon_years"), "years"),
        ("Warm-up", _get(sc, "simulation", "warmup_days"), "days"),
        ("Replications", folder.manifest.get("replications"), "runs"),
        ("Master seed", folder.manifest.get("seed", _get(sc, "simulation", "seed")), ""),
        ("Contracts", ", ".join(folder.contracts), ""),
        ("Provider policy", folder.manifest.get("provider_policy", _get(sc, "provider_policy", "mode")), ""),
        ("Referral growth", _pct(_get(sc, "demand", "growth_per_year")), "% a year"),
        ("Urgent referrals", _pct(_get(sc, "demand", "urgent_share")), "% of referrals"),
    ]
    localities = _get(sc, "localities") or []
    if isinstance(localities, list) and localities:
        total = sum(float(_get(loc, "population") or 0) for loc in localities)
        rows.append(("Population", f"{total:,.0f}", "people"))
        rows.append(
            (
                "Localities",
                "; ".join(f"{_get(loc, 'name')} {float(_get(loc, 'population') or 0):,.0f}" for loc in localities),
                "people",
            )
        )
    grades = _get(sc, "workforce", "grades") or []
    if isinstance(grades, list) and grades:
        rows.append(("Staff", "; ".join(f"{_get(g, 'name')} {_get(g, 'fte')}" for g in grades), "FTE by grade"))
    block = _get(sc, "contracts", "block")
    if isinstance(block, dict):
        rows.append(("Block: annual value", _num(block.get("annual_value_gbp")), "£ a year"))
        rows.append(("Block: contracted activity", _num(block.get("contracted_activity_per_year")), "contacts a year"))
    risk = _get(sc, "risk_view", "demand_growth_per_year")
    if isinstance(risk, list) and folder.risk is not None:
        rows.append(("Risk view: demand growth", ", ".join(_pct(g) or "" for g in risk), "% a year"))
    frame = pd.DataFrame(
        [(p, "" if v is None else str(v), u) for p, v, u in rows if v not in (None, "")],
        columns=["parameter", "value", "unit"],
    )
    return ReportTable("parameters", "Key parameters of the scenario", frame)


def _pct(value: Any) -> str | None:
    return None if not isinstance(value, int | float) else f"{100.0 * value:g}"


def _num(value: Any) -> str | None:
    return None if not isinstance(value, int | float) else f"{value:,.0f}"


def manifest_table(folder: ResultsFolder) -> ReportTable:
    """The manifest (what made these results) as field/value rows, without the scenario copy."""
    rows = []
    for key, value in folder.manifest.items():
        if key == "scenario":
            continue
        if key == "files" and isinstance(value, dict):
            text = f"{', '.join(str(k) for k in value)} (size and SHA-256 of each in manifest.json)"
        elif isinstance(value, dict):
            text = ", ".join(f"{k} {v}" if key == "packages" else f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((key, text))
    return ReportTable("manifest", "Manifest: what made these results", pd.DataFrame(rows, columns=["field", "value"]))


def summary_table(folder: ResultsFolder) -> ReportTable:
    """Every headline measure per contract: mean, 95% CI and the paired difference from the baseline."""
    cols = ["contract", "measure", "label", "unit", "mean", "ci_low", "ci_high"]
    cols += [c for c in ("baseline", "diff_mean", "diff_ci_low", "diff_ci_high") if c in folder.summary]
    frame = _ordered(folder.summary[cols].copy(), folder.contracts)
    frame["unit"] = frame["unit"].map(unit_text)
    return ReportTable("summary", "Headline measures per contract (mean and 95% CI over replications)", frame)


# --- tables behind the figures ---------------------------------------------------------------------


def _measure_units(folder: ResultsFolder) -> dict[str, str]:
    return {str(m): unit_text(str(u)) for m, u in zip(folder.summary["measure"], folder.summary["unit"], strict=True)}


def per_contract(folder: ResultsFolder, measures: Sequence[str], name: str, title: str) -> ReportTable:
    """Mean and CI of ``measures`` per contract, from the per-replication table."""
    frame = mean_ci_by(folder.replications, ["contract"], measures)
    units = _measure_units(folder)
    return ReportTable(name, title, _ordered(frame, folder.contracts), _units(measures, units))


def activity_monthly(folder: ResultsFolder) -> ReportTable:
    """Contracted and delivered activity per contract and month (mean and CI over replications).

    ``funded`` is what the contract's own payment rule pays for (``funded_activity``; the
    contracted activity in folders written before fundsim recorded it), and ``unfunded`` the part
    of the mean delivered activity above it: max(delivered − funded, 0), the gap shaded in the
    activity figure. Under cost and volume at full price nothing is unfunded, however far delivery
    runs above the baseline.
    """
    columns = ["contract", "replication", "month", "contracted_activity", "delivered_activity"]
    provider = folder.provider[columns].copy()
    provider["funded_activity"] = (
        folder.provider["funded_activity"]
        if "funded_activity" in folder.provider
        else folder.provider["contracted_activity"]
    )
    provider = provider.rename(
        columns={"contracted_activity": "contracted", "delivered_activity": "delivered", "funded_activity": "funded"}
    )
    frame = mean_ci_by(provider, ["contract", "month"], ["contracted", "funded", "delivered"])
    frame = frame.drop(columns=["contracted_ci_low", "contracted_ci_high", "funded_ci_low", "funded_ci_high"])
    frame["unfunded"] = np.maximum(frame["delivered"] - frame["funded"], 0.0)
    units = {c: "contacts per month" for c in frame.columns if c not in ("contract", "month")}
    return ReportTable(
        "activity", "Contracted and delivered activity by month", _ordered(frame, folder.contracts), units
    )


def _service_months(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger summed over localities per (contract, replication, month); waits weighted by assessments."""
    keys = ["contract", "replication", "month"]
    sums = ledger.groupby(keys, sort=False)[
        ["waiting_list_end", "visits_missed", "visits_due", "admissions", "admissions_avoided"]
    ].sum()
    for column in ("wait_mean_days", "wait_p90_days"):
        sums[column] = mean_wait(ledger, keys, column, sort=False)
    return sums.reset_index()


def waits_monthly(folder: ResultsFolder) -> ReportTable:
    """Mean and 90th-percentile wait for assessment and the month-end waiting list, per contract and month."""
    months = _service_months(folder.ledger)
    values = ["wait_mean_days", "wait_p90_days", "waiting_list_end"]
    frame = mean_ci_by(months, ["contract", "month"], values)
    units = _units(values, {"wait_mean_days": "days", "wait_p90_days": "days", "waiting_list_end": "people"})
    return ReportTable(
        "waits", "Waits for assessment and waiting list by month", _ordered(frame, folder.contracts), units
    )


def missed_monthly(folder: ResultsFolder) -> ReportTable:
    """Missed visits per contract and month (mean and CI over replications)."""
    months = _service_months(folder.ledger)
    frame = mean_ci_by(months, ["contract", "month"], ["visits_missed"])
    return ReportTable(
        "missed_by_month",
        "Missed visits by month",
        _ordered(frame, folder.contracts),
        _units(["visits_missed"], "visits per month"),
    )


#: The provider's decisions (``decisions.csv``, :mod:`fundsim.sim.decisions`): column and unit.
DECISION_UNITS = {
    "fte_share": "share of initial staff",
    "unpaid_overtime_share": "share of overtime hours",
    "ration_level": "level (0 = none)",
    "hire_share": "share of initial staff",
    "shed_share": "share of initial staff",
}


def decisions_monthly(folder: ResultsFolder) -> ReportTable | None:
    """What the provider decided, per contract and month: mean and 95% CI over replications.

    From ``decisions.csv``: the staff in post at the month's end (share of the initial
    establishment), the share of overtime worked unpaid and the rationing level in force during the
    month, and the hires and sheds decided at the month's review. ``None`` for a folder written
    before fundsim recorded the decisions.
    """
    if folder.decisions is None:
        return None
    frame = folder.decisions[folder.decisions["contract"].astype(str).isin(folder.contracts)].copy()
    if frame.empty:
        return None
    frame["contract"] = frame["contract"].astype(str)
    frame["month"] = pd.to_datetime(frame["month"])
    values = [c for c in DECISION_UNITS if c in frame]
    out = mean_ci_by(frame, ["contract", "month"], values)
    return ReportTable(
        "decisions",
        "What the provider decided by month: staff, unpaid overtime, rationing",
        _ordered(out, folder.contracts),
        _units(values, DECISION_UNITS),
    )


def spend_per_contract(folder: ResultsFolder) -> ReportTable:
    """The commissioner's spend per contract split into payments to the provider and hospital costs.

    ``payments_gbp_per_year`` is the provider's income; ``hospital_gbp_per_year`` the hospital costs
    the commissioner pays directly (commissioner spend − payments: the hospital costs not borne by the
    provider), so the two add up to ``commissioner_spend_gbp_per_year`` exactly.
    """
    reps = folder.replications[["contract", "replication", "income_gbp_per_year", "commissioner_spend_gbp_per_year"]]
    reps = reps.rename(columns={"income_gbp_per_year": "payments_gbp_per_year"})
    reps = reps.assign(hospital_gbp_per_year=reps["commissioner_spend_gbp_per_year"] - reps["payments_gbp_per_year"])
    values = ["payments_gbp_per_year", "hospital_gbp_per_year", "commissioner_spend_gbp_per_year"]
    frame = mean_ci_by(reps, ["contract"], values)
    return ReportTable(
        "spend",
        "Commissioner spend per contract: payments to the provider and hospital costs",
        _ordered(frame, folder.contracts),
        _units(values, "£ per year"),
    )


def risk_by_growth(folder: ResultsFolder) -> ReportTable | None:
    """Provider surplus and commissioner spend per demand-growth rate and contract (from ``risk.csv``)."""
    if folder.risk is None or folder.risk.empty:
        return None
    risk = folder.risk
    rows = []
    for (_, contract), group in risk.groupby(["demand_growth_per_year", "contract"], sort=False):
        row: dict[str, Any] = {
            "demand_growth_per_year": float(group["demand_growth_per_year"].iloc[0]),
            "contract": contract,
        }
        for rec in group.itertuples():
            row[str(rec.measure)] = rec.mean
            row[f"{rec.measure}_ci_low"] = rec.ci_low
            row[f"{rec.measure}_ci_high"] = rec.ci_high
        rows.append(row)
    frame = _ordered(pd.DataFrame(rows), folder.contracts)
    frame["demand_growth_pct_per_year"] = 100.0 * frame.pop("demand_growth_per_year")
    frame = frame[["demand_growth_pct_per_year", *[c for c in frame.columns if c != "demand_growth_pct_per_year"]]]
    units = {"demand_growth_pct_per_year": "% a year"}
    for col in frame.columns:
        if "gbp" in col:
            units[col] = "£ per year"
        elif col.startswith("delivered_activity"):
            units[col] = "contacts per year"
    return ReportTable("risk", "Who bears the risk: provider and commissioner by demand growth", frame, units)


def incidence(folder: ResultsFolder) -> ReportTable | None:
    """Who absorbs the activity the contract does not pay for, per policy, contract and measure (``incidence.csv``).

    One row per (provider policy, contract, measure): bearer, label, unit, mean and 95% CI over
    replications; "extra" rows (``against_reference``) are differences from the reference service,
    paired by replication (docs/incidence.md). ``source`` gives the price of a row the scenario's
    ``valuation`` section values.
    """
    if folder.incidence is None or folder.incidence.empty:
        return None
    frame = folder.incidence[folder.incidence["contract"].isin(folder.contracts)].copy()
    order = {c: i for i, c in enumerate(folder.contracts)}
    frame = frame.assign(_o=frame["contract"].map(order)).sort_values(["policy", "_o"], kind="stable")
    frame = frame.drop(columns="_o").reset_index(drop=True)
    if "source" in frame:
        frame["source"] = frame["source"].astype("string").fillna("").astype(str)
    return ReportTable(
        "incidence",
        "Who absorbs the activity the contract does not pay for (units per row)",
        frame,
        {},
    )


def funnel_points(folder: ResultsFolder) -> ReportTable | None:
    """Observed and risk-adjusted expected admissions of the outcomes contract, per unit and contract year.

    Units are the localities and the whole service; one row per (replication, contract year, unit).
    The expected count E is the outcomes contract's risk model, Σ_t rate_t × referrals in tier t
    (docs/contracts.md), applied to each locality's own referrals.
    """
    rates = _get(folder.scenario, "contracts", "outcomes", "expected_admissions_per_referral")
    if "outcomes" not in folder.contracts or not isinstance(rates, dict) or not rates:
        return None
    ledger = folder.ledger[folder.ledger["contract"] == "outcomes"].copy()
    missing = [f"referrals_tier_{t}" for t in rates if f"referrals_tier_{t}" not in ledger]
    if ledger.empty or missing:
        return None
    ledger["expected"] = sum(float(r) * ledger[f"referrals_tier_{t}"].astype(float) for t, r in rates.items())
    keys = ["replication", "contract_year"]
    by_locality = ledger.groupby([*keys, "locality"], sort=True).agg(
        expected=("expected", "sum"), observed=("admissions", "sum"), population=("population", "mean")
    )
    by_locality = by_locality.reset_index().rename(columns={"locality": "unit"})
    whole = by_locality.groupby(keys, sort=True)[["expected", "observed", "population"]].sum().reset_index()
    whole["unit"] = "whole service"
    frame = pd.concat([by_locality, whole[by_locality.columns]], ignore_index=True)
    frame["unit"] = frame["unit"].astype(str)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["oe_ratio"] = frame["observed"] / frame["expected"]
    units = {"expected": "admissions", "observed": "admissions", "population": "people", "oe_ratio": "ratio"}
    return ReportTable("funnel", "Outcomes contract: observed and expected admissions per unit and year", frame, units)


def funnel_limits(points: pd.DataFrame, levels: Sequence[float] = FUNNEL_LEVELS, n: int = 200) -> ReportTable:
    """Control limits of O/E for a Poisson count with mean E, on a grid of E spanning ``points``.

    Columns: ``expected`` and, per level (e.g. 95 and 99.8), ``low_<level>`` and ``high_<level>``:
    the limits of the observed count divided by E (fundsim.experiment.observability.poisson_limits).
    """
    positive = points["expected"][points["expected"] > 0]
    top = float(positive.max()) if not positive.empty else 10.0
    bottom = max(float(positive.min()) / 2.0 if not positive.empty else 1.0, 1.0)
    grid = np.geomspace(bottom, max(top * 1.5, bottom * 2.0), n)
    frame = pd.DataFrame({"expected": grid})
    units = {"expected": "admissions"}
    for level in levels:
        low, high = poisson_limits(grid, level)
        tag = level_tag(level)
        frame[f"low_{tag}"] = low / grid
        frame[f"high_{tag}"] = high / grid
        units[f"low_{tag}"] = units[f"high_{tag}"] = "ratio O/E"
    return ReportTable("funnel_limits", "Funnel plot control limits of O/E", frame, units)


def level_tag(level: float) -> str:
    """``0.95`` → ``95``, ``0.998`` → ``99.8`` (a column-name friendly percentage)."""
    return f"{100.0 * level:g}"


def wrong_way(folder: ResultsFolder) -> ReportTable | None:
    """The probability that the outcomes contract pays the wrong way round, by population (``wrong_way.csv``)."""
    if folder.wrong_way is None:
        return None
    units = {
        "population": "people",
        "expected_per_year": "admissions per year",
        "true_mean_per_year": "admissions per year",
        "truly_better_share_of_years": "share",
        "p_wrong_way": "probability",
        "observed_wrong_way_share": "share",
    }
    return ReportTable(
        "wrong_way", "Outcomes contract: probability of paying the wrong way round", folder.wrong_way, units
    )


def locality_over_performance(folder: ResultsFolder) -> ReportTable | None:
    """Over-performance per locality and contract, for the contracts that set contracted activity.

    A contract buys activity for the whole population; a locality's share of it is taken in proportion
    to its population. Over-performance = 100 × (delivered − contracted share) / contracted share,
    per replication, then mean and CI. Contracts whose contracted activity equals delivered activity
    (they pay for what is done) are left out.
    """
    prov = folder.provider
    sets = prov.groupby("contract")[["contracted_activity", "delivered_activity"]].sum()
    contracts = [c for c in folder.contracts if c in sets.index and not _close(sets, c)]
    if not contracts:
        return None
    totals = (
        prov[prov["contract"].isin(contracts)]
        .groupby(["contract", "replication"])[["contracted_activity", "days"]]
        .sum()
    )
    led = folder.ledger[folder.ledger["contract"].isin(contracts)]
    delivered = led.groupby(["contract", "replication", "locality"], sort=False)["contacts"].sum()
    population = led.groupby("locality", sort=False)["population"].mean()
    share = population / population.sum()
    frame = delivered.rename("delivered").reset_index()
    frame["population"] = frame["locality"].map(population)
    idx = pd.MultiIndex.from_frame(frame[["contract", "replication"]])
    years = totals["days"].reindex(idx).to_numpy(dtype=float) / DAYS_PER_YEAR
    contracted = totals["contracted_activity"].reindex(idx).to_numpy(dtype=float) * frame["locality"].map(share)
    frame["contracted_per_year"] = contracted / years
    frame["delivered_per_year"] = frame["delivered"] / years
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["over_performance_pct"] = 100.0 * (frame["delivered"] - contracted) / contracted
    values = ["delivered_per_year", "contracted_per_year", "over_performance_pct"]
    out = mean_ci_by(frame, ["contract", "locality", "population"], values)
    out = out.drop(columns=["contracted_per_year_ci_low", "contracted_per_year_ci_high"])
    out["locality"] = out["locality"].astype(str)
    units = _units(
        values,
        {
            "delivered_per_year": "contacts per year",
            "contracted_per_year": "contacts per year",
            "over_performance_pct": "% of contracted",
        },
    )
    units["population"] = "people"
    order = {c: i for i, c in enumerate(contracts)}
    out = out.assign(_o=out["contract"].map(order)).sort_values("_o", kind="stable").drop(columns="_o")
    return ReportTable(
        "localities",
        "Over-performance per locality (contracted activity shared by population)",
        out.reset_index(drop=True),
        {k: v for k, v in units.items() if k in out},
    )


def _close(sets: pd.DataFrame, contract: str) -> bool:
    a, b = sets.loc[contract, ["contracted_activity", "delivered_activity"]].to_numpy(dtype=float)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
