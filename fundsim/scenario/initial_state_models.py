"""The optional ``initial_state`` section: the caseload and waiting list the service starts with.

Without it a run starts with empty lists (a *cold start*) and relies on ``simulation.warmup_days``
to fill them. With it, the people already under care and already waiting on the first day are
placed on the lists at simulation time 0 (:mod:`fundsim.sim.initial_state`), so the first months
are not biased low. Everything here is an aggregate count of people per locality: the caseload by
tier and by how many follow-up visits each person has already had (a band), and the waiting list
by urgency and by how long each person has already waited (a band, in weeks, as the SitRep wait
bands). No patient-level record is held or needed.

The cross-checks that need the rest of the scenario (the localities and tiers named exist, a
band's visits already made leave room in the tier's care plan) are in
:class:`fundsim.scenario.models.Scenario`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from fundsim.scenario.fields import Model, Name

#: Most people in one group (caseload or waiting band) of one locality: far above any real team's list.
MAX_GROUP_PEOPLE = 1_000_000
#: Most people seeded in the whole initial state (the caseloads and waiting lists of a very large service).
MAX_TOTAL_PEOPLE = 5_000_000
#: Longest wait a seeded person may already have had, in weeks (ten years).
MAX_WAITED_WEEKS = 520
#: Most follow-up visits a seeded person may already have had (the schema's largest care-plan cap).
MAX_VISITS_MADE = 5000


class CaseloadGroup(Model):
    """People on one locality's caseload in one tier, with their follow-up visits made so far in a band."""

    tier: Name = Field(description="The complexity tier (a name under `tiers`).")
    people: int = Field(ge=0, le=MAX_GROUP_PEOPLE, description="People on the caseload in this group.")
    visits_made_min: int = Field(
        0, ge=0, le=MAX_VISITS_MADE, description="Fewest follow-up visits (after the assessment) already made."
    )
    visits_made_max: int | None = Field(
        None,
        ge=0,
        le=MAX_VISITS_MADE,
        description="Most follow-up visits already made; each person's count is drawn uniformly in the band "
        "(default: visits_made_min, an exact count).",
    )

    @model_validator(mode="after")
    def _band_in_order(self) -> CaseloadGroup:
        if self.visits_made_max is not None and self.visits_made_max < self.visits_made_min:
            raise ValueError(
                f"visits_made_max ({self.visits_made_max}) is below visits_made_min ({self.visits_made_min}); "
                "a band runs from its min up to its max"
            )
        return self

    @property
    def visits_made_top(self) -> int:
        """The band's upper end (visits_made_min when no max is given)."""
        return self.visits_made_min if self.visits_made_max is None else self.visits_made_max


class WaitingGroup(Model):
    """People on one locality's waiting list for assessment, of one urgency, who have waited a band of weeks."""

    urgent: bool = Field(False, description="Urgent referrals (assessed first when care.urgent_assessment_first).")
    people: int = Field(ge=0, le=MAX_GROUP_PEOPLE, description="People waiting in this group.")
    waited_weeks_min: float = Field(
        0.0, ge=0.0, le=MAX_WAITED_WEEKS, allow_inf_nan=False, description="Shortest wait so far, in weeks."
    )
    waited_weeks_max: float = Field(
        gt=0.0,
        le=MAX_WAITED_WEEKS,
        allow_inf_nan=False,
        description="Longest wait so far, in weeks; each person's wait is drawn uniformly in [min, max).",
    )

    @model_validator(mode="after")
    def _band_in_order(self) -> WaitingGroup:
        if self.waited_weeks_max <= self.waited_weeks_min:
            raise ValueError(
                f"waited_weeks_max ({self.waited_weeks_max:g}) must be above waited_weeks_min "
                f"({self.waited_weeks_min:g})"
            )
        return self


class LocalityState(Model):
    """One locality's caseload and waiting list on the first day."""

    locality: Name = Field(description="The locality (a name under `localities`).")
    caseload: list[CaseloadGroup] = Field(
        default_factory=list, max_length=2000, description="People under care, by tier and visits made."
    )
    waiting: list[WaitingGroup] = Field(
        default_factory=list, max_length=200, description="People waiting for assessment, by urgency and wait."
    )


class InitialState(Model):
    """The caseload and waiting list the service starts with (aggregate counts per locality)."""

    as_of: dt.date | None = Field(
        None, description="The day the counts describe (for the reader; the lists are placed at simulation time 0)."
    )
    localities: list[LocalityState] = Field(
        min_length=1, max_length=200, description="Each locality's lists; a locality not named starts empty."
    )

    @model_validator(mode="after")
    def _bounded_total(self) -> InitialState:
        names = [loc.locality for loc in self.localities]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"localities name {dup} more than once; give each locality's lists once")
        total = self.total_people
        if total > MAX_TOTAL_PEOPLE:
            raise ValueError(f"the initial state holds {total:,} people; the limit is {MAX_TOTAL_PEOPLE:,}")
        return self

    @property
    def total_people(self) -> int:
        """People seeded, caseload and waiting list, every locality."""
        return sum(sum(g.people for g in loc.caseload) + sum(g.people for g in loc.waiting) for loc in self.localities)


__all__ = ["CaseloadGroup", "InitialState", "LocalityState", "WaitingGroup"]
