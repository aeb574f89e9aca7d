"""What every contract shares: its config base, its context, and its registry entry type.

A contract is a config model plus a *pure* payment function of the provider's monthly ledger:
no SimPy, no randomness, no I/O. That keeps payment rules testable with hand-made tables and
lets one simulated ledger be priced under every contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel, ConfigDict


class ContractConfig(BaseModel):
    """Base for contract configs: unknown keys are errors and configs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


@dataclass(frozen=True)
class ContractContext:
    """Facts about the service a payment rule may need besides the ledger."""

    population: int
    months_per_year: int = 12
    #: Resident population of each locality (people), in scenario order.
    locality_populations: dict[str, int] = field(default_factory=dict)
    #: Complexity-tier names, lowest first (the ``<metric>_tier_<name>`` ledger columns use them).
    tier_names: tuple[str, ...] = ()
    #: The expected share of referrals in each tier at the start of the horizon (known in advance,
    #: so a payment built on it does not move with activity).
    expected_tier_mix: dict[str, float] = field(default_factory=dict)


#: A payment function: (provider monthly ledger, config, context) -> a frame with one row per ledger
#: row and the columns ``income_gbp``, ``contracted_activity`` and ``delivered_activity``, and
#: optionally ``hospital_cost_borne_gbp`` (the part of the hospital cost the provider pays, e.g.
#: under a capitated budget that includes acute emergency admissions; 0 when absent).
PaymentFunction = Callable[[pd.DataFrame, ContractConfig, ContractContext], pd.DataFrame]


@dataclass(frozen=True)
class ContractType:
    """A registry entry: the config model and the payment function of one funding model."""

    name: str
    config: type[ContractConfig]
    pay: PaymentFunction
    summary: str
