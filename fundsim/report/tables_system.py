"""The report's tables of the whole system: spend, risk, who absorbs, the funnel, wrong-way payments, localities."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fundsim.experiment.observability import poisson_limits
from fundsim.report.results import ResultsFolder
from fundsim.report.table_kit import (
    DAYS_PER_YEAR,
    FUNNEL_LEVELS,
    ReportTable,
    get_in,
    in_contract_order,
    mean_ci_by,
    units_of,
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
        in_contract_order(frame, folder.contracts),
        units_of(values, "£ per year"),
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
    frame = in_contract_order(pd.DataFrame(rows), folder.contracts)
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
    rates = get_in(folder.scenario, "contracts", "outcomes", "expected_admissions_per_referral")
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
    units = units_of(
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
