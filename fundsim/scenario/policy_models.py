"""How the provider responds to its contract: hiring, shedding, unpaid overtime and rationing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fundsim.scenario.fields import Model, Probability


class Hiring(Model):
    """Hiring when more activity pays its way (or surplus allows) and the service is under pressure."""

    step_share: float = Field(
        0.02, ge=0.0, le=0.5, allow_inf_nan=False, description="FTE added at one review, as a share of initial FTE."
    )
    lag_months: int = Field(3, ge=0, le=24, description="Months from the decision to hire to staff starting work.")
    max_growth_per_year: float = Field(
        0.10,
        ge=0.0,
        le=2.0,
        allow_inf_nan=False,
        description="Workforce-supply limit: FTE that can be recruited in any 12 months, as a share of initial FTE.",
    )
    min_margin_share: float = Field(
        0.0,
        ge=-1.0,
        le=5.0,
        allow_inf_nan=False,
        description="Hire when the marginal income of a contact is at least unit cost × (1 + this).",
    )
    surplus_headroom_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Also hire when the year-to-date surplus exceeds this share of income (spare money).",
    )


class Shedding(Model):
    """Shedding staff (by not replacing leavers) when in deficit and activity does not pay."""

    step_share: float = Field(
        0.01, ge=0.0, le=0.5, allow_inf_nan=False, description="FTE removed at one review, share of initial FTE."
    )
    lag_months: int = Field(1, ge=0, le=24, description="Months from the decision to the FTE leaving.")
    floor_share: Probability = Field(0.8, description="FTE never falls below this share of the initial FTE.")


class OvertimeResponse(Model):
    """Absorbing pressure by staff working longer unpaid."""

    max_unpaid_share: Probability = Field(0.9, description="Highest share of overtime worked unpaid.")
    step: Probability = Field(0.05, description="Change in the unpaid share at one review.")


#: The largest share of a visit's face-to-face time rationing may remove (a visit never shrinks to nothing).
MAX_VISIT_SHORTENING = 0.9


class Rationing(Model):
    """Rationing care when the service is under pressure and more activity would not be paid for."""

    max_level: int = Field(3, ge=0, le=10, description="Most rationing steps the provider will take.")
    interval_stretch_per_level: float = Field(
        0.05, ge=0.0, le=2.0, allow_inf_nan=False, description="Intervals between visits grow by this share per level."
    )
    visit_shortening_per_level: float = Field(
        0.03,
        ge=0.0,
        le=0.3,
        allow_inf_nan=False,
        description="Face-to-face time shrinks by this share per level (task-focused care).",
    )
    hazard_increase_per_level: float = Field(
        0.05,
        ge=0.0,
        le=5.0,
        allow_inf_nan=False,
        description="Admission hazard on the caseload rises by this share per level (the clinical cost of rationing).",
    )
    only_above_funded_activity: bool = Field(
        True, description="Ration only while the year's activity exceeds what the contract funds (its funded capacity)."
    )
    lowest_tier_decline_share_per_level: Probability = Field(
        0.05, description="Share of referrals of the lowest accepted tier declined, per level (tighter acceptance)."
    )

    @model_validator(mode="after")
    def _visits_keep_some_time(self) -> Rationing:
        # At the top level a visit's face-to-face time is × (1 − shortening × level): beyond 1 it
        # would be negative ("negative minutes worked"), so the product is bounded.
        total = self.visit_shortening_per_level * self.max_level
        if total > MAX_VISIT_SHORTENING + 1e-12:
            raise ValueError(
                f"visit_shortening_per_level × max_level is {total:g} ({self.visit_shortening_per_level:g} × "
                f"{self.max_level}): at the top rationing level visits would lose {total:.0%} of their face-to-face "
                f"time; the product must be at most {MAX_VISIT_SHORTENING:g} (lower one of the two)"
            )
        return self


#: Largest amount of money a scenario may state (reserves, a mobilisation cost): £10bn, the whole of
#: England's community health services budget (King's Fund 2018), so a larger figure is a typo.
MAX_GBP = 1e10


class RecoveryPlan(Model):
    """What the provider does while its reserves are at or below ``recovery_threshold_gbp``."""

    extra_ration_levels: int = Field(
        1,
        ge=0,
        le=10,
        description="Rationing levels added on top of the usual rule's level (capped at rationing.max_level).",
    )
    hiring_freeze: bool = Field(True, description="No hiring while the recovery plan is in force.")


class Reserves(Model):
    """The provider's reserves: deficits draw them down, surpluses rebuild them (docs/model.md, Reserves).

    Reserves are tracked monthly on the year-to-date accounts for the provider's decision and closed
    once a contract year (opening + surplus − deficit = closing). At or below
    ``recovery_threshold_gbp`` the provider runs its recovery plan; at or below ``failure_floor_gbp``
    it hands the contract back (fails): its responses stop and the levers in force are held.
    """

    opening_gbp: float = Field(
        ge=-MAX_GBP, le=MAX_GBP, allow_inf_nan=False, description="Reserves at the start of the horizon (GBP)."
    )
    recovery_threshold_gbp: float = Field(
        0.0,
        ge=-MAX_GBP,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="At or below these reserves (GBP) the provider runs its recovery plan.",
    )
    failure_floor_gbp: float = Field(
        ge=-MAX_GBP,
        le=MAX_GBP,
        allow_inf_nan=False,
        description="At or below these reserves (GBP) the provider hands the contract back (fails).",
    )
    recovery: RecoveryPlan = RecoveryPlan()

    @model_validator(mode="after")
    def _floor_below_threshold(self) -> Reserves:
        if self.failure_floor_gbp > self.recovery_threshold_gbp:
            raise ValueError(
                f"failure_floor_gbp ({self.failure_floor_gbp:g}) must be at most recovery_threshold_gbp "
                f"({self.recovery_threshold_gbp:g}): a provider tries a recovery plan before it fails"
            )
        return self


class Retendering(Model):
    """The contract is re-let every ``every_years`` years (docs/model.md, Re-tendering).

    At each re-let (the first day of contract years ``every_years`` + 1, 2 × ``every_years`` + 1, …):
    a mobilisation cost, a transition period of lower productivity, a share of the transferred staff
    lost (replaced after ``hiring.lag_months``), and the contract's value × ``bid_value_share``.
    """

    every_years: int = Field(ge=1, le=10, description="Years between re-lets (the contract's length).")
    mobilisation_cost_gbp: float = Field(
        0.0, ge=0.0, le=MAX_GBP, allow_inf_nan=False, description="One-off provider cost at each re-let (GBP)."
    )
    transition_months: int = Field(
        0, ge=0, le=24, description="Months after a re-let during which staff are less productive."
    )
    transition_productivity_loss_share: Probability = Field(
        0.0, description="Share of staff time lost to the transition (induction, new systems) in those months."
    )
    staff_lost_share: Probability = Field(
        0.0, description="Share of the transferred staff who leave at the re-let (replaced after hiring.lag_months)."
    )
    bid_value_share: float = Field(
        1.0,
        gt=0.0,
        le=2.0,
        allow_inf_nan=False,
        description="The winning bid's contract value as a share of the current value (1: unchanged).",
    )


#: How the provider responds to its contract (``ProviderPolicy.mode``).
PolicyMode = Literal["passive", "responsive"]


class ProviderPolicy(Model):
    """How the provider manages its service in response to its contract (a monthly review).

    ``passive`` switches every response off: the contract then moves money and nothing else.
    ``responsive`` applies the rules in :mod:`fundsim.sim.policy` (documented in docs/model.md).
    """

    mode: PolicyMode = "responsive"
    pressure_waiting_weeks: float = Field(
        4.0,
        ge=0.0,
        le=520,
        allow_inf_nan=False,
        description="Under pressure when the waiting list exceeds this many weeks of assessments.",
    )
    pressure_missed_share: Probability = Field(
        0.01, description="Under pressure when more than this share of due visits are missed."
    )
    pressure_deferral_share: Probability = Field(
        0.15, description="Under pressure when more than this share of due visits are deferred."
    )
    hiring: Hiring = Hiring()
    shedding: Shedding = Shedding()
    deficit_tolerance_share: Probability = Field(
        0.02, description="Year-to-date deficit, as a share of income, the provider tolerates before shedding staff."
    )
    overtime: OvertimeResponse = OvertimeResponse()
    rationing: Rationing = Rationing()
    reserves: Reserves | None = Field(
        None, description="The provider's reserves, recovery plan and failure floor (off when absent)."
    )
    retendering: Retendering | None = Field(
        None, description="Re-letting the contract every few years (off when absent)."
    )

    @model_validator(mode="after")
    def _managed_when_needed(self) -> ProviderPolicy:
        # Reserves act through the provider's monthly review process (re-tendering runs under either mode:
        # fundsim.sim.retender.start_passive_relets carries its effects when there is no review).
        if self.mode == "passive" and self.reserves is not None:
            raise ValueError("reserves need mode: responsive (they act through the provider's monthly review)")
        return self
