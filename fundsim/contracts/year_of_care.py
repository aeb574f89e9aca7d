"""Year of care: a payment per person on the caseload per year, by complexity tier.

The 10 Year Health Plan for England (*Fit for the future*, July 2025) announces "year of care"
payments: a provider is paid a set amount for each person it looks after for a year, whatever the
number of contacts, so the money follows the people on the caseload rather than activity or a
historic block.

**Who is on the caseload in a year.** The ledger has no per-person rows, so fundsim counts, for each
replication and contract year y and tier t:

    people_t(y) = opening_t(y) + started_t(y)
    opening_t(y) = opening(y) × mix_t                                  (carried in from earlier years)
    opening(y)   = caseload_end − caseload_entries + discharges + episodes_ended_by_admission
                   of the year's first month                           (the caseload at its start)
    started_t(y) = Σ over the year's months of episodes_tier_<t>       (episodes started in the year)

``mix_t`` is the expected tier mix of the scenario (known in advance): the ledger keeps the caseload
snapshot as a total, not by tier. An episode counts as a person: someone referred twice in a year is
counted twice (the ledger cannot tell), as a commissioner counting episodes would.

**Payment** for a month of contract year y (g = 1 + uplift − efficiency):

    income_gbp = Σ_t rate_t × g^(y − 1) × (opening_t(y) / 12 + episodes_tier_<t> of the month)

so the people carried in are paid in twelfths and each new person in the month their episode starts;
a full year pays Σ_t rate_t × g^(y − 1) × people_t(y). A month's payment depends only on that month and
on the first month of its year, so a year priced month by month (the provider's review) and priced at
the end agree. Income is ≥ 0 (the opening caseload is clipped at 0).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from fundsim.contracts.base import ContractContext, ContractType, UpliftedConfig, reference_activity
from fundsim.contracts.table import Table, column, like, n_rows
from fundsim.contracts.years import YearGroups

Rate = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]

#: Ledger columns whose flow gives the caseload at the start of a month.
FLOW_COLUMNS = ("caseload_end", "caseload_entries", "discharges", "episodes_ended_by_admission")


class YearOfCareContract(UpliftedConfig):
    """A payment per person on the caseload per year, by complexity tier."""

    cost_uplift_per_year: float = Field(
        0.0483,
        ge=-0.5,
        le=1.0,
        allow_inf_nan=False,
        description="Annual cost uplift of the rates (share; NHSPS 2025/26: 4.83% after pay awards).",
    )
    efficiency_per_year: float = Field(
        0.02, ge=0.0, le=0.5, allow_inf_nan=False, description="Annual efficiency factor (share; NHSPS 2025/26: 2%)."
    )
    rate_gbp_per_person_year: dict[str, Rate] = Field(
        description="Payment per person on the caseload per year in each tier, contract year 1 (£ per person a year)."
    )
    reference_activity_per_year: float | None = Field(
        None,
        gt=0,
        le=1e9,
        allow_inf_nan=False,
        description="Activity the payments are expected to buy a year (units); omitted = no over-performance.",
    )
    activity_unit: Literal["contacts", "contact_hours"] = Field(
        "contacts", description="What delivered activity is counted in: contacts, or face-to-face hours."
    )


def _check_columns(periods: Table, config: YearOfCareContract, context: ContractContext) -> None:
    unknown = sorted(set(config.rate_gbp_per_person_year) - set(context.tier_names))
    if unknown:
        raise ValueError(
            f"year_of_care.rate_gbp_per_person_year names unknown tier(s) {unknown}; "
            f"tiers are {list(context.tier_names)}"
        )
    missing = [t for t in context.tier_names if t not in config.rate_gbp_per_person_year]
    if missing:
        raise ValueError(f"year_of_care.rate_gbp_per_person_year must give a rate for every tier; missing {missing}")
    needed = [*FLOW_COLUMNS, *(f"episodes_tier_{t}" for t in context.tier_names)]
    absent = [c for c in needed if c not in periods]
    if absent:
        raise ValueError(f"year_of_care needs the ledger column(s) {absent}")


def opening_caseload(periods: Table) -> np.ndarray:
    """Each row's caseload at the start of its contract year (people), from the year's first month."""
    start = column(periods, "caseload_end", None) - column(periods, "caseload_entries", None)
    start = start + column(periods, "discharges", None) + column(periods, "episodes_ended_by_admission", None)
    start = np.maximum(start.astype(float), 0.0)
    years, order = YearGroups.in_month_order(periods)
    opening = np.empty(len(order))
    opening[order] = years.per_row(start[order][years.rank() == 0])  # the first months, in the groups' order
    return opening


def pay(periods: Table, config: YearOfCareContract, context: ContractContext) -> Table:
    """Year-of-care payments for each row of the provider's monthly ledger."""
    _check_columns(periods, config, context)
    months = float(context.months_per_year)
    growth = config.uplift(column(periods, "contract_year"))
    n = n_rows(periods)
    opening = opening_caseload(periods) if n else np.zeros(0)
    mix = context.expected_tier_mix or {t: 1.0 / len(context.tier_names) for t in context.tier_names}
    income = np.zeros(n)
    people = np.zeros(n)
    for tier, rate in config.rate_gbp_per_person_year.items():
        paid_people = opening * mix.get(tier, 0.0) / months + column(periods, f"episodes_tier_{tier}")
        income += rate * growth * paid_people
        people += paid_people
    delivered = column(periods, config.activity_unit)
    contracted = reference_activity(delivered, config.reference_activity_per_year, months)
    return like(
        periods,
        {
            "income_gbp": income,
            "contracted_activity": contracted,
            "delivered_activity": delivered,
            # People paid for in the month: a twelfth of the opening caseload plus the month's new episodes.
            "people_paid": people,
            "opening_caseload": opening,
        },
    )


CONTRACT = ContractType(
    name="year_of_care",
    config=YearOfCareContract,
    pay=pay,
    reads_column_tables=True,
    summary="a payment per person on the caseload per year by complexity tier (10 Year Health Plan, 2025)",
    label="year of care",
    colour="#DDCC77",
    scaled_fields=("reference_activity_per_year",),
    tier_keyed_fields=("rate_gbp_per_person_year",),
    every_tier_fields=("rate_gbp_per_person_year",),
    # Income follows episodes started (and the caseload at the year's start), not contacts.
    activity_columns=("caseload_entries", "caseload_end"),
    activity_tier_metrics=("episodes",),
)
