"""The provider's reserves at a review: normal, in recovery, or failed (handed the contract back).

Pure functions (no SimPy, no randomness), so the rules can be tested with hand-made numbers;
:mod:`fundsim.sim.management` keeps the running reserves and applies them at each monthly review.

- **Reserves now** = opening reserves + the surplus (income − cost) of every closed contract year
  + the year-to-date surplus of the current one. Tracked monthly for the decision; the results
  close them once a year (:mod:`fundsim.experiment.reserves`).
- **Failed** at or below ``failure_floor_gbp`` (at exactly the floor the provider fails). Failure
  is final: the contract is handed back; the provider's responses stop and the levers in force are
  held (the service continues under whoever takes it over, with the same staff).
- **Recovery** at or below ``recovery_threshold_gbp`` (above the floor): the usual decision with
  ``recovery.extra_ration_levels`` more rationing levels (within ``rationing.max_level``) and, with
  ``recovery.hiring_freeze``, no hiring. The plan lifts when reserves rise above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from fundsim.scenario.policy_models import ProviderPolicy, Reserves
from fundsim.sim.policy import Decision, State, max_ration_level

#: A provider's standing at a review.
ReserveStatus = Literal["normal", "recovery", "failed"]


def reserves_now(opening_gbp: float, closed_years_surplus_gbp: float, ytd_surplus_gbp: float) -> float:
    """Reserves at a review: opening + closed years' surplus + this year's surplus so far (GBP)."""
    return opening_gbp + closed_years_surplus_gbp + ytd_surplus_gbp


def reserve_status(reserves_gbp: float, config: Reserves, already_failed: bool = False) -> ReserveStatus:
    """The provider's standing with ``reserves_gbp`` in hand (failure is final)."""
    if already_failed or reserves_gbp <= config.failure_floor_gbp:
        return "failed"
    if reserves_gbp <= config.recovery_threshold_gbp:
        return "recovery"
    return "normal"


def with_recovery(decision: Decision, policy: ProviderPolicy) -> Decision:
    """``decision`` under the recovery plan: deeper rationing and, if frozen, no hiring.

    The extra levels are added to the level the usual rule chose (the manager keeps the rule's
    own level between reviews, so the plan never compounds), within the highest level rationing allows.
    """
    if policy.reserves is None:
        raise ValueError("a recovery plan needs provider_policy.reserves")
    plan = policy.reserves.recovery
    hire = 0.0 if plan.hiring_freeze else decision.hire_share
    level = min(max_ration_level(policy.rationing), decision.ration_level + plan.extra_ration_levels)
    return replace(decision, hire_share=hire, ration_level=level)


@dataclass(frozen=True)
class ReserveBook:
    """The running reserves between reviews: the closed years' surplus and the month of any failure."""

    closed_years_surplus_gbp: float = 0.0
    failed_month: int | None = None  # the month at whose start the contract was handed back (final)


def read_reserves(
    book: ReserveBook, month: int, ytd_surplus_gbp: float, config: Reserves
) -> tuple[ReserveBook, float, ReserveStatus]:
    """The review after closing ``month`` (from 0): the new book, the reserves in hand and the standing.

    ``ytd_surplus_gbp`` is income − cost of the contract year so far (through ``month``). The year
    closes with its twelfth month (``month % 12 == 11``): its surplus moves into the closed years.
    A review that finds the reserves at or below the floor records the failure in the next month,
    whose start it is held at.
    """
    in_hand = reserves_now(config.opening_gbp, book.closed_years_surplus_gbp, ytd_surplus_gbp)
    closed = book.closed_years_surplus_gbp + (ytd_surplus_gbp if month % 12 == 11 else 0.0)
    status = reserve_status(in_hand, config, book.failed_month is not None)
    failed = book.failed_month
    if status == "failed" and failed is None:
        failed = month + 1
    return ReserveBook(closed, failed), in_hand, status


def held(state: State, pressure: bool, pays: bool) -> Decision:
    """The decision of a failed provider: nothing changes (no hiring, no shedding, levers held)."""
    return Decision(pressure, pays, 0.0, 0.0, state.unpaid_overtime_share, state.ration_level)


__all__ = ["ReserveBook", "ReserveStatus", "held", "read_reserves", "reserve_status", "reserves_now", "with_recovery"]
