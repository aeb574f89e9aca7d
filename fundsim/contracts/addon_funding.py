"""An add-on service's own funding line: included in the core contract, or paid for separately.

Hospital-avoidance add-ons (a 2-hour urgent community response, a virtual ward) are often funded
apart from the core district nursing contract, and measured on their own targets (issue 17). An
add-on's ``funding`` says how:

* ``included`` (the default): the core contract is meant to cover it; no money beyond the core
  contract's payment. Its work is then activity no funding line pays for.
* ``separate``, with exactly one of
  - ``block_gbp_per_team_per_year``: a ring-fenced block for each team (locality) a year;
  - ``block_gbp_per_place_per_year``: a ring-fenced block for each commissioned place a year
    (virtual wards; places are read from the ledger's place-days);
  - ``price_gbp_per_response``: a price for each urgent response (each call responded to);
  - ``price_gbp_per_bed_day``: a price for each occupied virtual-ward bed-day.

Amounts are in year-1 pounds and rise by ``uplift_per_year`` a contract year. Everything here is a
pure function of the provider's monthly ledger (one row per replication × month, localities summed
as :func:`fundsim.columns.provider_totals` does): no simulation, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from fundsim.contracts.base import ContractConfig

#: Days in a year, for spreading an annual block over months of uneven length.
DAYS_PER_YEAR = 365.25

#: The separate funding bases and the field that holds each one's amount.
BASIS_FIELDS = {
    "block_per_team": "block_gbp_per_team_per_year",
    "block_per_place": "block_gbp_per_place_per_year",
    "per_response": "price_gbp_per_response",
    "per_bed_day": "price_gbp_per_bed_day",
}

#: Largest amount of a funding line, £ (a typo guard: ten billion).
MAX_GBP = 1e10


class AddOnFunding(ContractConfig):
    """How an add-on service is paid for: within the core contract, or by a funding line of its own."""

    mode: Literal["included", "separate"] = Field(
        "included",
        description="included: covered by the core contract, no extra money; separate: a funding line of its own "
        "(set exactly one of the amounts below).",
    )
    block_gbp_per_team_per_year: float | None = Field(
        None,
        ge=0.0,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="separate: a ring-fenced block, £ a year for each team (locality).",
    )
    block_gbp_per_place_per_year: float | None = Field(
        None,
        ge=0.0,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="separate (virtual ward): a ring-fenced block, £ a year for each place.",
    )
    price_gbp_per_response: float | None = Field(
        None,
        ge=0.0,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="separate (urgent response): £ for each call responded to.",
    )
    price_gbp_per_bed_day: float | None = Field(
        None,
        ge=0.0,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="separate (virtual ward): £ for each occupied bed-day.",
    )
    uplift_per_year: float = Field(
        0.0,
        ge=-0.5,
        le=1.0,
        allow_inf_nan=False,
        description="Annual change of the amount (share a contract year; 0: flat in cash terms).",
    )

    @model_validator(mode="after")
    def _one_amount(self) -> AddOnFunding:
        given = [field for field in BASIS_FIELDS.values() if getattr(self, field) is not None]
        if self.mode == "included" and given:
            raise ValueError(
                f"mode included takes no amount (got {', '.join(given)}); use mode: separate to fund the add-on apart"
            )
        if self.mode == "separate" and len(given) != 1:
            raise ValueError(
                "mode separate needs exactly one of " + ", ".join(BASIS_FIELDS.values()) + f" (got {len(given)})"
            )
        return self

    @property
    def basis(self) -> str:
        """``included``, or the separate basis (``block_per_team``, ``block_per_place``, ``per_response``, …)."""
        for basis, field in BASIS_FIELDS.items():
            if getattr(self, field) is not None:
                return basis
        return "included"

    @property
    def amount_gbp(self) -> float:
        """The year-1 amount of the separate basis (0 when included)."""
        basis = self.basis
        return 0.0 if basis == "included" else float(getattr(self, BASIS_FIELDS[basis]))


@dataclass(frozen=True)
class AddOnColumns:
    """Where an add-on's activity and cost are in the ledger (columns absent from a ledger count as 0)."""

    #: Responses (urgent response) or occupied bed-days (virtual ward): what a price pays for.
    activity: str
    #: The add-on's own cost to the provider, £ (a dedicated rota, bank staff; shared core minutes are
    #: already in the core's staff cost).
    cost: str
    #: Place-days available (virtual ward), for a block per place; ``None`` when the add-on has no places.
    place_days: str | None = None


#: The ledger columns of each add-on (fundsim.sim.urgent_response; fundsim.sim.virtual_ward).
ADDON_COLUMNS: dict[str, AddOnColumns] = {
    "urgent_response": AddOnColumns(activity="ucr_calls", cost="ucr_staff_cost_gbp"),
    "virtual_ward": AddOnColumns(activity="vw_occupied_place_days", cost="vw_cost_gbp", place_days="vw_places_days"),
}

#: The bases each add-on may use (a price per bed-day means nothing to an urgent response).
ALLOWED_BASES: dict[str, tuple[str, ...]] = {
    "urgent_response": ("included", "block_per_team", "per_response"),
    "virtual_ward": ("included", "block_per_team", "block_per_place", "per_bed_day"),
}


def check_basis(funding: AddOnFunding, addon: str, where: str) -> None:
    """Raise ``ValueError`` (starting with ``where``) if ``addon`` cannot be funded on ``funding``'s basis."""
    allowed = ALLOWED_BASES[addon]
    if funding.basis not in allowed:
        raise ValueError(
            f"{where}: {BASIS_FIELDS[funding.basis]} does not apply to {addon.replace('_', ' ')}; "
            f"use one of {', '.join(BASIS_FIELDS.get(b, b) for b in allowed if b != 'included')} or mode: included"
        )


def _column(periods: pd.DataFrame, name: str | None) -> np.ndarray:
    if name is None or name not in periods:
        return np.zeros(len(periods))
    return periods[name].to_numpy(dtype=float)


def price_addon(periods: pd.DataFrame, funding: AddOnFunding, addon: str, teams: int) -> pd.DataFrame:
    """The funding line of ``addon`` for each row of ``periods`` (provider-wide months).

    ``periods`` needs ``days`` and ``contract_year`` and the add-on's ledger columns
    (:data:`ADDON_COLUMNS`; absent ones count as 0). ``teams`` is the number of localities (a block
    per team is paid for each). Returns, per row: ``income_gbp`` (what the funding line pays),
    ``cost_gbp`` (the add-on's own cost), ``activity`` (responses or occupied bed-days),
    ``funded_activity`` (the part a separate line pays for: all of it under a price or a
    ring-fenced block, none when included) and ``unfunded_activity``.
    """
    if addon not in ADDON_COLUMNS:
        raise KeyError(f"unknown add-on {addon!r}; known: {sorted(ADDON_COLUMNS)}")
    cols = ADDON_COLUMNS[addon]
    activity = _column(periods, cols.activity)
    days = periods["days"].to_numpy(dtype=float)
    index = (1.0 + funding.uplift_per_year) ** (periods["contract_year"].to_numpy(dtype=float) - 1.0)
    amount = funding.amount_gbp
    basis = funding.basis
    if basis == "block_per_team":
        income = amount * teams * days / DAYS_PER_YEAR * index
    elif basis == "block_per_place":
        # Place-days ÷ days = places on average over the month; × days / 365.25 = place-years.
        income = amount * _column(periods, cols.place_days) / DAYS_PER_YEAR * index
    elif basis in ("per_response", "per_bed_day"):
        income = amount * activity * index
    else:
        income = np.zeros(len(periods))
    funded = np.zeros(len(periods)) if basis == "included" else activity
    return pd.DataFrame(
        {
            "income_gbp": income,
            "cost_gbp": _column(periods, cols.cost),
            "activity": activity,
            "funded_activity": funded,
            "unfunded_activity": activity - funded,
        },
        index=periods.index,
    )


__all__ = [
    "ADDON_COLUMNS",
    "ALLOWED_BASES",
    "BASIS_FIELDS",
    "AddOnColumns",
    "AddOnFunding",
    "check_basis",
    "price_addon",
]
