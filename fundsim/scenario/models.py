"""The scenario schema: one pydantic model per concern.

Every external input to fundsim passes through these models. They reject unknown keys
(``extra="forbid"``) so that a typo fails loudly, bound every number, and are frozen so a
scenario is never mutated after validation (a sweep derives a new one per point instead).
Units are in the field names (``_gbp``, ``_days``, ``_minutes``, ``_per_1000_per_year``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from fundsim.contracts import REGISTRY, on_change
from fundsim.contracts.base import ContractConfig, ContractContext

#: Tolerance when checking that a probability mix sums to one.
MIX_TOLERANCE = 1e-6
#: Largest total population of a scenario: about the United Kingdom's (a larger "service" is a typo,
#: and would take days to simulate).
MAX_TOTAL_POPULATION = 70_000_000
#: Largest mean duration of a visit, assessment or journey, in minutes (a whole day).
MAX_VISIT_MINUTES = 24 * 60
#: Largest mean hospital length of stay, in days.
MAX_STAY_DAYS = 365
#: Largest relative referral rate of one weekday (the profile is rescaled to average 1).
MAX_WEEKDAY_WEIGHT = 100

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
#: A relative weight (a weekday's referral rate against the others).
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEEKDAY_WEIGHT, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")]


class Model(BaseModel):
    """Base for every scenario model: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_mix(mix: dict[str, float], what: str) -> dict[str, float]:
    """Raise if the shares of ``mix`` do not sum to one (the sum is shown)."""
    total = math.fsum(mix.values())
    if abs(total - 1.0) > MIX_TOLERANCE:
        raise ValueError(f"{what} must sum to 1, got {total:.6g}")
    return mix


# --------------------------------------------------------------------------- simulation


class Simulation(Model):
    """Clock, horizon, warm-up, replications and the scheduling mode."""

    start_date: dt.date = Field(
        dt.date(2025, 4, 1),
        # Bounded so that the warm-up before it and up to 20 years after it stay within the calendar
        # (years 1 to 9999): a start in year 1 or 9999 would pass validation and crash a run.
        ge=dt.date(1900, 1, 1),
        le=dt.date(2200, 12, 31),
        description="First day of the first contract year (statistics start here); 1900-01-01 to 2200-12-31.",
    )
    horizon_years: float = Field(3.0, gt=0, le=20, description="Length of the measured period in years.")
    warmup_days: int = Field(
        180, ge=0, le=3650, description="Days simulated before start_date and excluded from statistics."
    )
    seed: int = Field(20251, ge=0, le=2**63 - 1, description="Master seed; replication seeds derive from it.")
    replications: int = Field(5, ge=1, le=10_000, description="Default number of replications for `run`.")
    scheduling: Literal["daily", "continuous"] = Field(
        "daily",
        description=(
            "daily: visits are planned once a day against rostered capacity (the fast default). "
            "continuous: every visit queues for a staff member in continuous time (a validation path "
            "that reduces to M/M/c)."
        ),
    )


# --------------------------------------------------------------------------- demand


class Seasonality(Model):
    """Winter peak in referrals: rate × (1 + amplitude × cos(2π (day_of_year − peak) / 365.25))."""

    winter_amplitude: float = Field(0.10, ge=0.0, lt=1.0, allow_inf_nan=False)
    peak_day_of_year: int = Field(15, ge=1, le=366)


class Demand(Model):
    """How referrals arrive and what they bring (shared by all localities)."""

    growth_per_year: float = Field(
        0.03, ge=-0.5, le=2.0, allow_inf_nan=False, description="Compound annual growth of the referral rate."
    )
    seasonality: Seasonality = Seasonality()
    weekday_profile: tuple[Weight, Weight, Weight, Weight, Weight, Weight, Weight] = Field(
        (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
        description="Relative referral rate Monday..Sunday; rescaled to average 1.",
    )
    complexity_mix: dict[str, Probability] = Field(
        description="Share of referrals in each complexity tier at the start of the horizon."
    )
    complexity_mix_end: dict[str, Probability] | None = Field(
        None, description="Mix at the end of the horizon (linear drift); omit for a constant mix."
    )
    sources: dict[str, Probability] = Field(
        default_factory=lambda: {"gp": 0.45, "hospital_discharge": 0.40, "other": 0.15},
        description="Share of referrals by source.",
    )
    urgent_share: Probability = Field(0.15, description="Share of referrals that are urgent.")

    @field_validator("complexity_mix", "complexity_mix_end", "sources")
    @classmethod
    def _sums_to_one(cls, value: dict[str, float] | None, info) -> dict[str, float] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("must name at least one entry")
        return _check_mix(value, info.field_name)

    @field_validator("weekday_profile")
    @classmethod
    def _profile_positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if sum(value) <= 0:
            raise ValueError("at least one weekday must have a positive rate")
        return value


class Locality(Model):
    """A place with a population, its referral rate and its share of the workforce."""

    name: Name
    population: int = Field(gt=0, le=20_000_000, description="Resident population (people).")
    referral_rate_per_1000_per_year: float = Field(gt=0, le=10_000, allow_inf_nan=False)
    staff_share: Probability | None = Field(
        None, description="Share of every grade's FTE working here; default: population share."
    )


# --------------------------------------------------------------------------- care


class Distribution(Model):
    """A positive random quantity given by its mean and coefficient of variation.

    The unit is the field's (minutes for visits, days for a length of stay); the subclasses below
    bound the mean for each use.
    """

    mean: float = Field(ge=0.0, le=1e6, allow_inf_nan=False)
    cv: float = Field(0.0, ge=0.0, le=5.0, allow_inf_nan=False)
    distribution: Literal["fixed", "lognormal", "exponential", "gamma"] = "lognormal"

    @model_validator(mode="after")
    def _exponential_cv(self) -> Distribution:
        if self.distribution == "exponential" and self.cv not in (0.0, 1.0):
            raise ValueError("an exponential distribution has cv 1; leave cv out or set it to 1")
        return self


class DurationMinutes(Distribution):
    """A duration in minutes (an assessment, a visit, a journey); the mean is at most one day."""

    mean: float = Field(ge=0.0, le=MAX_VISIT_MINUTES, allow_inf_nan=False, description="Mean, in minutes.")


class StayDays(Distribution):
    """A hospital length of stay in days; the mean is at most a year."""

    mean: float = Field(ge=0.0, le=MAX_STAY_DAYS, allow_inf_nan=False, description="Mean, in days.")


class VisitCount(Model):
    """Number of follow-up visits after the initial assessment."""

    mean: float = Field(ge=0.0, le=1000, allow_inf_nan=False)
    distribution: Literal["fixed", "poisson", "geometric"] = "geometric"
    maximum: int = Field(400, ge=0, le=5000, description="Cap on the number of visits in one episode.")


class Tier(Model):
    """A complexity tier: its care plan, who may visit, and its deterioration risk."""

    name: Name
    assessment_minutes: DurationMinutes = DurationMinutes(mean=60, cv=0.3)
    visits: VisitCount
    interval_days: float = Field(gt=0, le=365, allow_inf_nan=False, description="Days between planned visits.")
    face_to_face_minutes: DurationMinutes
    travel_minutes: DurationMinutes = DurationMinutes(mean=20, cv=0.4)
    allowed_grades: list[Name] = Field(min_length=1, description="Staff grades that may make these visits.")
    daily_admission_hazard: float = Field(
        ge=0.0, le=1.0, allow_inf_nan=False, description="Emergency admissions per person-day while under care."
    )


# --------------------------------------------------------------------------- workforce


class Grade(Model):
    """A staff grade: how many, what they cost, and how they are rostered."""

    name: Name
    fte: float = Field(ge=0, le=100_000, allow_inf_nan=False, description="Whole-time equivalents employed.")
    hourly_cost_gbp: float = Field(gt=0, le=1000, allow_inf_nan=False)
    contract_hours_per_week: float = Field(37.5, gt=0, le=168, allow_inf_nan=False)
    shift_hours: float = Field(7.5, gt=0, le=24, allow_inf_nan=False)
    weekend_staffing_ratio: float = Field(
        0.5, ge=0, le=5, allow_inf_nan=False, description="Staff on duty on a weekend day relative to a weekday."
    )
    annual_leave_share: Probability = Field(0.13, description="Share of rostered shifts lost to annual leave.")
    sickness_share: Probability = Field(0.055, description="Share of rostered shifts lost to sickness.")
    patient_facing_share: Probability = Field(
        0.67, description="Share of on-duty time available for visits and travel (the rest: admin, handover)."
    )
    overtime_cap_hours_per_shift: float = Field(1.0, ge=0, le=12, allow_inf_nan=False)


class Workforce(Model):
    """Staff grades and the terms on which overtime is worked."""

    grades: list[Grade] = Field(min_length=1)
    unpaid_overtime_share: Probability = Field(
        0.6, description="Share of overtime hours worked unpaid (staff staying late to finish)."
    )
    overtime_premium: float = Field(
        1.5, ge=1.0, le=5.0, allow_inf_nan=False, description="Pay multiple for paid overtime."
    )
    pay_uplift_per_year: float = Field(
        0.0, ge=-0.5, le=1.0, allow_inf_nan=False, description="Annual pay award applied at each contract year."
    )

    @field_validator("grades")
    @classmethod
    def _unique_names(cls, grades: list[Grade]) -> list[Grade]:
        names = [g.name for g in grades]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"grade names must be unique; repeated: {', '.join(duplicated)}")
        return grades


class Care(Model):
    """How the service runs its day: deferral and what counts as missed."""

    deferral_tolerance_days: int = Field(
        2, ge=0, le=60, description="A visit deferred for more than this many days is missed."
    )
    urgent_assessment_first: bool = Field(True, description="Urgent assessments before all other work.")
    assessment_capacity_share: Probability = Field(
        0.10,
        description=(
            "Share of each day's rostered visit time reserved for routine assessments before due visits, "
            "so new patients keep being seen when the caseload could fill the day."
        ),
    )
    min_accepted_tier: int = Field(
        0, ge=0, le=20, description="Referrals of tiers below this index are declined (0: accept all)."
    )


# --------------------------------------------------------------------------- outcomes


class Outcomes(Model):
    """Deterioration: how the daily admission hazard moves with the care received."""

    waiting_hazard_multiplier: float = Field(1.5, ge=0, le=100, allow_inf_nan=False)
    untreated_hazard_multiplier: float = Field(
        1.5, ge=0, le=100, allow_inf_nan=False, description="Hazard without community care (the counterfactual)."
    )
    missed_visit_hazard_multiplier: float = Field(2.0, ge=0, le=100, allow_inf_nan=False)
    missed_visit_effect_days: float = Field(7.0, ge=0, le=365, allow_inf_nan=False)
    post_discharge_hazard_multiplier: float = Field(1.0, ge=0, le=100, allow_inf_nan=False)
    follow_up_days: float = Field(
        60.0, ge=0, le=3650, allow_inf_nan=False, description="Days each person is followed after the planned episode."
    )


class Hospital(Model):
    """What an emergency admission costs."""

    tariff_gbp: float = Field(1900.0, ge=0, le=1e6, allow_inf_nan=False, description="Payment per non-elective spell.")
    trim_point_days: float = Field(8.0, ge=0, le=365, allow_inf_nan=False)
    excess_bed_day_gbp: float = Field(350.0, ge=0, le=1e5, allow_inf_nan=False)
    length_of_stay_days: StayDays = StayDays(mean=7.0, cv=1.0)
    ends_episode_probability: Probability = Field(0.5, description="Chance an admission ends the community episode.")


# --------------------------------------------------------------------------- contracts & policy


class ContractsModel(Model):
    """The base of ``Contracts``, whose fields (one optional config per registered contract) are made at run time."""

    if TYPE_CHECKING:
        # The fields come from the registry when fundsim runs, so a type checker cannot see them: to it,
        # any attribute is a contract's config, or None when the scenario does not configure that contract.
        def __getattr__(self, name: str) -> ContractConfig | None: ...


#: The ``Contracts`` model built for each state of the registry: when a contract registered for a while
#: (a test's) is removed, the model returns to the very class scenarios made before it were validated
#: with, so they still pickle (to a worker process) and compare as before.
_CONTRACTS_MODELS: dict[tuple[object, ...], type[ContractsModel]] = {}


def _contracts_model() -> type[ContractsModel]:
    """One optional field per registered contract, so adding a contract needs no edit here."""
    key = tuple(REGISTRY.items())
    if key not in _CONTRACTS_MODELS:
        # Typed Any: create_model's ``**field_definitions`` shares its keywords with ``__config__`` & co.
        fields: dict[str, Any] = {
            name: (entry.config | None, Field(None, description=entry.summary)) for name, entry in key
        }
        _CONTRACTS_MODELS[key] = create_model(
            "Contracts",
            __base__=ContractsModel,
            __doc__="The funding models a scenario can be run under.",
            __module__=__name__,
            **fields,
        )
    return _CONTRACTS_MODELS[key]


if TYPE_CHECKING:
    #: To a type checker, the contracts section is its static base (see ``ContractsModel``).
    Contracts = ContractsModel
else:
    Contracts = _contracts_model()


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


class Scenario(Model):
    """A whole scenario: one community nursing service, its demand, staff and contracts."""

    name: Name
    description: str = Field("", max_length=10_000)
    simulation: Simulation = Simulation()
    demand: Demand
    localities: list[Locality] = Field(min_length=1, max_length=200)
    tiers: list[Tier] = Field(min_length=1, max_length=20)
    workforce: Workforce
    care: Care = Care()
    outcomes: Outcomes = Outcomes()
    hospital: Hospital = Hospital()
    contracts: Contracts = Field(description="Configured funding models.")
    contract: str = Field("block", description="The contract `fundsim run` pays the provider under.")
    provider_policy: ProviderPolicy = ProviderPolicy()
    risk_view: RiskView | None = Field(None, description="Demand-growth range for the 'who bears the risk' view.")
    valuation: Valuation | None = Field(
        None, description="Optional prices for what patients carry (waits, declines, deferrals, missed and cut visits)."
    )

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        tier_names = [t.name for t in self.tiers]
        grade_names = {g.name for g in self.workforce.grades}
        if len(set(tier_names)) != len(tier_names):
            raise ValueError("tier names must be unique")
        for mix_name in ("complexity_mix", "complexity_mix_end"):
            mix = getattr(self.demand, mix_name)
            if mix is not None and set(mix) != set(tier_names):
                raise ValueError(f"demand.{mix_name} must name exactly the tiers {tier_names}, got {sorted(mix)}")
        for i, tier in enumerate(self.tiers):
            unknown = [g for g in tier.allowed_grades if g not in grade_names]
            if unknown:
                raise ValueError(
                    f"tiers[{i}].allowed_grades names unknown grade(s) {unknown}; grades are {sorted(grade_names)}"
                )
        if self.care.min_accepted_tier >= len(self.tiers):
            raise ValueError(
                f"care.min_accepted_tier is {self.care.min_accepted_tier}, which would decline every referral; "
                f"it must be below the number of tiers ({len(self.tiers)})"
            )
        self._check_workforce()
        loc_names = [loc.name for loc in self.localities]
        if len(set(loc_names)) != len(loc_names):
            raise ValueError("locality names must be unique")
        if self.total_population > MAX_TOTAL_POPULATION:
            raise ValueError(
                f"localities: the total population is {self.total_population:,}; the limit is "
                f"{MAX_TOTAL_POPULATION:,} (about the population of the United Kingdom)"
            )
        shares = [loc.staff_share for loc in self.localities]
        given = [s for s in shares if s is not None]
        if given:
            if len(given) < len(shares):
                raise ValueError("localities: give staff_share for every locality or for none")
            names = [loc.name for loc in self.localities]
            _check_mix({name: float(s) for name, s in zip(names, given, strict=True)}, "localities staff_share")
        self._check_contracts()
        if getattr(self.contracts, self.contract, None) is None:
            configured = [k for k, v in self.contracts if v is not None]
            raise ValueError(f"contract '{self.contract}' is not configured under contracts; configured: {configured}")
        horizon_days = self.simulation.horizon_years * 365.25
        if horizon_days < 28:
            raise ValueError("simulation.horizon_years must cover at least one month")
        if self.simulation.warmup_days > horizon_days:
            raise ValueError(
                f"simulation.warmup_days ({self.simulation.warmup_days} days) is longer than the measured horizon "
                f"(horizon_years {self.simulation.horizon_years:g} = {horizon_days:.0f} days); "
                "shorten the warm-up or lengthen the horizon"
            )
        return self

    def _check_workforce(self) -> None:
        """Every grade can make some tier's visits, and every accepted tier has someone to visit it.

        A grade is *on duty* unless leave and sickness take all its shifts, and gives *visit time*
        when it is also employed (FTE > 0) and spends some of its shift with patients.
        """
        grades = self.workforce.grades
        used = {name for tier in self.tiers for name in tier.allowed_grades}
        for i, grade in enumerate(grades):
            if grade.name not in used:
                raise ValueError(
                    f"workforce.grades[{i}] ('{grade.name}') is in no tier's allowed_grades, so it can make no "
                    "visits; add it to a tier's allowed_grades or remove the grade"
                )
            absent = grade.annual_leave_share + grade.sickness_share
            if absent >= 1.0:
                raise ValueError(
                    f"workforce.grades[{i}] ('{grade.name}'): annual_leave_share + sickness_share is {absent:.6g}, "
                    "so its staff are never on duty; the two must add up to less than 1"
                )
        visit_time = {g.name: g.fte * g.patient_facing_share > 0 for g in grades}
        if not any(visit_time.values()):
            raise ValueError(
                "workforce: the roster has zero visit hours in every shift (every grade has fte 0 or "
                "patient_facing_share 0), so no visit could ever be made"
            )
        for i, tier in enumerate(self.tiers):
            if i >= self.care.min_accepted_tier and not any(visit_time[g] for g in tier.allowed_grades):
                raise ValueError(
                    f"tiers[{i}].allowed_grades: no staff can make the visits of tier '{tier.name}': every allowed "
                    f"grade ({', '.join(tier.allowed_grades)}) has fte 0 or patient_facing_share 0"
                )

    def _check_contracts(self) -> None:
        """Each configured contract's checks against this scenario (``ContractType.check_scenario``).

        Its fields keyed by tier or locality must name tiers or localities that exist, as each
        contract declares them, and any check of its own must pass.
        """
        context = self.contract_context()
        for contract, config in self.contracts:
            if config is not None:
                REGISTRY[contract].check_scenario(config, context, f"contracts.{contract}")

    # -- derived helpers (no state) --------------------------------------------------

    @property
    def total_population(self) -> int:
        """Total population across localities."""
        return sum(loc.population for loc in self.localities)

    def contract_context(self) -> ContractContext:
        """What a payment rule may know about this service besides the ledger."""
        return ContractContext(
            population=self.total_population,
            locality_populations={loc.name: loc.population for loc in self.localities},
            tier_names=tuple(t.name for t in self.tiers),
            expected_tier_mix={t.name: float(self.demand.complexity_mix[t.name]) for t in self.tiers},
        )

    def staff_shares(self) -> list[float]:
        """Share of each grade's FTE working in each locality (population share by default)."""
        # Validation gives staff_share for every locality or for none.
        given = [float(loc.staff_share) for loc in self.localities if loc.staff_share is not None]
        if given:
            return given
        total = self.total_population
        return [loc.population / total for loc in self.localities]


@on_change
def _follow_the_registry() -> None:
    """Rebuild ``Contracts`` and the ``Scenario.contracts`` field after a contract is registered or removed.

    The schema is built from the registry once at import; a contract registered later (a test's toy
    contract, a plug-in) then validates, appears in ``fundsim schema`` and in error messages like the
    shipped ones.
    """
    global Contracts
    model = _contracts_model()
    if not TYPE_CHECKING:  # to a type checker Contracts stays ContractsModel, the base of every model made
        Contracts = model
    Scenario.model_fields["contracts"].annotation = model
    Scenario.model_rebuild(force=True)
