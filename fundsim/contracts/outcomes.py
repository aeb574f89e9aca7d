"""Outcomes-based: a fixed element plus payments for emergency admissions avoided and for KPIs met.

Per (replication, contract year) y, with g = 1 + cost uplift − efficiency and n the months of the year present:

    fixed       = fixed_gbp_per_year × g^(y − 1) × n / 12
    expected    = Σ_t expected_admissions_per_referral[t] × referrals_tier_<t>     (the risk model)
    observed    = admissions
    outcome     = payment_per_admission_avoided × (expected − observed)
                  when expected > observed (and, if pay_only_if_significant, observed < the lower limit L),
                  or, if penalty_if_above, when observed > expected (and, if significant, observed > the upper limit U);
                  0 otherwise
    kpi         = Σ over KPI bonuses met of bonus_share_of_fixed × fixed
    gain_share  = gain_share_of_acute_savings × max(0, expected − observed) × cost per admission
                  (cost_per_admission_gbp, or the year's hospital_cost_gbp / admissions; 0 if neither is defined)
    total       = fixed + outcome + kpi + gain_share;   income = max(0, total)

L and U are the 2.5% and 97.5% points of a Poisson count with mean = expected (the central 95% range),
so "significant" means the observed count is outside what chance alone would give 95% of the time.
The year's amounts are spread evenly over its months; ``floor_adjustment_gbp`` (≥ 0) is what clipping
at 0 added, so income = fixed + outcome + kpi + gain_share + floor_adjustment exactly.

The risk model uses only referrals by tier (which a commissioner can count), never the simulation's
counterfactual admissions.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.stats import poisson

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig, reference_activity
from fundsim.contracts.kpi import KpiTarget, target_met, year_kpis
from fundsim.contracts.table import Table, column, like, n_rows
from fundsim.contracts.years import YearGroups

#: Two-sided significance level of the Poisson test of observed against expected admissions.
SIGNIFICANCE = 0.05

Rate = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]


class KpiBonus(KpiTarget):
    """A KPI target whose bonus, a share of the fixed element, is earned in each contract year it is met."""

    bonus_share_of_fixed: float = Field(
        ge=0, le=1, allow_inf_nan=False, description="Bonus when the target is met (share of the year's fixed element)."
    )


class OutcomesContract(UpliftedConfig):
    """A fixed element plus payments for admissions avoided against a risk model, KPI bonuses and a gain-share."""

    fixed_gbp_per_year: float = Field(
        ge=0, le=1e11, allow_inf_nan=False, description="Fixed element in contract year 1 (£ a year)."
    )
    expected_admissions_per_referral: dict[str, Rate] = Field(
        default_factory=dict,
        description="Risk model: expected emergency admissions per referral in each tier (admissions per referral).",
    )
    payment_per_admission_avoided_gbp: float = Field(
        0.0,
        ge=0,
        le=1e6,
        allow_inf_nan=False,
        description="Paid per admission below the expectation (£ per admission); 0 = no outcome payment.",
    )
    pay_only_if_significant: bool = Field(
        False, description="Pay (or penalise) only when observed is outside the central 95% Poisson range."
    )
    penalty_if_above: bool = Field(
        False, description="Deduct payment_per_admission_avoided_gbp per admission above the expectation."
    )
    kpi_bonuses: tuple[KpiBonus, ...] = Field((), max_length=50, description="KPI bonuses earned per contract year.")
    gain_share_of_acute_savings: float = Field(
        0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of the acute savings (admissions avoided × cost per admission) paid to the provider.",
    )
    cost_per_admission_gbp: float | None = Field(
        None,
        gt=0,
        le=1e6,
        allow_inf_nan=False,
        description="Cost used to value an avoided admission (£); omitted = the year's observed average cost.",
    )
    reference_activity_per_year: float | None = Field(
        None,
        gt=0,
        le=1e9,
        allow_inf_nan=False,
        description="Activity the fixed element is expected to buy a year (contacts); omitted = no over-performance.",
    )


def _uses_risk_model(config: OutcomesContract) -> bool:
    return config.payment_per_admission_avoided_gbp > 0 or config.gain_share_of_acute_savings > 0


def _check_tiers(periods: Table, config: OutcomesContract, context: ContractContext) -> None:
    rates = config.expected_admissions_per_referral
    unknown = sorted(set(rates) - set(context.tier_names))
    if unknown:
        raise ValueError(
            f"outcomes.expected_admissions_per_referral names unknown tier(s) {unknown}; "
            f"tiers are {list(context.tier_names)}"
        )
    missing = [t for t in context.tier_names if t not in rates]
    if missing and _uses_risk_model(config):
        raise ValueError(
            f"outcomes.expected_admissions_per_referral must give a rate for every tier; missing {missing}"
        )
    columns = [f"referrals_tier_{t}" for t in rates if f"referrals_tier_{t}" not in periods]
    if columns:
        raise ValueError(f"outcomes needs the ledger column(s) {columns}")


def expected_admissions(periods: pd.DataFrame, config: OutcomesContract, context: ContractContext) -> pd.Series:
    """Risk-adjusted expected emergency admissions of each row: Σ_t rate_t × referrals_tier_<t>."""
    return pd.Series(_expected_admissions(periods, config, context), index=periods.index, name="expected_admissions")


def _expected_admissions(periods: Table, config: OutcomesContract, context: ContractContext) -> np.ndarray:
    _check_tiers(periods, config, context)
    total = np.zeros(n_rows(periods))
    for tier, rate in config.expected_admissions_per_referral.items():
        total = total + rate * column(periods, f"referrals_tier_{tier}")
    return total


def pay(periods: Table, config: OutcomesContract, context: ContractContext) -> Table:
    """Outcomes-based payments for each row of the provider's monthly ledger (annual amounts spread evenly)."""
    months = float(context.months_per_year)
    expected_row = _expected_admissions(periods, config, context)
    years = YearGroups.of(periods)
    n = years.sizes.astype(float)
    growth = config.uplift(years.contract_year)
    fixed = config.fixed_gbp_per_year * growth * n / months

    expected = years.sum(expected_row)
    observed = years.sum(column(periods, "admissions"))
    avoided = expected - observed
    if config.pay_only_if_significant:
        lower = poisson.ppf(SIGNIFICANCE / 2, expected)
        upper = poisson.ppf(1 - SIGNIFICANCE / 2, expected)
        reward = observed < lower
        penalise = observed > upper
    else:
        reward = avoided > 0
        penalise = avoided < 0
    outcome = np.where(reward, config.payment_per_admission_avoided_gbp * avoided, 0.0)
    if config.penalty_if_above:
        outcome = np.where(penalise, config.payment_per_admission_avoided_gbp * avoided, outcome)

    bonus_share = np.zeros(years.n_groups)
    if config.kpi_bonuses:
        kpis = year_kpis(periods, years)
        for bonus in config.kpi_bonuses:
            bonus_share += np.where(target_met(kpis, bonus), bonus.bonus_share_of_fixed, 0.0)
    kpi = bonus_share * fixed

    if config.cost_per_admission_gbp is not None:
        unit_cost = np.full(years.n_groups, config.cost_per_admission_gbp)
    else:
        hospital = years.sum(column(periods, "hospital_cost_gbp"))
        with np.errstate(divide="ignore", invalid="ignore"):
            unit_cost = np.where(observed > 0, hospital / observed, 0.0)
    gain_share = config.gain_share_of_acute_savings * np.maximum(avoided, 0.0) * unit_cost

    parts = {
        "fixed_gbp": years.per_row(fixed / n),
        "outcome_gbp": years.per_row(outcome / n),
        "kpi_gbp": years.per_row(kpi / n),
        "gain_share_gbp": years.per_row(gain_share / n),
    }
    total = parts["fixed_gbp"] + parts["outcome_gbp"] + parts["kpi_gbp"] + parts["gain_share_gbp"]
    income = np.maximum(total, 0.0)
    delivered = column(periods, "contacts")
    return like(
        periods,
        {
            "income_gbp": income,
            "contracted_activity": reference_activity(delivered, config.reference_activity_per_year, months),
            "delivered_activity": delivered,
            **parts,
            "floor_adjustment_gbp": income - total,
            "expected_admissions": expected_row,
        },
    )


CONTRACT = ContractType(
    name="outcomes",
    config=OutcomesContract,
    pay=pay,
    reads_column_tables=True,
    summary="fixed element plus payments for admissions avoided against a risk model, KPI bonuses and a gain-share",
    label="outcomes-based",
    colour="#CC79A7",
    scaled_fields=("fixed_gbp_per_year", "reference_activity_per_year"),
    tier_keyed_fields=("expected_admissions_per_referral",),
    every_tier_fields=("expected_admissions_per_referral",),
    # Assessments weight the mean-wait KPI a bonus may be paid on.
    activity_columns=("assessments",),
)
