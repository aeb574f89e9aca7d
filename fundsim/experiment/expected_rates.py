"""Expected emergency admissions per referral, by tier: the outcomes contract's risk model, reproducibly.

An outcomes contract pays for admissions below a risk-adjusted expectation, E = Σ over tiers of
the expected admissions per referral × referrals. Where do those rates come from? A commissioner
would fit them to a well-run service's history. fundsim makes them the same way, from the model:
the scenario's own service run as the **reference** of :mod:`fundsim.experiment.incidence` (passive
and staffed to meet its demand, so that neither waits nor rationing inflate the rates), one tier at
a time (every referral of that tier), admissions ÷ referrals over the horizon, with a confidence
interval over replications. ``fundsim expected-rates SCENARIO`` prints them as the YAML to paste
into ``contracts.outcomes.expected_admissions_per_referral``.
"""

from __future__ import annotations

import pandas as pd

from fundsim.experiment.incidence import reference_scenario
from fundsim.experiment.stats import mean_ci
from fundsim.scenario.models import Scenario


def one_tier(scenario: Scenario, tier: str) -> Scenario:
    """``scenario`` with every referral in ``tier`` (at the start and at the end of the horizon)."""
    mix = {t.name: (1.0 if t.name == tier else 0.0) for t in scenario.tiers}
    demand = scenario.demand.model_copy(update={"complexity_mix": mix, "complexity_mix_end": None})
    care = scenario.care.model_copy(update={"min_accepted_tier": 0})
    return scenario.model_copy(update={"demand": demand, "care": care})


def expected_admissions_per_referral(scenario: Scenario, replications: int = 3, jobs: int = 1) -> pd.DataFrame:
    """Admissions per referral of each tier in the reference service: tier, mean, ci_low, ci_high, replications.

    Each replication's rate is its total admissions ÷ total referrals over the horizon (the same
    ratio an outcomes contract forms from a year's counts); the interval is Student-t over
    replications.
    """
    from fundsim.experiment.runner import run_replications

    reference = reference_scenario(scenario)
    rows = []
    for tier in scenario.tiers:
        results = run_replications(one_tier(reference, tier.name), replications, jobs=jobs)
        sums = results.provider.groupby("replication")[["admissions", "referrals"]].sum()
        rates = (sums["admissions"] / sums["referrals"]).to_numpy(dtype=float)
        mean, lo, hi = mean_ci(rates)
        rows.append({"tier": tier.name, "mean": mean, "ci_low": lo, "ci_high": hi, "replications": replications})
    return pd.DataFrame(rows)


def as_yaml(rates: pd.DataFrame, scenario_name: str, decimals: int = 3) -> str:
    """The rates as the YAML block of ``contracts.outcomes.expected_admissions_per_referral``."""
    lines = [
        "expected_admissions_per_referral:   # admissions per referral by tier "
        f"(fundsim expected-rates, scenario '{scenario_name}': the reference service, one tier at a time)"
    ]
    for row in rates.itertuples():
        lines.append(f"  {row.tier}: {row.mean:.{decimals}f}")
    return "\n".join(lines) + "\n"


__all__ = ["as_yaml", "expected_admissions_per_referral", "one_tier"]
