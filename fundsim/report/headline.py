"""The headline paragraph: a few sentences written from the numbers of the summary and risk tables.

Each sentence states a mean with its 95% confidence interval (over replications) as it is in the
tables, rounded for reading (:mod:`fundsim.report.style`); nothing here is computed that a reader
cannot find in the tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from fundsim.report.style import contract_label, count, money

#: Measures at or below this (£ a year) are treated as none absorbed.
NEGLIGIBLE_GBP = 0.5


def _ok(value: float) -> bool:
    return value is not None and not math.isnan(float(value))


def relative(value_pct: float) -> str:
    """``9.3`` → ``9.3% more``; ``-4.9`` → ``4.9% fewer`` (a share of contracted activity)."""
    return f"{abs(value_pct):.1f}% {'more' if value_pct >= 0 else 'fewer'}"


def pct_interval(low_pct: float, high_pct: float) -> str:
    """A 95% CI of a relative difference: ``95% CI 3.5–15.0%``, or ``95% CI 1.0% fewer to 4.0% more``."""
    if not (_ok(low_pct) and _ok(high_pct)):
        return "a single replication: no interval"
    if (low_pct >= 0) == (high_pct >= 0):
        a, b = sorted((abs(low_pct), abs(high_pct)))
        return f"95% CI {a:.1f}–{b:.1f}%"
    return f"95% CI {relative(low_pct)} to {relative(high_pct)}"


def money_interval(low_gbp: float, high_gbp: float) -> str:
    """``95% CI £1.2m to £3.4m`` (or a note when there is no interval)."""
    if not (_ok(low_gbp) and _ok(high_gbp)):
        return "a single replication: no interval"
    return f"95% CI {money(low_gbp)} to {money(high_gbp)}"


def _row(summary: pd.DataFrame, contract: str, measure: str) -> pd.Series | None:
    rows = summary[(summary["contract"] == contract) & (summary["measure"] == measure)]
    return None if rows.empty else rows.iloc[0]


def _has_contracted_activity(summary: pd.DataFrame, contract: str) -> bool:
    contracted = _row(summary, contract, "contracted_activity_per_year")
    delivered = _row(summary, contract, "delivered_activity_per_year")
    if contracted is None or delivered is None:
        return False
    return not math.isclose(float(contracted["mean"]), float(delivered["mean"]), rel_tol=1e-9, abs_tol=1e-6)


def activity_sentence(summary: pd.DataFrame, contract: str) -> str | None:
    """How much more (or less) than it is paid for the provider delivers under ``contract``, and what it absorbs."""
    over = _row(summary, contract, "over_performance_pct")
    absorbed = _row(summary, contract, "absorbed_gbp_per_year")
    if over is None or absorbed is None or not _ok(over["mean"]):
        return None
    # A block contract pays a fixed sum for its contracted activity; other contracts pay (in part)
    # per contact, so their contracted activity is a plan or baseline rather than what is paid for.
    against = "it is paid for" if contract == "block" else "the contract's contracted activity"
    text = (
        f"Under the {contract_label(contract)} contract the provider delivers {relative(float(over['mean']))} "
        f"contacts than {against} ({pct_interval(float(over['ci_low']), float(over['ci_high']))})"
    )
    if float(absorbed["mean"]) > NEGLIGIBLE_GBP:
        text += (
            f", absorbing {money(float(absorbed['mean']))} a year of cost that its income does not cover "
            f"({money_interval(float(absorbed['ci_low']), float(absorbed['ci_high']))})."
        )
    else:
        surplus = _row(summary, contract, "surplus_gbp_per_year")
        text += ", and its income covers its costs, so it absorbs no cost"
        text += f" (surplus {money(float(surplus['mean']))} a year)." if surplus is not None else "."
    unfunded = _row(summary, contract, "over_performance_activity_per_year")
    worth = _row(summary, contract, "over_performance_cost_gbp_per_year")
    if unfunded is not None and worth is not None and float(unfunded["mean"]) >= 0.5:
        text += (
            f" Counted month by month, {count(float(unfunded['mean']))} contacts a year are delivered above the "
            f"contract and not paid for, worth {money(float(worth['mean']))} a year at the average cost of a contact."
        )
    return text


def spend_sentence(summary: pd.DataFrame, contracts: Sequence[str], baseline: str) -> str | None:
    """Where the commissioner's total spend is lowest and highest, with the paired difference from the baseline."""
    rows = summary[(summary["measure"] == "commissioner_spend_gbp_per_year") & summary["contract"].isin(contracts)]
    if len(rows) < 2:
        return None
    low = rows.loc[rows["mean"].idxmin()]
    high = rows.loc[rows["mean"].idxmax()]
    text = (
        "The commissioner's total spend (payments to the provider plus hospital costs) is lowest under "
        f"{contract_label(str(low['contract']))} ({money(float(low['mean']))} a year) and highest under "
        f"{contract_label(str(high['contract']))} ({money(float(high['mean']))} a year)"
    )
    other = low if low["contract"] != baseline else high
    if "diff_mean" in rows and other["contract"] != baseline:
        text += (
            f"; {contract_label(str(other['contract']))} differs from {contract_label(baseline)} by "
            f"{_signed_money(float(other['diff_mean']))} a year "
            f"(paired, {money_interval(float(other['diff_ci_low']), float(other['diff_ci_high']))})"
        )
    return text + "."


def _signed_money(value_gbp: float) -> str:
    return ("+" if value_gbp >= 0 else "") + money(value_gbp)


def admissions_sentence(summary: pd.DataFrame, contracts: Sequence[str]) -> str | None:
    """The range of admissions avoided by community care across contracts."""
    rows = summary[(summary["measure"] == "admissions_avoided_per_year") & summary["contract"].isin(contracts)]
    if rows.empty:
        return None
    if len(rows) == 1:
        row = rows.iloc[0]
        return (
            f"Community care avoids {count(float(row['mean']))} emergency admissions a year "
            "(against the same people with no community care)."
        )
    low = rows.loc[rows["mean"].idxmin()]
    high = rows.loc[rows["mean"].idxmax()]
    if count(float(low["mean"])) == count(float(high["mean"])):
        return (
            f"Community care avoids {count(float(low['mean']))} emergency admissions a year under every contract "
            "compared (against the same people with no community care)."
        )
    return (
        f"Community care avoids between {count(float(low['mean']))} ({contract_label(str(low['contract']))}) and "
        f"{count(float(high['mean']))} ({contract_label(str(high['contract']))}) emergency admissions a year, "
        "against the same people with no community care."
    )


def risk_sentence(risk: pd.DataFrame | None, contracts: Sequence[str]) -> str | None:
    """Who bears the extra cost of faster demand growth under each contract (from the risk table).

    Compares the highest and the lowest demand growth of the risk view: the provider bears the risk
    under a contract where its surplus falls by more than the commissioner's spend rises.
    """
    if risk is None or risk.empty:
        return None
    growths = sorted(risk["demand_growth_pct_per_year"].unique())
    if len(growths) < 2:
        return None
    lo, hi = growths[0], growths[-1]
    groups: dict[str, list[tuple[str, float, float]]] = {"commissioner": [], "provider": []}
    for contract in contracts:
        rows = risk[risk["contract"] == contract].set_index("demand_growth_pct_per_year")
        if lo not in rows.index or hi not in rows.index:
            continue
        d_surplus = float(rows.loc[hi, "surplus_gbp_per_year"] - rows.loc[lo, "surplus_gbp_per_year"])
        d_spend = float(
            rows.loc[hi, "commissioner_spend_gbp_per_year"] - rows.loc[lo, "commissioner_spend_gbp_per_year"]
        )
        groups["provider" if -d_surplus > d_spend else "commissioner"].append((contract, d_surplus, d_spend))
    clauses = []
    for who, items in groups.items():
        if not items:
            continue
        names = _join([contract_label(c) for c, _, _ in items])
        spend = _range([d for _, _, d in items])
        surplus = _range([d for _, d, _ in items])
        clauses.append(f"on the {who} under {names} (commissioner spend {spend}, provider surplus {surplus} a year)")
    if not clauses:
        return None
    return (
        f"With demand growing {hi:g}% a year rather than {lo:g}%, the extra cost falls mainly "
        + " and ".join(clauses)
        + "."
    )


def _range(values_gbp: list[float]) -> str:
    """``+£461k`` for one value, ``+£461k to +£1.2m`` for several."""
    low, high = min(values_gbp), max(values_gbp)
    if len(values_gbp) == 1 or _signed_money(low) == _signed_money(high):
        return _signed_money(low)
    return f"{_signed_money(low)} to {_signed_money(high)}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def headline(
    summary: pd.DataFrame, contracts: Sequence[str], baseline: str, risk: pd.DataFrame | None = None
) -> list[str]:
    """The headline sentences, in reading order.

    ``summary`` is the summary table (contract × measure: ``mean``, ``ci_low``, ``ci_high`` and the
    paired ``diff_*``); ``risk`` the risk table (:func:`fundsim.report.tables.risk_by_growth`).
    The activity sentence is about the baseline contract, or the first contract that sets
    contracted activity if the baseline pays for what is done.
    """
    sentences: list[str] = []
    subjects = [c for c in [baseline, *contracts] if _has_contracted_activity(summary, c)]
    subject = subjects[0] if subjects else None
    if subject is not None:
        sentences.append(activity_sentence(summary, subject) or "")
    for sentence in (
        spend_sentence(summary, contracts, baseline),
        admissions_sentence(summary, contracts),
        risk_sentence(risk, contracts),
    ):
        if sentence:
            sentences.append(sentence)
    return [s for s in sentences if s]
