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
    low = rows.iloc[rows["mean"].argmin()]
    high = rows.iloc[rows["mean"].argmax()]
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
    low = rows.iloc[rows["mean"].argmin()]
    high = rows.iloc[rows["mean"].argmax()]
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
    text = (
        f"With demand growing {hi:g}% a year rather than {lo:g}%, in money the extra cost falls mainly "
        + " and ".join(clauses)
        + "."
    )
    others = _other_currencies(risk, contracts, lo, hi)
    return f"{text} {others}" if others else text


#: The currencies other than money that staff and patients pay in, as the risk table names them:
#: (column, who, words, format of a change).
OTHER_CURRENCIES: tuple[tuple[str, str, str, str], ...] = (
    ("unpaid_overtime_hours_per_year", "staff", "unpaid overtime hours a year", "count"),
    ("referrals_declined_per_year", "patients", "referrals declined a year", "count"),
    ("wait_mean_days", "patients", "days on the mean wait for assessment", "days"),
    ("visit_deferrals_per_year", "patients", "visits deferred a year", "count"),
    ("visits_missed_per_year", "patients", "visits missed a year", "count"),
)


def _other_currencies(risk: pd.DataFrame, contracts: Sequence[str], lo: float, hi: float) -> str:
    """Who bears faster growth in staff time and patients' care: per currency, the contract where it rises most."""
    by_who: dict[str, list[str]] = {"staff": [], "patients": []}
    for column, who, words, kind in OTHER_CURRENCIES:
        if column not in risk:
            continue
        changes = []
        for contract in contracts:
            by_growth = risk[risk["contract"] == contract].set_index("demand_growth_pct_per_year")[column]
            if lo in by_growth.index and hi in by_growth.index:
                change = float(by_growth[hi] - by_growth[lo])
                if not math.isnan(change):
                    changes.append((change, contract))
        if not changes:
            continue
        top, where = max(changes)
        shown = f"{top:+.1f}" if kind == "days" else ("+" if round(top) > 0 else "") + count(top)
        if (kind == "days" and round(top, 1) <= 0) or (kind == "count" and round(top) <= 0):
            continue
        phrase = f"{shown} {words} under {contract_label(where)}"
        if len(changes) > 1:
            phrase += " (the most of any contract)"
        by_who[who].append(phrase)
    sentences = []
    if by_who["staff"]:
        sentences.append("Staff bear it in " + _join(by_who["staff"]) + ".")
    if by_who["patients"]:
        sentences.append("Patients bear it in " + _join(by_who["patients"]) + ".")
    if not sentences and any(c in risk for c, *_ in OTHER_CURRENCIES):
        sentences.append(
            "Staff and patients bear none of it: no contract's overtime, declines, waits or visits worsen."
        )
    return " ".join(sentences)


def _range(values_gbp: list[float]) -> str:
    """``+£461k`` for one value, ``+£461k to +£1.2m`` for several."""
    low, high = min(values_gbp), max(values_gbp)
    if len(values_gbp) == 1 or _signed_money(low) == _signed_money(high):
        return _signed_money(low)
    return f"{_signed_money(low)} to {_signed_money(high)}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def incidence_subject(contracts: Sequence[str], baseline: str) -> str:
    """The contract the headline's "who absorbs" sentences are about: block when compared, else the baseline."""
    return "block" if "block" in contracts else baseline


def unfunded_by_contract_sentence(incidence: pd.DataFrame, contracts: Sequence[str], policy: str) -> str | None:
    """Each contract's unfunded activity and provider deficit, by its own payment rule (a comparison only)."""
    if len(contracts) < 2:
        return None
    table = incidence[incidence["policy"] == policy]
    parts = []
    for contract in contracts:
        unfunded = _row(table, contract, "unfunded_activity_per_year")
        deficit = _row(table, contract, "deficit_gbp_per_year")
        if unfunded is None or deficit is None:
            continue
        parts.append(
            f"{contract_label(contract)} {count(float(unfunded['mean']))} contacts "
            f"(provider deficit {money(float(deficit['mean']))})"
        )
    if len(parts) < 2:
        return None
    return (
        "By each contract's own payment rule, the activity delivered but not paid for is, a year: "
        + _join(parts)
        + "; the table below has every bearer with its 95% CI."
    )


def incidence_headline(incidence: pd.DataFrame, contracts: Sequence[str], baseline: str, policy: str) -> list[str]:
    """Who absorbs the unfunded activity, from the incidence table.

    The subject contract under the scenario's policy (every bearer, with CIs), the passive bracket
    when the provider is responsive, and the other contracts' unfunded activity when compared.
    """
    from fundsim.report.incidence_text import incidence_sentences, policy_bracket_sentence

    subject = incidence_subject(contracts, baseline)
    own = incidence[incidence["policy"] == policy]
    sentences = incidence_sentences(own, subject, policy)
    if policy != "passive" and "passive" in set(incidence["policy"]):
        bracket = policy_bracket_sentence(own, incidence[incidence["policy"] == "passive"], subject)
        if bracket:
            sentences.append(bracket)
    others = unfunded_by_contract_sentence(incidence, contracts, policy)
    if others:
        sentences.append(others)
    return sentences


def headline_paragraphs(
    summary: pd.DataFrame,
    contracts: Sequence[str],
    baseline: str,
    risk: pd.DataFrame | None = None,
    incidence: pd.DataFrame | None = None,
    policy: str = "responsive",
) -> list[list[str]]:
    """The headline as paragraphs of sentences: who absorbs the unfunded activity, then spend, admissions and risk.

    ``summary`` is the summary table (contract × measure: ``mean``, ``ci_low``, ``ci_high`` and the
    paired ``diff_*``); ``risk`` the risk table (:func:`fundsim.report.tables.risk_by_growth`);
    ``incidence`` who absorbs the unfunded activity (:func:`fundsim.experiment.incidence.incidence_table`
    with a ``policy`` column), under the scenario's provider ``policy``.

    With an incidence table the headline opens with who absorbs how much (:func:`incidence_headline`);
    without one (results made with ``--no-incidence``) it falls back to the activity sentence, about
    the baseline contract or the first contract that sets contracted activity.
    """
    first: list[str] = []
    if incidence is not None and not incidence.empty:
        first.extend(incidence_headline(incidence, contracts, baseline, policy))
    else:
        subjects = [c for c in [baseline, *contracts] if _has_contracted_activity(summary, c)]
        subject = subjects[0] if subjects else None
        if subject is not None:
            first.append(activity_sentence(summary, subject) or "")
    rest = [
        sentence
        for sentence in (
            spend_sentence(summary, contracts, baseline),
            admissions_sentence(summary, contracts),
            risk_sentence(risk, contracts),
        )
        if sentence
    ]
    paragraphs = [[s for s in first if s], rest]
    return [p for p in paragraphs if p]


def headline(
    summary: pd.DataFrame,
    contracts: Sequence[str],
    baseline: str,
    risk: pd.DataFrame | None = None,
    incidence: pd.DataFrame | None = None,
    policy: str = "responsive",
) -> list[str]:
    """The headline sentences in reading order (:func:`headline_paragraphs`, flattened)."""
    paragraphs = headline_paragraphs(summary, contracts, baseline, risk, incidence, policy)
    return [sentence for paragraph in paragraphs for sentence in paragraph]
