"""Options for the analysis rather than the service: the risk view's demand range and prices for patients' burden."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fundsim.scenario.fields import Model


class RiskView(Model):
    """The 'who bears the risk' view: `fundsim compare` repeated across a range of demand growth."""

    demand_growth_per_year: list[Annotated[float, Field(ge=-0.5, le=2.0, allow_inf_nan=False)]] = Field(
        min_length=2, max_length=12, description="Values of demand.growth_per_year to compare the contracts at."
    )
    replications: int = Field(3, ge=1, le=1000, description="Replications at each growth value.")


class Price(Model):
    """A price a scenario puts on something the model counts in natural units, with where it comes from."""

    gbp: float = Field(ge=0.0, le=1_000_000, allow_inf_nan=False, description="£ per unit.")
    source: str = Field(
        min_length=1,
        max_length=500,
        description="Where the price comes from (a publication, a local figure, an assumption); shown beside it.",
    )


class Valuation(Model):
    """Optional prices for the burden patients carry, which the model counts but cannot price itself.

    Off by default: without this section fundsim shows these measures in their natural units only
    (docs/incidence.md). Each price given turns one row of the incidence table into £ as well.
    """

    wait_day: Price | None = Field(None, description="£ per extra person-day waiting for assessment.")
    declined_referral: Price | None = Field(None, description="£ per referral declined.")
    visit_deferral: Price | None = Field(None, description="£ per visit deferred to a later day.")
    missed_visit: Price | None = Field(None, description="£ per visit missed.")
    visit_minute_cut: Price | None = Field(None, description="£ per face-to-face minute cut by rationing.")
