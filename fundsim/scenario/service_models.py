"""The service a scenario describes: its calendar, demand, localities, care tiers, staff and hospital."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from fundsim.scenario.fields import (
    MAX_STAY_DAYS,
    MAX_VISIT_MINUTES,
    Model,
    Name,
    Probability,
    Weight,
    _check_mix,
)

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
