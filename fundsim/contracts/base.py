"""What every contract shares: its config base, its context, and its registry entry type.

A contract is a config model plus a *pure* payment function of the provider's monthly ledger:
no SimPy, no randomness, no I/O. That keeps payment rules testable with hand-made tables and
lets one simulated ledger be priced under every contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


class ContractConfig(BaseModel):
    """Base for contract configs: unknown keys are errors and configs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class UpliftedConfig(ContractConfig):
    """A contract whose prices and fixed amounts rise each contract year (NHS Payment Scheme uplift)."""

    cost_uplift_per_year: float = Field(
        0.029,
        ge=-0.5,
        le=1.0,
        allow_inf_nan=False,
        description="Annual cost uplift applied to the contract's prices and fixed amounts (share).",
    )
    efficiency_per_year: float = Field(
        0.011, ge=0.0, le=0.5, allow_inf_nan=False, description="Annual efficiency factor deducted (share)."
    )

    def uplift(self, contract_year: np.ndarray | pd.Series) -> np.ndarray:
        """Amounts in ``contract_year`` relative to year 1: (1 + uplift − efficiency)^(year − 1)."""
        year = np.asarray(contract_year, dtype=float)
        return (1.0 + self.cost_uplift_per_year - self.efficiency_per_year) ** (year - 1.0)


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
