"""What every contract shares: its config base, its context, and its registry entry type.

A contract is a config model plus a *pure* payment function of the provider's monthly ledger:
no SimPy, no randomness, no I/O. That keeps payment rules testable with hand-made tables and
lets one simulated ledger be priced under every contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field

from fundsim.contracts.table import Table


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

    def uplift(self, contract_year: ArrayLike) -> np.ndarray:
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


#: The config model of one contract type: a payment rule and a check read their own contract's config.
ConfigT = TypeVar("ConfigT", bound=ContractConfig)

#: A payment function: (provider monthly ledger, config, context) -> a table with one row per ledger
#: row and the columns ``income_gbp``, ``contracted_activity`` and ``delivered_activity``, and
#: optionally ``hospital_cost_borne_gbp`` (the part of the hospital cost the provider pays, e.g.
#: under a capitated budget that includes acute emergency admissions; 0 when absent). It is given a
#: DataFrame and returns one with the same index; a contract whose ``ContractType`` says
#: ``reads_column_tables`` may also be given a dict of numpy columns, and then returns one
#: (:mod:`fundsim.contracts.table`).
PaymentFunction = Callable[[Table, ConfigT, ContractContext], Table]


#: An extra check of a contract's config against the scenario: raise ``ValueError`` with a message
#: that starts with ``where`` (e.g. ``contracts.block``) when they do not fit together.
ScenarioCheck = Callable[[ConfigT, ContractContext, str], None]

#: A contract's name: what scenario files write under ``contracts:`` and in ``contract:``.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def reference_activity(delivered: np.ndarray, reference_per_year: float | None, months_per_year: float) -> np.ndarray:
    """The "contracted" activity of a contract that buys no activity: a stated reference a month, or what was delivered.

    Capitation, outcomes and year-of-care contracts pay for people or results, not contacts; the
    over-performance measures compare delivery with ``reference_per_year`` when the scenario gives
    one, and with delivery itself (no over-performance) when it does not.
    """
    if reference_per_year is None:
        return delivered
    return np.full(len(delivered), reference_per_year / months_per_year)


@dataclass(frozen=True)
class ContractType(Generic[ConfigT]):
    """Everything fundsim knows about one funding model; its module's ``CONTRACT`` and its registry entry.

    Every place that treats contracts differently reads it from here, so a new contract is one module
    and one registry line: the scenario schema (a ``contracts.<name>`` field typed by ``config``), the
    checks against the scenario (``tier_keyed_fields`` and friends, ``check``), scaling a scenario's
    size (``scaled_fields``), the provider's "one more contact" price (``activity_columns``) and the
    report (``label``, ``colour``). It is generic in its config model, so ``pay`` and ``check`` are
    checked against the config they are given (``ContractType[BlockContract]``).
    """

    #: The name in scenario files (``contracts.<name>``, ``contract: <name>``) and in every result table.
    name: str
    #: The config model: the contract's parameters, bounded, unknown keys rejected.
    config: type[ConfigT]
    #: The payment rule, a pure function of the provider's monthly ledger.
    pay: PaymentFunction[ConfigT]
    #: One line, shown in the JSON Schema of ``contracts.<name>``.
    summary: str
    #: The readable name in tables, figures and the report's text (``cost and volume``).
    label: str
    #: The contract's colour in every figure (``#RRGGBB``); ``None`` takes a spare colour of the palette.
    colour: str | None = None
    #: Config fields that are totals for the whole population: multiplied with the population when a
    #: scenario's size is scaled (per-head rates and prices are not).
    scaled_fields: tuple[str, ...] = ()
    #: Config fields holding a mapping keyed by complexity-tier name.
    tier_keyed_fields: tuple[str, ...] = ()
    #: Of ``tier_keyed_fields``, those that must name every tier.
    every_tier_fields: tuple[str, ...] = ()
    #: Config fields holding a mapping keyed by locality name.
    locality_keyed_fields: tuple[str, ...] = ()
    #: Ledger columns that grow with activity and that the payment reads: scaled together to price
    #: "one more contact" (an empty tuple: income does not move with activity).
    activity_columns: tuple[str, ...] = ()
    #: Per-tier metrics of the same kind (``<metric>_tier_<tier>`` columns, e.g. ``contacts``, ``episodes``).
    activity_tier_metrics: tuple[str, ...] = ()
    #: The config field holding the contacts a year the contract plans for (``None``: it plans none), read
    #: by the pre-run sizing check to compare the contract with the demand it will meet.
    planned_activity_field: str | None = None
    #: Whether ``pay`` also prices a dict of numpy columns (returning one), bit for bit as it prices the
    #: same columns in a DataFrame: the provider's monthly review then skips building frames
    #: (:mod:`fundsim.contracts.table`). Every built-in contract does; a new one need not.
    reads_column_tables: bool = False
    #: Any further check of a config against the scenario (beyond the keyed fields).
    check: ScenarioCheck[ConfigT] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(f"contract name {self.name!r} must be lower case letters, digits and _")
        if self.colour is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", self.colour):
            raise ValueError(f"contract {self.name}: colour {self.colour!r} is not #RRGGBB")
        declared = {
            "scaled_fields": self.scaled_fields,
            "tier_keyed_fields": self.tier_keyed_fields,
            "every_tier_fields": self.every_tier_fields,
            "locality_keyed_fields": self.locality_keyed_fields,
            "planned_activity_field": (self.planned_activity_field,) if self.planned_activity_field else (),
        }
        for what, names in declared.items():
            unknown = [n for n in names if n not in self.config.model_fields]
            if unknown:
                raise ValueError(f"contract {self.name}: {what} names no field of {self.config.__name__}: {unknown}")
        if not set(self.every_tier_fields) <= set(self.tier_keyed_fields):
            raise ValueError(f"contract {self.name}: every_tier_fields must also be tier_keyed_fields")
        if set(self.tier_keyed_fields) & set(self.locality_keyed_fields):
            raise ValueError(f"contract {self.name}: a field cannot be keyed by both tier and locality")

    def check_scenario(self, config: ConfigT, context: ContractContext, where: str) -> None:
        """Raise ``ValueError`` if ``config`` does not fit the scenario ``context`` describes.

        Mappings keyed by tier or locality must name tiers or localities that exist (and, for
        ``every_tier_fields``, every tier); then the contract's own ``check`` runs. Messages start
        with ``where`` (``contracts.<name>``).
        """
        tiers = list(context.tier_names)
        localities = list(context.locality_populations)
        for name, value in config:
            if value is None:
                continue
            if name in self.tier_keyed_fields:
                known, what = tiers, "tiers"
            elif name in self.locality_keyed_fields:
                known, what = localities, "localities"
            else:
                continue
            missing = [k for k in known if k not in value]
            if name in self.every_tier_fields and missing:
                raise ValueError(f"{where}.{name} must give a rate for every tier; missing {missing}")
            unknown = sorted(set(value) - set(known))
            if unknown:
                raise ValueError(f"{where}.{name} names unknown {what} {unknown}; {what} are {known}")
        if self.check is not None:
            self.check(config, context, where)

    def activity_ledger_columns(self, tier_names: tuple[str, ...] | list[str]) -> list[str]:
        """The ledger columns that grow with the activity this contract pays on, per-tier ones included."""
        per_tier = [f"{metric}_tier_{tier}" for metric in self.activity_tier_metrics for tier in tier_names]
        return [*self.activity_columns, *per_tier]

    def scale(self, config: dict[str, Any], factor: float) -> None:
        """Multiply the ``scaled_fields`` of ``config`` (plain scenario data) by ``factor``, in place."""
        for name in self.scaled_fields:
            if config.get(name) is not None:
                config[name] *= factor
