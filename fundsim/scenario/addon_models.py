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
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fundsim.scenario.fields import Model, Name, Probability, Weight
from fundsim.scenario.service_models import DurationMinutes

#: Calls per 100,000 people a month in England (73,455 in October 2023 over ~57 million people).
ENGLAND_UCR_CALLS_PER_100K_PER_MONTH = 129.0
#: The national standard: the share of urgent referrals to be reached within the target time.
UCR_STANDARD_SHARE = 0.70
#: Hours in a day (the hour-of-day profile has one weight per hour).
HOURS_PER_DAY = 24


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
    staffing: Literal["dedicated", "shared"] = Field(
        "dedicated",
        description="dedicated: its own responders and cost; shared: core nurses pulled off their planned visits.",
    )
    responders_per_locality: int = Field(
        2, ge=1, le=1000, description="Responders on duty at once in each locality during service hours."
    )
    responder_grades: list[Name] | None = Field(
        None,
        description="shared staffing: the grades responders are drawn from (default: those allowed for the most "
        "complex tier).",
    )
    shared_cap_share: Probability = Field(
        0.25,
        description="shared staffing: most of a locality's rostered core minutes a day that UCR may take.",
    )
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

    @model_validator(mode="after")
    def _checks(self) -> UrgentResponse:
        if sum(self.hour_profile) <= 0.0:
            raise ValueError("hour_profile: at least one hour must have a positive weight")
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


class AddOns(Model):
    """Hospital-avoidance services on top of the core service (each optional)."""

    urgent_response: UrgentResponse | None = Field(None, description="A 2-hour urgent community response service.")
