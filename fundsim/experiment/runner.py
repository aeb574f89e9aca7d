"""Replications of one scenario under its contract, and the summary analysts read first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from fundsim.columns import mean_wait, provider_totals
from fundsim.contracts.accounting import settle, unfunded_total
from fundsim.experiment.addon_lines import with_addon_lines
from fundsim.experiment.executor import SimTask, run_tasks
from fundsim.experiment.reserves import opening_reserves, reserve_tables
from fundsim.experiment.stats import mean_ci
from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult


@dataclass(frozen=True)
class Results:
    """Everything `fundsim run` produces for one scenario."""

    scenario: Scenario
    contract: str
    ledger: pd.DataFrame  # locality × month × replication
    provider: pd.DataFrame  # month × replication, priced under the contract
    per_replication: pd.DataFrame  # one row per replication: the headline measures
    summary: pd.DataFrame  # one row per measure: mean and 95% CI
    events: int
    checks_run: int = 0  # invariant checks made (check=True)
    #: Who absorbs the unfunded activity: policy × measure, mean and CI (None unless asked for).
    incidence: pd.DataFrame | None = None
    incidence_per_replication: pd.DataFrame | None = None
    simulations: int = 0  # simulations run, the incidence's reference and passive bracket included
    #: What the provider decided: contract × replication × month (fundsim.sim.decisions).
    decisions: pd.DataFrame | None = None
    #: With provider_policy.reserves (fundsim.experiment.reserves): reserves per replication × contract
    #: year, and per replication the first deficit year, the year reserves ran out and any failure.
    reserves: pd.DataFrame | None = None
    reserve_outcomes: pd.DataFrame | None = None


#: Headline measures: (column, label, unit). Annual figures are per contract year.
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("delivered_activity_per_year", "Delivered activity", "per year"),
    ("contracted_activity_per_year", "Contracted activity", "per year"),
    ("over_performance_pct", "Over-performance", "% of contracted"),
    ("income_gbp_per_year", "Provider income", "GBP per year"),
    ("cost_gbp_per_year", "Provider cost", "GBP per year"),
    ("surplus_gbp_per_year", "Provider surplus (deficit < 0)", "GBP per year"),
    ("absorbed_gbp_per_year", "Cost absorbed by provider", "GBP per year"),
    ("over_performance_activity_per_year", "Activity above contract", "per year"),
    ("over_performance_cost_gbp_per_year", "Cost of activity above contract", "GBP per year"),
    ("unfunded_activity_per_year", "Unfunded activity (contract's own rule)", "per year"),
    ("unfunded_cost_gbp_per_year", "Cost of unfunded activity", "GBP per year"),
    ("paid_hours_per_year", "Paid staff hours", "hours per year"),
    ("unpaid_overtime_hours_per_year", "Unpaid overtime", "hours per year"),
    ("visit_deferrals_per_year", "Visit deferrals", "per year"),
    ("visits_missed_per_year", "Missed visits", "per year"),
    ("visit_minutes_cut_per_year", "Visit minutes cut by rationing", "minutes per year"),
    ("wait_mean_days", "Mean wait for assessment", "days"),
    ("wait_p90_days", "90th percentile wait", "days"),
    ("waiting_list_end", "Waiting list at end", "people"),
    ("referrals_declined_per_year", "Referrals declined", "per year"),
    ("admissions_per_year", "Emergency admissions", "per year"),
    ("admissions_avoided_per_year", "Admissions avoided", "per year"),
    ("hospital_cost_gbp_per_year", "Hospital cost", "GBP per year"),
    ("commissioner_spend_gbp_per_year", "Commissioner spend", "GBP per year"),
)


def replication_measures(provider: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Headline measures of each replication from its priced monthly table."""
    rows = []
    for rep, months in provider.groupby("replication", sort=True):
        years = months["days"].sum() / 365.25
        tot = months.sum(numeric_only=True)
        led = ledger[ledger["replication"] == rep]
        wait_mean = float(mean_wait(led).iloc[0])
        wait_p90 = float(mean_wait(led, column="wait_p90_days").iloc[0])
        last = months["month"].max()
        row = {
            "replication": rep,
            "delivered_activity_per_year": tot["delivered_activity"] / years,
            "contracted_activity_per_year": tot["contracted_activity"] / years,
            "over_performance_pct": 100.0
            * (tot["delivered_activity"] - tot["contracted_activity"])
            / tot["contracted_activity"],
            "wait_mean_days": wait_mean,
            "wait_p90_days": wait_p90,
            "waiting_list_end": float(months.loc[months["month"] == last, "waiting_list_end"].sum()),
        }
        for col in (
            "income_gbp",
            "cost_gbp",
            "surplus_gbp",
            "paid_hours",
            "unpaid_overtime_hours",
            "visit_deferrals",
            "visits_missed",
            "visit_minutes_cut",
            "referrals_declined",
            "admissions",
            "admissions_avoided",
            "hospital_cost_gbp",
            "commissioner_spend_gbp",
        ):
            row[f"{col}_per_year"] = tot[col] / years
        # Absorbed and unfunded cost over the horizon, not the sum of monthly maxima: a provider
        # carries its deficit over the year, and a good month offsets a bad one.
        row["absorbed_gbp_per_year"] = max(0.0, tot["cost_gbp"] - tot["income_gbp"]) / years
        over = max(0.0, tot["delivered_activity"] - tot["contracted_activity"])
        row["over_performance_activity_per_year"] = over / years
        # Priced at the community unit cost, staff cost ÷ delivered, as the monthly
        # over_performance_cost_gbp (fundsim.contracts.accounting.settle): an acute budget the
        # provider holds is not a cost of a contact. No activity means no over-performance to price.
        unit_cost = tot["staff_cost_gbp"] / tot["delivered_activity"] if tot["delivered_activity"] > 0 else 0.0
        row["over_performance_cost_gbp_per_year"] = over * unit_cost / years
        # What the contract's own payment rule leaves unpaid (0 under cost and volume at full price).
        unfunded = unfunded_total(months) if "funded_activity" in months else over
        row["unfunded_activity_per_year"] = unfunded / years
        row["unfunded_cost_gbp_per_year"] = unfunded * unit_cost / years
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(per_replication: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and confidence interval of every headline measure over replications."""
    rows = []
    for col, label, unit in MEASURES:
        m, lo, hi = mean_ci(per_replication[col].to_numpy(), level)
        rows.append({"measure": col, "label": label, "unit": unit, "mean": m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)


def price(ledger: pd.DataFrame, scenario: Scenario, contract: str) -> pd.DataFrame:
    """The provider's monthly table priced under ``contract`` (which must be configured).

    The core contract's payment, then each add-on's own funding line and cost
    (:func:`fundsim.experiment.addon_lines.with_addon_lines`; without add-ons the table is unchanged),
    so ``run``, ``compare`` and ``advise`` price a service with add-ons alike.
    """
    config = getattr(scenario.contracts, contract)
    if config is None:
        raise KeyError(f"contract {contract!r} is not configured in scenario {scenario.name!r}")
    return with_addon_lines(settle(provider_totals(ledger), contract, config, scenario.contract_context()), scenario)


def run_replications(
    scenario: Scenario,
    replications: int | None = None,
    *,
    contract: str | None = None,
    jobs: int = 1,
    progress: Callable[[RunResult], None] | None = None,
    check: bool = False,
    incidence: bool = False,
) -> Results:
    """Simulate ``replications`` replications (0..n-1) under ``contract`` and price them.

    Under a responsive provider policy the provider manages to ``contract`` during the simulation.
    ``jobs`` > 1 runs replications on a local process pool; the numbers do not depend on it. With
    ``incidence``, each replication is also simulated as the reference service and (under a
    responsive policy) with the passive policy, to say who absorbs the unfunded activity
    (:mod:`fundsim.experiment.incidence`); ``progress`` is then called for those simulations too.
    """
    n = replications or scenario.simulation.replications
    contract = contract or scenario.contract
    if contract != scenario.contract:
        scenario = scenario.model_copy(update={"contract": contract})
    tasks = [SimTask(r, scenario, r, check) for r in range(n)]
    if incidence:
        tasks.extend(_incidence_tasks(scenario, n, check))
    done = run_tasks(tasks, jobs, None if progress is None else (lambda _key, run: progress(run)))
    runs = [done[r] for r in range(n)]
    ledger = pd.concat([run.ledger for run in runs], ignore_index=True)
    provider = price(ledger, scenario, contract)
    decisions = decisions_of(runs, contract)
    per_rep = replication_measures(provider, ledger)
    reserves, reserve_outcomes = reserve_tables(opening_reserves(scenario), provider, decisions)
    incidence_frame = incidence_reps = None
    if incidence:
        incidence_frame, incidence_reps = _incidence(scenario, contract, provider, done, n)
    return Results(
        scenario=scenario,
        contract=contract,
        ledger=ledger,
        provider=provider,
        per_replication=per_rep,
        summary=summarise(per_rep),
        events=sum(run.events for run in done.values()),
        checks_run=sum(run.checks_run for run in done.values()),
        incidence=incidence_frame,
        incidence_per_replication=incidence_reps,
        simulations=len(tasks),
        decisions=decisions,
        reserves=reserves,
        reserve_outcomes=reserve_outcomes,
    )


def decisions_of(runs: list[RunResult], contract: str) -> pd.DataFrame | None:
    """The decisions of ``runs`` (in replication order) labelled with ``contract``; None if a run has none."""
    if not runs or any(run.decisions is None for run in runs):
        return None
    frame = pd.concat([run.decisions for run in runs], ignore_index=True)
    frame.insert(0, "contract", contract)
    return frame


def _incidence_tasks(scenario: Scenario, n: int, check: bool) -> list[SimTask]:
    """The reference service for each replication, and the passive bracket under a responsive policy."""
    from fundsim.experiment.incidence import reference_scenario

    tasks = [SimTask(("reference", r), reference_scenario(scenario), r, check) for r in range(n)]
    if scenario.provider_policy.mode != "passive":
        policy = scenario.provider_policy.model_copy(update={"mode": "passive"})
        passive = scenario.model_copy(update={"provider_policy": policy})
        tasks.extend(SimTask(("passive", r), passive, r, check) for r in range(n))
    return tasks


def _incidence(
    scenario: Scenario, contract: str, provider: pd.DataFrame, done: dict, n: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Incidence table and rows for the scenario's policy and, if responsive, the passive bracket."""
    from fundsim.experiment.incidence import incidence_by_policy

    def priced(tag: str) -> pd.DataFrame:
        ledger = pd.concat([done[(tag, r)].ledger for r in range(n)], ignore_index=True)
        return price(ledger, scenario, contract)

    policies = {scenario.provider_policy.mode: provider}
    if scenario.provider_policy.mode != "passive":
        policies["passive"] = priced("passive")
    return incidence_by_policy(scenario, policies, priced("reference"))
