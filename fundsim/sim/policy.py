"""The provider's management rules: what it decides at each monthly review.

Pure functions of the signals the provider can see (no SimPy, no randomness), so every rule can
be tested with hand-made numbers. :mod:`fundsim.sim.management` gathers the signals from the
running simulation and applies the decision.

The rules, in the order they are checked (parameters in ``provider_policy``):

1. **Pressure**: the service is under pressure when its waiting list is longer than
   ``pressure_waiting_weeks`` weeks of assessments, or more than ``pressure_missed_share`` of due
   visits were missed, or more than ``pressure_deferral_share`` were deferred, last month.
2. **Hire** when under pressure and either one more contact earns at least its unit cost
   (× (1 + ``hiring.min_margin_share``)) or the year-to-date surplus exceeds
   ``hiring.surplus_headroom_share`` of income; ``hiring.step_share`` of the initial FTE starts
   after ``hiring.lag_months``, within ``hiring.max_growth_per_year`` (workforce supply).
3. **Shed** staff when the year-to-date deficit exceeds ``deficit_tolerance_share`` of income and a
   contact earns less than it costs: ``shedding.step_share`` of the initial FTE leaves after
   ``shedding.lag_months``, never below ``shedding.floor_share``.
4. **Absorb**: under pressure and not hiring, staff work a larger share of their overtime unpaid
   (up by ``overtime.step`` to ``overtime.max_unpaid_share``); without pressure the share returns
   towards the scenario's ``workforce.unpaid_overtime_share``.
5. **Ration**: under pressure, not hiring, a contact earns less than it costs, and (with
   ``rationing.only_above_funded_activity``) the year's activity already exceeds what the contract
   funds, the rationing level rises by one (to ``rationing.max_level``): longer intervals, shorter visits, a higher
   admission hazard, and a growing share of the lowest accepted tier declined. Without pressure the
   level falls by one.
"""

from __future__ import annotations

from dataclasses import dataclass

from fundsim.scenario.models import MAX_VISIT_SHORTENING, ProviderPolicy, Rationing

#: Weeks in a month, to turn monthly assessments into a weekly rate.
WEEKS_PER_MONTH = 365.25 / 12.0 / 7.0


@dataclass(frozen=True)
class Signals:
    """What the provider sees at a review: its contract's money, its costs and its lists."""

    income_ytd_gbp: float  # contract income in the contract year so far
    cost_ytd_gbp: float  # provider cost in the contract year so far
    marginal_income_per_contact_gbp: float  # income of one more contact of the current mix
    unit_cost_per_contact_gbp: float  # staff cost ÷ contacts, last month
    waiting_list: float  # people waiting for assessment at month end
    assessments_per_month: float  # last month
    visits_due: float  # last month
    visits_missed: float  # last month
    visit_deferrals: float  # last month
    funded_activity_ytd: float = 0.0  # activity the contract pays for, contract year so far
    delivered_activity_ytd: float = 0.0  # activity delivered, same unit and period

    @property
    def above_funded(self) -> bool:
        """Whether the provider is delivering more than its contract funds (over-performing)."""
        return self.delivered_activity_ytd > self.funded_activity_ytd

    @property
    def waiting_weeks(self) -> float:
        """The waiting list in weeks of assessments (infinite when nobody was assessed)."""
        weekly = self.assessments_per_month / WEEKS_PER_MONTH
        if weekly <= 0:
            return float("inf") if self.waiting_list > 0 else 0.0
        return self.waiting_list / weekly

    @property
    def surplus_share(self) -> float:
        """Year-to-date surplus as a share of income (negative: deficit)."""
        if self.income_ytd_gbp <= 0:
            return -1.0 if self.cost_ytd_gbp > 0 else 0.0
        return (self.income_ytd_gbp - self.cost_ytd_gbp) / self.income_ytd_gbp


@dataclass(frozen=True)
class State:
    """The provider's management state between reviews."""

    fte_share: float = 1.0  # FTE relative to the initial establishment, including changes in the pipeline
    hired_last_12_months_share: float = 0.0  # hires decided in the last 12 reviews, share of initial FTE
    unpaid_overtime_share: float = 0.6
    ration_level: int = 0


@dataclass(frozen=True)
class Decision:
    """What one review decides. FTE changes are shares of the initial FTE."""

    pressure: bool
    pays_its_way: bool
    hire_share: float
    shed_share: float
    unpaid_overtime_share: float
    ration_level: int
    #: With provider_policy.reserves: the reserves read at the review (GBP) and the standing they gave
    #: (fundsim.sim.reserves: normal, recovery, failed); NaN and "" without reserves.
    reserves_gbp: float = float("nan")
    reserve_status: str = ""

    @property
    def fte_change_share(self) -> float:
        """Net FTE change (share of the initial FTE)."""
        return self.hire_share - self.shed_share


def max_ration_level(rationing: Rationing) -> int:
    """The highest rationing level the rules may reach (at most ``max_level``).

    Never a level at which visits would lose more than ``MAX_VISIT_SHORTENING`` of their
    face-to-face time. The scenario schema already bounds ``visit_shortening_per_level × max_level``; this keeps the
    rule safe for a policy built without validation (``model_construct``), since a shortening
    beyond 1 would make visits take negative minutes.
    """
    if rationing.visit_shortening_per_level <= 0:
        return rationing.max_level
    safe = int(MAX_VISIT_SHORTENING / rationing.visit_shortening_per_level + 1e-9)
    return max(0, min(rationing.max_level, safe))


def under_pressure(signals: Signals, policy: ProviderPolicy) -> bool:
    """Whether the service is visibly failing to keep up with demand."""
    due = max(signals.visits_due, 1.0)
    return (
        signals.waiting_weeks > policy.pressure_waiting_weeks
        or signals.visits_missed / due > policy.pressure_missed_share
        or signals.visit_deferrals / due > policy.pressure_deferral_share
    )


def decide(signals: Signals, state: State, policy: ProviderPolicy, base_unpaid_share: float) -> Decision:
    """The review's decision under ``policy`` (see the module docstring for the rules)."""
    pressure = under_pressure(signals, policy)
    pays = signals.marginal_income_per_contact_gbp >= signals.unit_cost_per_contact_gbp * (
        1.0 + policy.hiring.min_margin_share
    )
    surplus = signals.surplus_share

    hire = 0.0
    if pressure and (pays or surplus > policy.hiring.surplus_headroom_share):
        room = policy.hiring.max_growth_per_year - state.hired_last_12_months_share
        hire = max(0.0, min(policy.hiring.step_share, room))
    shed = 0.0
    if hire == 0.0 and surplus < -policy.deficit_tolerance_share and not pays:
        room = state.fte_share - policy.shedding.floor_share
        shed = max(0.0, min(policy.shedding.step_share, room))

    ot = policy.overtime
    if pressure and hire == 0.0:
        unpaid = min(ot.max_unpaid_share, state.unpaid_overtime_share + ot.step)
    elif state.unpaid_overtime_share > base_unpaid_share:
        unpaid = max(base_unpaid_share, state.unpaid_overtime_share - ot.step)
    else:
        unpaid = state.unpaid_overtime_share

    level = state.ration_level
    rationing_due = pressure and hire == 0.0 and not pays
    if policy.rationing.only_above_funded_activity:
        rationing_due = rationing_due and signals.above_funded
    if rationing_due:
        level = min(max_ration_level(policy.rationing), level + 1)
    elif not pressure:
        level = max(0, level - 1)
    return Decision(pressure, pays, hire, shed, unpaid, level)
