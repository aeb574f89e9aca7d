"""Hospital-avoidance services added to the core service: their demand, staffing and outcomes.

An add-on is optional (absent: the core model is unchanged, bit for bit). Its staffing is either
``dedicated`` (its own responders and their cost; the core team's day is untouched) or ``shared``
(core nurses are pulled off their planned visits, up to a cap, and those visits are deferred).

Sources of the defaults (each can be changed in the scenario):

* UCR demand: 73,455 two-hour urgent community response referrals in England in October 2023
  (NHS Providers, *Community network: urgent community response briefing*, 2023, from NHS England's
  CSDS-based UCR statistics), about 129 a month per 100,000 people for England's ~57 million.
* The standard: at least 70% of urgent referrals reached within 2 hours, services running at least
  8am to 8pm, 7 days a week (NHS England, *Urgent community response services*, operational
  guidance 2022/23).
* Admission after a call: one service reported 5% of 1,500 falls calls going on to admission
  (HFMA, *Two-hour urgent response reduces pressure on emergency services*, 2 October 2023, on the
  national UCR evaluation). The late and no-service probabilities are assumptions, stated as such.
* Virtual-ward places: 12,588 in England in October 2025, 19.7 per 100,000 (NHS England, *Virtual
  ward capacity and occupancy statistics*); the ambition was 40-50 per 100,000 (*Virtual wards
  operational framework*, 2022). A step-down shortens a hospital stay by 2.9 days (Jalilian et al.,
  BMJ Open 2024;14:e081378). The step-up shares and rates, the stays, the staff time, the relative
  risk on the ward and the escalation probability are assumptions, stated as such (docs/model.md,
  section 2.4.11).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from fundsim.contracts.addon_funding import AddOnFunding, check_basis
from fundsim.scenario.fields import Model, Name, Probability, Weight
from fundsim.scenario.service_models import DurationMinutes, StayDays

#: Calls per 100,000 people a month in England (73,455 in October 2023 over ~57 million people).
ENGLAND_UCR_CALLS_PER_100K_PER_MONTH = 129.0
#: The national standard: the share of urgent referrals to be reached within the target time.
UCR_STANDARD_SHARE = 0.70
#: Hours in a day (the hour-of-day profile has one weight per hour).
HOURS_PER_DAY = 24

#: How an add-on is staffed: its own team, or core nurses taken off their planned visits (up to a cap).
Staffing = Literal["dedicated", "shared"]


def staffing_field(own_staff: str) -> Any:
    """The ``staffing`` field every add-on has (``own_staff`` names the add-on's staff in the description)."""
    return Field(
        "dedicated",
        description=f"dedicated: its own {own_staff} and cost; shared: core nurses pulled off their planned visits.",
    )


def shared_cap_field(addon: str) -> Any:
    """The ``shared_cap_share`` field every add-on has: the most of the core's rostered time it may take."""
    return Field(
        0.25,
        description=f"shared staffing: most of a locality's rostered core minutes a day that {addon} may take.",
    )


def _daytime_profile() -> tuple[float, ...]:
    """Calls by hour of day, relative: none overnight, a morning peak, tailing off by evening.

    An assumption shaped like published UCR referral patterns (most calls in the working day);
    replace it with a provider's own hour-of-day counts where they exist.
    """
    weights = [0.0] * HOURS_PER_DAY
    for hour, w in zip(range(8, 20), (0.9, 1.3, 1.4, 1.3, 1.2, 1.1, 1.1, 1.0, 0.9, 0.8, 0.6, 0.4), strict=True):
        weights[hour] = w
    return tuple(weights)


class UrgentResponse(Model):
    """A 2-hour urgent community response (UCR) service: calls through the day, responders, outcomes."""

    calls_per_100k_per_month: float = Field(
        ENGLAND_UCR_CALLS_PER_100K_PER_MONTH,
        ge=0.0,
        le=100_000,
        allow_inf_nan=False,
        description="UCR calls a month per 100,000 people (England, October 2023: about 129).",
    )
    hour_profile: tuple[Weight, ...] = Field(
        default_factory=_daytime_profile,
        min_length=HOURS_PER_DAY,
        max_length=HOURS_PER_DAY,
        description="Relative call rate in each hour of the day, 00:00 first (24 weights; rescaled to sum 1).",
    )
    target_hours: float = Field(
        2.0, gt=0.0, le=72.0, allow_inf_nan=False, description="Time from call to a responder arriving."
    )
    standard_share: Probability = Field(
        UCR_STANDARD_SHARE, description="Share of calls the standard asks to be reached within target_hours."
    )
    travel_minutes: DurationMinutes = Field(
        DurationMinutes(mean=25.0, cv=0.5),
        description="A responder's journey to the caller (part of the reach time).",
    )
    on_scene_minutes: DurationMinutes = Field(
        DurationMinutes(mean=75.0, cv=0.5), description="Time with the caller, after arriving."
    )
    staffing: Staffing = staffing_field("responders")
    responders_per_locality: int = Field(
        2, ge=1, le=1000, description="Responders on duty at once in each locality during service hours."
    )
    responder_grades: list[Name] | None = Field(
        None,
        description="shared staffing: the grades responders are drawn from (default: those allowed for the most "
        "complex tier).",
    )
    shared_cap_share: Probability = shared_cap_field("UCR")
    responder_hourly_cost_gbp: float = Field(
        35.0, gt=0, le=1000, allow_inf_nan=False, description="dedicated staffing: cost of a responder hour (£)."
    )
    admission_probability_reached: Probability = Field(
        0.05, description="Chance a caller reached within target_hours is still admitted (HFMA 2023: 5% of falls)."
    )
    admission_probability_late: Probability = Field(
        0.15, description="Chance a caller reached after target_hours is admitted (assumption)."
    )
    admission_probability_without: Probability = Field(
        0.30, description="Chance the same caller would be admitted with no UCR service (assumption)."
    )
    funding: AddOnFunding = Field(
        default_factory=AddOnFunding,
        description="How the service is paid for: included in the core contract (default) or a funding line of its "
        "own (a block per team a year, or a price per response); see docs/addons.md.",
    )

    @model_validator(mode="after")
    def _checks(self) -> UrgentResponse:
        if sum(self.hour_profile) <= 0.0:
            raise ValueError("hour_profile: at least one hour must have a positive weight")
        check_basis(self.funding, "urgent_response", "funding")
        if self.admission_probability_late < self.admission_probability_reached:
            raise ValueError(
                "admission_probability_late must be at least admission_probability_reached "
                f"({self.admission_probability_late} < {self.admission_probability_reached}): "
                "a late response cannot be safer than a timely one"
            )
        return self

    @property
    def service_hours_per_day(self) -> int:
        """Hours of the day in which calls can arrive (the responders' rota, for a dedicated team's cost)."""
        return sum(1 for w in self.hour_profile if w > 0)

    def calls_per_hour(self, population: int) -> tuple[float, ...]:
        """Expected calls in each hour of the day for ``population`` people (a month is 365.25 / 12 days)."""
        per_day = self.calls_per_100k_per_month * population / 100_000.0 / (365.25 / 12.0)
        total = sum(self.hour_profile)
        return tuple(per_day * w / total for w in self.hour_profile)


#: Virtual-ward places per 100,000 people in England, October 2025: 12,588 places (NHS England, *Virtual
#: ward capacity and occupancy statistics*, October 2025; 19.7 per 100,000 GP-registered population).
ENGLAND_VW_PLACES_PER_100K = 19.7
#: The national ambition: 40-50 places per 100,000 people (NHS England, *Virtual wards operational
#: framework*, 2022; the delivery plan for urgent and emergency care, January 2023).
VW_AMBITION_PLACES_PER_100K = (40.0, 50.0)
#: Days a step-down shortens a hospital stay: 2.9 days shorter with a virtual ward (Jalilian et al.,
#: *Length of stay and economic sustainability of virtual ward care in a medium-sized hospital of the UK*,
#: BMJ Open 2024;14:e081378).
VW_STEP_DOWN_DAYS_SAVED = 2.9


class VirtualWard(Model):
    """A virtual ward (hospital at home): capped places per locality, step-up and step-down, visits and monitoring.

    Step-up: a person on the caseload whose deterioration would cause an emergency admission is
    admitted to the ward instead (with ``step_up_share``, when a place is free), and GPs refer people
    from outside the caseload. Step-down: a share of hospital admissions leave hospital early onto the
    ward. A full ward refuses (a loss system): the person goes to hospital as before.
    """

    places_per_100k: float = Field(
        ENGLAND_VW_PLACES_PER_100K,
        ge=0.0,
        le=10_000,
        allow_inf_nan=False,
        description="Places per 100,000 people in each locality (England, October 2025: 19.7; ambition 40-50); "
        "rounded to whole places.",
    )
    places_per_locality: int | None = Field(
        None, ge=0, le=100_000, description="Places in each locality (overrides places_per_100k when given)."
    )
    step_up_share: Probability = Field(
        0.2,
        description="Share of the caseload's admissions-at-risk referred to the ward instead, when a place is free "
        "(assumption).",
    )
    gp_step_ups_per_100k_per_month: float = Field(
        100.0,
        ge=0.0,
        le=100_000,
        allow_inf_nan=False,
        description="GP step-up referrals a month per 100,000 people, from outside the caseload (assumption, sized "
        "so the default ward runs near England's 80% occupancy: 19.7 places × 0.8 / 4.6-day mean stays ≈ 104 a "
        "month, most from GPs; each would otherwise be an emergency admission).",
    )
    step_down_share: Probability = Field(
        0.05, description="Share of the service's emergency admissions discharged early onto the ward (assumption)."
    )
    step_down_days_saved: float = Field(
        VW_STEP_DOWN_DAYS_SAVED,
        ge=0.0,
        le=365.0,
        allow_inf_nan=False,
        description="Days a step-down takes off the hospital stay (at most the stay; BMJ Open 2024: 2.9 days).",
    )
    length_of_stay_days: StayDays = Field(
        StayDays(mean=5.0, cv=0.8, distribution="gamma"),
        description="Days on the ward (assumption: a few days; NHS England's framework has stays of up to 14 days).",
    )
    visits_per_place_per_day: float = Field(
        1.0, ge=0.0, le=24.0, allow_inf_nan=False, description="Home visits a day to each occupied place (assumption)."
    )
    minutes_per_visit: float = Field(
        60.0,
        ge=0.0,
        le=24 * 60,
        allow_inf_nan=False,
        description="Staff minutes a visit takes, travel included (assumption).",
    )
    monitoring_minutes_per_place_per_day: float = Field(
        15.0,
        ge=0.0,
        le=24 * 60,
        allow_inf_nan=False,
        description="Staff minutes a day of remote monitoring for each occupied place (assumption).",
    )
    admission_relative_risk: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        allow_inf_nan=False,
        description="Relative risk of a new emergency admission while on the ward, against the caseload's hazard "
        "(assumption).",
    )
    escalation_probability: Probability = Field(
        0.15,
        description="Chance a step-up is still admitted to hospital during its stay: the residual admission from the "
        "ward (assumption).",
    )
    staffing: Staffing = staffing_field("ward team")
    staff_grades: list[Name] | None = Field(
        None,
        description="shared staffing: the core grades the ward's staff are drawn from (default: those allowed for the "
        "most complex tier); dedicated: the grades whose mean hourly cost prices the team.",
    )
    shared_cap_share: Probability = shared_cap_field("the virtual ward")
    staff_hourly_cost_gbp: float | None = Field(
        None,
        gt=0,
        le=1000,
        allow_inf_nan=False,
        description="Cost of a ward staff hour (£; default the mean hourly cost of staff_grades). A dedicated team "
        "is paid for every place, occupied or not; a shared one pays bank staff beyond the cap.",
    )
    funding: AddOnFunding = Field(
        default_factory=AddOnFunding,
        description="How the ward is paid for: included in the core contract (default) or a funding line of its own "
        "(a block per place a year, or a price per occupied bed-day); see docs/addons.md.",
    )

    @model_validator(mode="after")
    def _checks(self) -> VirtualWard:
        check_basis(self.funding, "virtual_ward", "funding")
        return self

    @property
    def minutes_per_place_per_day(self) -> float:
        """Staff minutes a day one occupied place needs: its visits and its remote monitoring."""
        return self.visits_per_place_per_day * self.minutes_per_visit + self.monitoring_minutes_per_place_per_day

    def places(self, population: int) -> int:
        """Places in a locality of ``population`` people."""
        if self.places_per_locality is not None:
            return self.places_per_locality
        return round(self.places_per_100k * population / 100_000.0)

    def gp_step_ups_per_day(self, population: int) -> float:
        """Expected GP step-ups a day for ``population`` people (a month is 365.25 / 12 days)."""
        return self.gp_step_ups_per_100k_per_month * population / 100_000.0 / (365.25 / 12.0)


class AddOns(Model):
    """Hospital-avoidance services on top of the core service (each optional)."""

    urgent_response: UrgentResponse | None = Field(None, description="A 2-hour urgent community response service.")
    virtual_ward: VirtualWard | None = Field(None, description="A virtual ward (hospital at home).")
