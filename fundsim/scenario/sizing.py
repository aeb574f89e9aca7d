"""Sizing check: whether the staff a scenario describes can meet the care its referrals need.

Made before anything is simulated, from the scenario alone (expected values, no random draws), so
that an analyst learns that a service is 35% short of staff *before* a run says something odd
about it. For each locality it sets the care hours the referrals will need (referral rate × care
plan by tier) against the staff's patient-facing hours, and compares the implied activity with the
contract and with national figures. Each finding that looks wrong becomes a warning that names the
field to look at and the numbers behind it. Warnings never stop a run: a stretched service is
exactly what fundsim is for; an unknowingly stretched one is not.

National reference figures (../shared/DOMAIN.md):

* about £47 a community nursing contact: 42.4 million contacts costing over £2bn in 2019/20
  (National Cost Collection, derived);
* about 757 contacts per 1,000 people a year: 42.4 million contacts / 56 million people (derived);
* QNI district nursing workforce standards (2022): caution above 150 patients on the caseload per
  whole-time nurse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundsim.contracts import REGISTRY
from fundsim.scenario.models import Grade, Scenario, Tier

DAYS_PER_YEAR = 365.25
MINUTES_PER_HOUR = 60.0

#: £ per community nursing contact, England 2019/20 (National Cost Collection, derived).
NATIONAL_COST_PER_CONTACT_GBP = 47.0
#: Community nursing contacts per 1,000 people per year, England (derived, DOMAIN.md).
NATIONAL_CONTACTS_PER_1000_PER_YEAR = 757.0
#: QNI (2022): caution above this many patients on the caseload per whole-time nurse.
QNI_CASELOAD_PER_WTE_CAUTION = 150.0

#: Needed ÷ available care hours above which the staffing is called short.
SHORT_RATIO = 1.0
#: A ratio of a figure to its national value outside [1/FAR, FAR] is called implausible.
FAR_FROM_NATIONAL = 2.0
#: Implausible inputs (each warning names the field).
MAX_PLAUSIBLE_GROWTH_PER_YEAR = 0.20
MIN_PLAUSIBLE_TRAVEL_MINUTES = 5.0
MIN_PLAUSIBLE_REFERRALS_PER_1000 = 1.0


@dataclass(frozen=True)
class LocalitySizing:
    """Expected yearly figures of one locality in contract year 1 and in the last contract year."""

    locality: str
    population: int
    referrals_per_year: float  # year 1
    care_hours_needed_per_year: float  # year 1: assessments and visits, face to face plus travel
    care_hours_needed_last_year: float  # the last contract year, with demand growth and the end mix
    staff_care_hours_per_year: float  # patient-facing hours on duty, after leave and sickness
    overtime_cap_hours_per_year: float  # the most overtime the staff on duty can work
    contacts_per_year: float  # year 1: assessments + visits
    staff_cost_gbp_per_year: float  # contracted hours at year-1 pay
    caseload_people: float  # expected caseload by Little's law (episode length × referrals a day)
    registered_wte: float  # whole-time staff in this locality (every grade)

    @property
    def need_ratio(self) -> float:
        """Care hours needed ÷ staff care hours available, year 1 (above 1: short of staff)."""
        return _ratio(self.care_hours_needed_per_year, self.staff_care_hours_per_year)

    @property
    def need_ratio_with_overtime(self) -> float:
        """Care hours needed ÷ (available + the overtime cap), year 1 (above 1: short even with overtime)."""
        capacity = self.staff_care_hours_per_year + self.overtime_cap_hours_per_year
        return _ratio(self.care_hours_needed_per_year, capacity)

    @property
    def need_ratio_last_year(self) -> float:
        """Care hours needed ÷ available in the last contract year (staffing as at the start)."""
        return _ratio(self.care_hours_needed_last_year, self.staff_care_hours_per_year)

    @property
    def cost_per_contact_gbp(self) -> float:
        """Year-1 staff cost ÷ contacts the referrals imply."""
        return _ratio(self.staff_cost_gbp_per_year, self.contacts_per_year)

    @property
    def contacts_per_1000(self) -> float:
        """Contacts per 1,000 people a year."""
        return _ratio(1000.0 * self.contacts_per_year, self.population)

    @property
    def caseload_per_wte(self) -> float:
        """Expected people on the caseload per whole-time member of staff."""
        return _ratio(self.caseload_people, self.registered_wte)


@dataclass(frozen=True)
class SizingReport:
    """The sizing check of a scenario: figures by locality and the warnings they raise."""

    localities: tuple[LocalitySizing, ...]
    contracted_activity_per_year: float | None  # of the scenario's `contract`, when it sets one
    warnings: tuple[str, ...] = field(default=())

    @property
    def contacts_per_year(self) -> float:
        """Year-1 contacts the referrals imply, whole service."""
        return sum(loc.contacts_per_year for loc in self.localities)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf") if a > 0 else 0.0


def _care_hours_on_duty(grade: Grade) -> float:
    """Patient-facing hours a year of all of ``grade``'s staff: on duty (after leave and sickness) × facing share."""
    on_duty = grade.fte * grade.contract_hours_per_week / 7.0 * DAYS_PER_YEAR
    return on_duty * max(0.0, 1.0 - grade.annual_leave_share - grade.sickness_share) * grade.patient_facing_share


def _planned_visits(tier: Tier) -> float:
    """Mean follow-up visits of an episode, capped as the model caps the draw."""
    return min(tier.visits.mean, float(tier.visits.maximum))


def _care_hours_per_referral(tier: Tier) -> float:
    """Face-to-face plus travel hours of one episode: the assessment and the follow-up visits."""
    assessment = tier.assessment_minutes.mean + tier.travel_minutes.mean
    visit = tier.face_to_face_minutes.mean + tier.travel_minutes.mean
    return (assessment + _planned_visits(tier) * visit) / MINUTES_PER_HOUR


def _episode_days(tier: Tier) -> float:
    """Planned days on the caseload: the visits at their interval (at least one day)."""
    return max(1.0, _planned_visits(tier) * tier.interval_days)


def _contacts(tier: Tier) -> float:
    """Contacts of one episode: the assessment and the follow-up visits."""
    return 1.0 + _planned_visits(tier)


def _accepted(scenario: Scenario, mix: dict[str, float]) -> dict[str, float]:
    """Referral share by tier that is accepted (tiers below ``care.min_accepted_tier`` are declined)."""
    return {t.name: mix[t.name] for i, t in enumerate(scenario.tiers) if i >= scenario.care.min_accepted_tier}


def _per_referral(scenario: Scenario, mix: dict[str, float], of: str) -> float:
    """Mean care hours (``of="hours"``), caseload days (``"days"``) or contacts (``"contacts"``) of one referral."""
    tiers = {t.name: t for t in scenario.tiers}
    fn = {"hours": _care_hours_per_referral, "days": _episode_days, "contacts": _contacts}[of]
    return sum(share * fn(tiers[name]) for name, share in _accepted(scenario, mix).items())


def _contracted_activity(scenario: Scenario) -> float | None:
    """The contacts a year the run's contract plans for, as its type declares (``None`` when it plans none)."""
    config = getattr(scenario.contracts, scenario.contract, None)
    field_name = REGISTRY[scenario.contract].planned_activity_field
    if config is None or field_name is None:
        return None
    value = getattr(config, field_name)
    return None if value is None else float(value)


def size_scenario(scenario: Scenario) -> SizingReport:
    """Expected year-1 (and last-year) care need against staff capacity, by locality, with warnings."""
    years = max(1.0, float(round(scenario.simulation.horizon_years)))
    growth_last = (1.0 + scenario.demand.growth_per_year) ** (years - 1.0)
    mix_start = dict(scenario.demand.complexity_mix)
    mix_end = dict(scenario.demand.complexity_mix_end or mix_start)
    # The mix drifts linearly over the horizon; the last contract year sits at its middle.
    drift = (years - 0.5) / years
    mix_last = {k: mix_start[k] + drift * (mix_end[k] - mix_start[k]) for k in mix_start}
    grades = scenario.workforce.grades
    rows = []
    for loc, share in zip(scenario.localities, scenario.staff_shares(), strict=True):
        referrals = loc.population / 1000.0 * loc.referral_rate_per_1000_per_year
        staff_hours = sum(share * _care_hours_on_duty(g) for g in grades)
        overtime = sum(
            share * _care_hours_on_duty(g) / g.patient_facing_share * g.overtime_cap_hours_per_shift / g.shift_hours
            for g in grades
            if g.patient_facing_share > 0
        )
        cost = sum(g.fte * share * g.contract_hours_per_week / 7.0 * DAYS_PER_YEAR * g.hourly_cost_gbp for g in grades)
        rows.append(
            LocalitySizing(
                locality=loc.name,
                population=loc.population,
                referrals_per_year=referrals,
                care_hours_needed_per_year=referrals * _per_referral(scenario, mix_start, "hours"),
                care_hours_needed_last_year=referrals * growth_last * _per_referral(scenario, mix_last, "hours"),
                staff_care_hours_per_year=staff_hours,
                overtime_cap_hours_per_year=overtime,
                contacts_per_year=referrals * _per_referral(scenario, mix_start, "contacts"),
                staff_cost_gbp_per_year=cost,
                caseload_people=referrals / DAYS_PER_YEAR * _per_referral(scenario, mix_start, "days"),
                registered_wte=sum(g.fte * share for g in grades),
            )
        )
    report = SizingReport(tuple(rows), _contracted_activity(scenario))
    warnings = tuple(sizing_warnings(scenario, report))
    return SizingReport(report.localities, report.contracted_activity_per_year, warnings)


def sizing_warnings(scenario: Scenario, report: SizingReport) -> list[str]:
    """Plain-English warnings, each naming the field to look at and the numbers behind it."""
    out: list[str] = []
    for i, row in enumerate(report.localities):
        where = f"localities[{i}] ({row.locality})"
        if row.need_ratio_with_overtime > SHORT_RATIO:
            out.append(
                f"{where}: the referrals need about {row.care_hours_needed_per_year:,.0f} care hours a year "
                f"(visits and assessments, with travel) but the staff have about "
                f"{row.staff_care_hours_per_year:,.0f} patient-facing hours and at most "
                f"{row.overtime_cap_hours_per_year:,.0f} of overtime: about "
                f"{100 * (1 - 1 / row.need_ratio):.0f}% short of staff in year 1 "
                f"({100 * (1 - 1 / row.need_ratio_with_overtime):.0f}% even with all the overtime allowed). "
                f"Waits will grow without bound; check workforce.grades[].fte and staff_share, or the "
                f"referral rate."
            )
        elif row.need_ratio > SHORT_RATIO:
            out.append(
                f"{where}: the referrals need about {100 * row.need_ratio:.0f}% of the staff's patient-facing "
                f"hours in year 1, so the service relies on overtime (about "
                f"{row.care_hours_needed_per_year - row.staff_care_hours_per_year:,.0f} hours a year of its "
                f"{row.overtime_cap_hours_per_year:,.0f}-hour cap), much of it unpaid "
                f"(workforce.unpaid_overtime_share)."
            )
        elif row.need_ratio_last_year > SHORT_RATIO:
            out.append(
                f"{where}: staffed for year 1 ({100 * row.need_ratio:.0f}% of staff care hours needed) but "
                f"demand growth and the complexity mix need {100 * row.need_ratio_last_year:.0f}% by the "
                f"last contract year, unless the provider hires (provider_policy.hiring)."
            )
        cost_ratio = row.cost_per_contact_gbp / NATIONAL_COST_PER_CONTACT_GBP
        if not 1 / FAR_FROM_NATIONAL <= cost_ratio <= FAR_FROM_NATIONAL:
            out.append(
                f"{where}: staff cost per contact is about £{row.cost_per_contact_gbp:,.0f}, against about "
                f"£{NATIONAL_COST_PER_CONTACT_GBP:.0f} nationally; check workforce.grades[].hourly_cost_gbp, "
                f"fte and the care plans in tiers."
            )
        rate_ratio = row.contacts_per_1000 / NATIONAL_CONTACTS_PER_1000_PER_YEAR
        if not 1 / FAR_FROM_NATIONAL <= rate_ratio <= FAR_FROM_NATIONAL:
            out.append(
                f"{where}: the referrals imply about {row.contacts_per_1000:,.0f} contacts per 1,000 people a "
                f"year, against about {NATIONAL_CONTACTS_PER_1000_PER_YEAR:,.0f} nationally; check "
                f"referral_rate_per_1000_per_year and tiers[].visits."
            )
        if row.caseload_per_wte > QNI_CASELOAD_PER_WTE_CAUTION:
            out.append(
                f"{where}: about {row.caseload_per_wte:,.0f} people on the caseload per whole-time member of "
                f"staff; the QNI standard (2022) advises caution above {QNI_CASELOAD_PER_WTE_CAUTION:.0f}."
            )
        if loc_rate := scenario.localities[i].referral_rate_per_1000_per_year:
            if loc_rate < MIN_PLAUSIBLE_REFERRALS_PER_1000:
                out.append(
                    f"{where}.referral_rate_per_1000_per_year is {loc_rate:g}: under "
                    f"{MIN_PLAUSIBLE_REFERRALS_PER_1000:g} referral per 1,000 people a year is implausibly low."
                )
    growth = scenario.demand.growth_per_year
    if growth > MAX_PLAUSIBLE_GROWTH_PER_YEAR:
        out.append(
            f"demand.growth_per_year is {growth:g} ({100 * growth:.0f}% a year, compounding): above "
            f"{100 * MAX_PLAUSIBLE_GROWTH_PER_YEAR:.0f}% a year is implausible for referrals."
        )
    for i, tier in enumerate(scenario.tiers):
        if tier.travel_minutes.mean < MIN_PLAUSIBLE_TRAVEL_MINUTES:
            out.append(
                f"tiers[{i}] ({tier.name}).travel_minutes.mean is {tier.travel_minutes.mean:g}: under "
                f"{MIN_PLAUSIBLE_TRAVEL_MINUTES:g} minutes of travel per home visit is implausible."
            )
    out.extend(_skill_mix_warnings(scenario, report))
    contracted = report.contracted_activity_per_year
    if contracted is not None and contracted > 0:
        ratio = report.contacts_per_year / contracted
        if not 1 / FAR_FROM_NATIONAL <= ratio <= FAR_FROM_NATIONAL:
            out.append(
                f"contracts.{scenario.contract}: the referrals imply about {report.contacts_per_year:,.0f} contacts "
                f"in year 1, {ratio:.1f} times the {contracted:,.0f} the contract buys; check the contract's "
                f"activity and the care plans."
            )
    return out


@dataclass(frozen=True)
class SkillMixNeed:
    """Year-1 care hours of the tiers only some grades may see, against those grades' hours."""

    tiers: tuple[str, ...]
    grades: tuple[str, ...]
    need_hours_per_year: float
    staff_hours_per_year: float

    @property
    def ratio(self) -> float:
        """Need ÷ hours (above 1: short of that skill mix)."""
        return _ratio(self.need_hours_per_year, self.staff_hours_per_year)


def skill_mix_needs(scenario: Scenario, report: SizingReport) -> list[SkillMixNeed]:
    """Work only some grades may do against those grades' hours (Hall's condition, tier by tier).

    For each tier t with allowed grades G, every tier whose allowed grades lie within G competes
    for G's hours; if they need more than G has, the service is short of that skill mix even when
    its total hours suffice. A tier any grade may see adds nothing beyond the locality check.
    """
    grades = {g.name: g for g in scenario.workforce.grades}
    hours = {name: _care_hours_on_duty(g) for name, g in grades.items()}
    mix = _accepted(scenario, dict(scenario.demand.complexity_mix))
    referrals = sum(r.referrals_per_year for r in report.localities)
    tiers = {t.name: t for t in scenario.tiers}
    seen: set[frozenset[str]] = set()
    out: list[SkillMixNeed] = []
    for tier in scenario.tiers:
        allowed = frozenset(tier.allowed_grades)
        if allowed in seen or allowed == frozenset(grades):
            continue
        seen.add(allowed)
        within = tuple(n for n in mix if frozenset(tiers[n].allowed_grades) <= allowed)
        need = referrals * sum(mix[n] * _care_hours_per_referral(tiers[n]) for n in within)
        out.append(SkillMixNeed(within, tuple(sorted(allowed)), need, sum(hours[g] for g in allowed)))
    return out


def _skill_mix_warnings(scenario: Scenario, report: SizingReport) -> list[str]:
    out: list[str] = []
    for need in skill_mix_needs(scenario, report):
        if need.ratio > SHORT_RATIO:
            out.append(
                f"skill mix: tier(s) {', '.join(need.tiers)} may only be seen by {', '.join(need.grades)}, and "
                f"need about {need.need_hours_per_year:,.0f} care hours a year against those grades' "
                f"{need.staff_hours_per_year:,.0f}: about {100 * (1 - 1 / need.ratio):.0f}% short in year 1 "
                f"(tiers[].allowed_grades, workforce.grades[].fte)."
            )
    return out


__all__ = [
    "NATIONAL_CONTACTS_PER_1000_PER_YEAR",
    "NATIONAL_COST_PER_CONTACT_GBP",
    "QNI_CASELOAD_PER_WTE_CAUTION",
    "LocalitySizing",
    "SizingReport",
    "SkillMixNeed",
    "size_scenario",
    "sizing_warnings",
    "skill_mix_needs",
]
