"""Every funding model side by side, with common random numbers.

Under ``provider_policy.mode: passive`` the contract cannot change what happens clinically, so
each replication is simulated once and its ledger priced under every contract. Under a
responsive policy the provider manages to its contract, so each (contract, replication) is
simulated; the random streams are keyed by (seed, replication, purpose, locality), so every
contract sees the same people, care plans, visit durations and deterioration draws. Differences
between contracts are therefore paired by replication, and their confidence intervals are those
of the paired differences.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from fundsim.experiment.addon_lines import has_addons
from fundsim.experiment.executor import SimTask, run_tasks
from fundsim.experiment.reserves import opening_reserves, reserve_tables
from fundsim.experiment.runner import MEASURES, decisions_of, price, replication_measures
from fundsim.experiment.stats import mean_ci
from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult

#: Measures shown in the "who bears the risk" view: money, and the currencies staff and patients pay in.
RISK_MEASURES = (
    "income_gbp_per_year",
    "surplus_gbp_per_year",
    "commissioner_spend_gbp_per_year",
    "absorbed_gbp_per_year",
    "delivered_activity_per_year",
    "unpaid_overtime_hours_per_year",
    "referrals_declined_per_year",
    "wait_mean_days",
    "visits_missed_per_year",
    "visit_deferrals_per_year",
    "visit_minutes_cut_per_year",
)

#: Task-key contracts of the incidence simulations: the reference service, and (under a responsive
#: policy) the same service with the passive policy, priced under every contract.
REFERENCE = "reference"
PASSIVE = "passive"

#: Task key of the main comparison: (growth, contract, replication); growth None = the scenario's own;
#: contract "*" = one simulation priced under every contract (passive policy).
TaskKey = tuple[float | None, str, int]


@dataclass(frozen=True)
class Comparison:
    """What `fundsim compare` produces."""

    scenario: Scenario
    contracts: tuple[str, ...]
    baseline: str
    replications: int
    ledger: pd.DataFrame  # contract × replication × locality × month (clinical and cost columns)
    provider: pd.DataFrame  # contract × replication × month, priced
    per_replication: pd.DataFrame  # contract × replication: the headline measures
    summary: pd.DataFrame  # contract × measure: mean, CI, and the paired difference from the baseline
    risk: pd.DataFrame | None  # growth × contract × measure: mean and CI
    outcomes: pd.DataFrame | None  # outcomes contract: observed vs expected per replication × year
    wrong_way: pd.DataFrame | None  # outcomes contract: P(paying the wrong way round) by population
    simulations: int
    events: int
    checks_run: int = 0  # invariant checks made (check=True)
    #: Who absorbs the unfunded activity: policy × contract × measure, mean and CI (None when not run).
    incidence: pd.DataFrame | None = None
    #: The same per (policy, contract, replication), the "extra" measures paired with the reference.
    incidence_per_replication: pd.DataFrame | None = None
    #: What the provider decided: contract × replication × month (fundsim.sim.decisions). Under a
    #: passive policy one simulation serves every contract, so every contract has the same flat rows.
    decisions: pd.DataFrame | None = None
    #: With provider_policy.reserves (fundsim.experiment.reserves): reserves per contract × replication
    #: × contract year, and per contract × replication the first deficit year, run-out year and any failure.
    reserves: pd.DataFrame | None = None
    reserve_outcomes: pd.DataFrame | None = None
    #: With add-on services (fundsim.experiment.addon_effect): the core with and without them under
    #: each staffing choice, and net admissions avoided (staffing × measure), and its per-replication rows.
    addon_effect: pd.DataFrame | None = None
    addon_effect_per_replication: pd.DataFrame | None = None


def configured_contracts(scenario: Scenario) -> tuple[str, ...]:
    """The contracts configured in ``scenario``, in registry order."""
    return tuple(name for name, config in scenario.contracts if config is not None)


def _variant(scenario: Scenario, contract: str | None, growth: float | None) -> Scenario:
    update: dict[str, object] = {}
    if contract is not None:
        update["contract"] = contract
    if growth is not None:
        update["demand"] = scenario.demand.model_copy(update={"growth_per_year": growth})
    return scenario.model_copy(update=update) if update else scenario


def passive_variant(scenario: Scenario) -> Scenario:
    """``scenario`` with the passive provider policy: the contract only moves money."""
    policy = scenario.provider_policy.model_copy(update={"mode": "passive"})
    return scenario.model_copy(update={"provider_policy": policy})


def plan_tasks(
    scenario: Scenario,
    contracts: Sequence[str],
    replications: int,
    growths: Sequence[float | None],
    check: bool = False,
    incidence: bool = False,
    addon_effect: bool = False,
) -> list[SimTask]:
    """The simulations a comparison needs: one per replication if passive, else one per contract too.

    With ``incidence``, one more per replication for the reference service
    (:func:`fundsim.experiment.incidence.reference_scenario`) and, under a responsive policy, one
    per replication of the passive provider, priced under every contract (the behavioural bracket).
    """
    passive = scenario.provider_policy.mode == "passive"
    tasks: list[SimTask] = []
    for growth in growths:
        if growth is None:
            n = replications
        elif scenario.risk_view is None:
            raise ValueError("demand-growth tasks need the scenario's risk_view")
        else:
            n = scenario.risk_view.replications
        for contract in ["*"] if passive else contracts:
            variant = _variant(scenario, None if contract == "*" else contract, growth)
            tasks.extend(SimTask((growth, contract, r), variant, r, check) for r in range(n))
    if incidence:
        from fundsim.experiment.incidence import reference_scenario

        reference = reference_scenario(scenario)
        tasks.extend(SimTask((None, REFERENCE, r), reference, r, check) for r in range(replications))
        if not passive:
            bracket = passive_variant(scenario)
            tasks.extend(SimTask((None, PASSIVE, r), bracket, r, check) for r in range(replications))
    if addon_effect:  # the same service without its add-ons and with the other staffing choice
        from fundsim.experiment.addon_effect import effect_tasks

        tasks.extend(effect_tasks(scenario, replications, check, reuse_configured=_reuses(scenario, contracts)))
    return tasks


def _reuses(scenario: Scenario, contracts: Sequence[str]) -> bool:
    """Whether the comparison's own runs include the scenario as configured (passive, or its own contract)."""
    return scenario.provider_policy.mode == "passive" or scenario.contract in contracts


def _task_keys(runs: dict[Hashable, RunResult]) -> list[TaskKey]:
    """The keys of a comparison's simulations, as the tuples :func:`plan_tasks` made them."""
    return [cast(TaskKey, key) for key in runs]  # every key was made by plan_tasks as a TaskKey


def _priced(
    scenario: Scenario,
    runs: dict[Hashable, RunResult],
    contracts: Sequence[str],
    growth: float | None,
    source: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Ledger, priced provider table and per-replication measures of every contract at ``growth``.

    ``source`` prices one set of simulations (the passive bracket or the reference) under every
    contract instead of each contract's own.
    """
    ledgers, providers, measures = [], [], []
    for contract in contracts:
        wanted = (source,) if source is not None else (contract, "*")
        keys = sorted(k for k in _task_keys(runs) if k[0] == growth and k[1] in wanted)
        ledger = pd.concat([runs[k].ledger for k in keys], ignore_index=True)
        # The core contract's payment, then each add-on's own funding line and cost (runner.price).
        provider = price(ledger, _variant(scenario, contract, growth), contract)
        per_rep = replication_measures(provider, ledger)
        ledger.insert(0, "contract", contract)  # settle() has already labelled the provider table
        per_rep.insert(0, "contract", contract)
        ledgers.append(ledger)
        providers.append(provider)
        measures.append(per_rep)
    return (
        pd.concat(ledgers, ignore_index=True),
        pd.concat(providers, ignore_index=True),
        pd.concat(measures, ignore_index=True),
    )


def summarise_comparison(per_replication: pd.DataFrame, baseline: str, level: float = 0.95) -> pd.DataFrame:
    """Mean and CI of every measure per contract, and the paired difference from ``baseline``.

    Differences are taken replication by replication (common random numbers), then averaged.
    """
    base = per_replication[per_replication["contract"] == baseline].set_index("replication").sort_index()
    rows = []
    for contract, group in per_replication.groupby("contract", sort=False):
        g = group.set_index("replication").sort_index()
        for col, label, unit in MEASURES:
            m, lo, hi = mean_ci(g[col].to_numpy(), level)
            diff = (g[col] - base[col]).to_numpy()
            dm, dlo, dhi = mean_ci(diff, level)
            rows.append(
                {
                    "contract": contract,
                    "measure": col,
                    "label": label,
                    "unit": unit,
                    "mean": m,
                    "ci_low": lo,
                    "ci_high": hi,
                    "baseline": baseline,
                    "diff_mean": dm,
                    "diff_ci_low": dlo,
                    "diff_ci_high": dhi,
                }
            )
    return pd.DataFrame(rows)


def risk_table(per_replication: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and CI of the risk measures per (demand growth, contract)."""
    rows = []
    for (growth, contract), group in per_replication.groupby(["demand_growth_per_year", "contract"], sort=False):
        for col in RISK_MEASURES:
            m, lo, hi = mean_ci(group[col].to_numpy(), level)
            label = next(lbl for c, lbl, _ in MEASURES if c == col)
            rows.append(
                {
                    "demand_growth_per_year": growth,
                    "contract": contract,
                    "measure": col,
                    "label": label,
                    "mean": m,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def compare(
    scenario: Scenario,
    contracts: Sequence[str] | None = None,
    replications: int | None = None,
    *,
    jobs: int = 1,
    risk: bool = True,
    progress: Callable[[int, int], None] | None = None,
    check: bool = False,
    incidence: bool = True,
    addon_effect: bool | None = None,
) -> Comparison:
    """Run ``scenario`` under each of ``contracts`` (default: all configured) with common random numbers.

    ``progress(done, total)`` is called after each simulation. With ``risk`` and a
    ``risk_view`` in the scenario, the comparison is also run at each demand-growth value. With
    ``incidence`` it also says who absorbs the unfunded activity, against the reference service,
    under the scenario's policy and (if that is responsive) the passive one. With ``addon_effect``
    (default: when the scenario has add-on services) it also runs the service without its add-ons
    and with the other staffing choice (:mod:`fundsim.experiment.addon_effect`).
    """
    available = configured_contracts(scenario)
    contracts = tuple(contracts) if contracts else available
    missing = [c for c in contracts if c not in available]
    if missing:
        raise KeyError(f"contract(s) {missing} not configured in scenario {scenario.name!r}; configured: {available}")
    n = replications or scenario.simulation.replications
    growths: list[float | None] = [None]
    if risk and scenario.risk_view is not None:
        growths += list(scenario.risk_view.demand_growth_per_year)
    if addon_effect is None:
        addon_effect = has_addons(scenario)
    elif addon_effect and not has_addons(scenario):
        raise ValueError(f"scenario {scenario.name!r} has no add-on services (addons:) whose effect to measure")
    tasks = plan_tasks(scenario, contracts, n, growths, check, incidence, addon_effect)
    done = 0

    def _advance(_key: Hashable, _run: RunResult) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(tasks))

    runs = run_tasks(tasks, jobs, _advance)
    baseline = "block" if "block" in contracts else contracts[0]
    ledger, provider, per_rep = _priced(scenario, runs, contracts, None)
    decisions = _decisions(runs, contracts)
    reserves, reserve_outcomes = reserve_tables(opening_reserves(scenario), provider, decisions)
    risk_frame = None
    if len(growths) > 1:
        frames = []
        for growth in growths[1:]:
            _, _, at = _priced(scenario, runs, contracts, growth)
            at.insert(0, "demand_growth_per_year", growth)
            frames.append(at)
        risk_frame = risk_table(pd.concat(frames, ignore_index=True))
    incidence_frame = incidence_reps = None
    if incidence:
        incidence_frame, incidence_reps = _incidence(scenario, runs, contracts, provider)
    effect = effect_reps = None
    if addon_effect:
        effect, effect_reps = _addon_effect(scenario, runs, contracts, n)
    outcomes = wrong_way = None
    if "outcomes" in contracts:
        from fundsim.experiment.observability import outcome_years, wrong_way_table

        outcomes = outcome_years(provider[provider["contract"] == "outcomes"], scenario)
        wrong_way = wrong_way_table(outcomes, scenario)
    return Comparison(
        scenario=scenario,
        contracts=tuple(contracts),
        baseline=baseline,
        replications=n,
        ledger=ledger,
        provider=provider,
        per_replication=per_rep,
        summary=summarise_comparison(per_rep, baseline),
        risk=risk_frame,
        outcomes=outcomes,
        wrong_way=wrong_way,
        simulations=len(tasks),
        events=int(sum(run.events for run in runs.values())),
        checks_run=int(sum(run.checks_run for run in runs.values())),
        incidence=incidence_frame,
        incidence_per_replication=incidence_reps,
        decisions=decisions,
        reserves=reserves,
        reserve_outcomes=reserve_outcomes,
        addon_effect=effect,
        addon_effect_per_replication=effect_reps,
    )


def _addon_effect(
    scenario: Scenario, runs: dict[Hashable, RunResult], contracts: Sequence[str], n: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The add-on effect table from the comparison's runs (the run as configured reused where it exists)."""
    from fundsim.experiment.addon_effect import CONFIGURED, OTHER, WITHOUT, effect_per_replication, effect_table

    own = "*" if scenario.provider_policy.mode == "passive" else scenario.contract
    ledgers: dict[tuple[str, int], pd.DataFrame] = {}
    for r in range(n):
        configured = (None, own, r) if _reuses(scenario, contracts) else (None, f"addon_{CONFIGURED}", r)
        ledgers[(CONFIGURED, r)] = runs[configured].ledger
        for variant in (WITHOUT, OTHER):
            ledgers[(variant, r)] = runs[(None, f"addon_{variant}", r)].ledger
    per_rep = effect_per_replication(scenario, ledgers)
    return effect_table(per_rep), per_rep


def _decisions(runs: dict[Hashable, RunResult], contracts: Sequence[str]) -> pd.DataFrame | None:
    """The provider's decisions per contract of the main comparison (the scenario's own demand growth)."""
    frames = []
    for contract in contracts:
        keys = sorted(k for k in _task_keys(runs) if k[0] is None and k[1] in (contract, "*"))
        frame = decisions_of([runs[k] for k in keys], contract)
        if frame is None:
            return None
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _incidence(
    scenario: Scenario, runs: dict[Hashable, RunResult], contracts: Sequence[str], provider: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The incidence table and its per-replication rows, for the scenario's policy and the passive bracket."""
    from fundsim.experiment.incidence import incidence_by_policy

    _, reference, _ = _priced(scenario, runs, contracts[:1], None, REFERENCE)
    policies = {scenario.provider_policy.mode: provider}
    if scenario.provider_policy.mode != "passive":
        _, policies["passive"], _ = _priced(scenario, runs, contracts, None, PASSIVE)
    return incidence_by_policy(scenario, policies, reference)
