"""Re-tendering: when the contract is re-let, and what a re-let does to value, cost and staff.

Pure functions of the scenario's ``provider_policy.retendering`` and the calendar (no SimPy, no
randomness). :mod:`fundsim.sim.management` applies the staff and productivity effects during the
run; :func:`add_retendering_columns` writes the two ledger columns the accounts read:

- ``mobilisation_cost_gbp``: the one-off cost of each re-let, in the re-let month, split between
  localities by population (a provider cost: :func:`fundsim.contracts.accounting.settle` adds it
  to ``cost_gbp``);
- ``contract_value_factor``: the contract's value as a share of the original, ``bid_value_share``
  to the power of the re-lets so far (each winning bid is a share of the value it replaces);
  ``settle`` multiplies the contract's income by it.

Under the passive policy there is no provider review to carry the staff and productivity effects;
:func:`start_passive_relets` applies them to the running service instead (the transition's lost
visit time, and the staff who leave at a re-let, replaced by the incoming provider after
``hiring.lag_months``: a vacancy filled, not a response to the contract). It is the same schedule
and the same arithmetic as the responsive provider's (:mod:`fundsim.sim.management`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import simpy

from fundsim.scenario.policy_models import Retendering

if TYPE_CHECKING:  # the service imports nothing from here; only the type is needed
    from fundsim.sim.calendar import Calendar
    from fundsim.sim.service import ServiceModel

#: Months in a contract year.
MONTHS_PER_YEAR = 12

#: Mean days in a month: a hiring lag in months becomes round(lag × this) days, as the provider's.
DAYS_PER_MONTH = 365.25 / 12.0


def relet_months(config: Retendering, n_months: int) -> list[int]:
    """Month indices (from 0) at which the contract is re-let within a horizon of ``n_months``."""
    step = config.every_years * MONTHS_PER_YEAR
    return list(range(step, n_months, step))


def value_factor(contract_year: np.ndarray, config: Retendering) -> np.ndarray:
    """The contract's value as a share of the original in each contract year (1-based)."""
    relets = (np.asarray(contract_year, dtype=np.int64) - 1) // config.every_years
    return np.power(config.bid_value_share, relets.astype(float))


def transition_days(config: Retendering, month_start_day: np.ndarray) -> list[tuple[int, int]]:
    """``(first day, end day)`` of each transition period (end excluded), clipped to the horizon."""
    n_months = len(month_start_day) - 1
    out = []
    for month in relet_months(config, n_months):
        end_month = min(n_months, month + config.transition_months)
        if end_month > month:
            out.append((int(month_start_day[month]), int(month_start_day[end_month])))
    return out


def add_retendering_columns(ledger: pd.DataFrame, config: Retendering, total_population: float) -> pd.DataFrame:
    """The ledger with ``mobilisation_cost_gbp`` and ``contract_value_factor`` (see the module docstring).

    The re-let months are the first months of contract years ``every_years`` + 1, 2 ×
    ``every_years`` + 1, …; a locality's share of the mobilisation cost is its share of the population.
    """
    out = ledger.copy()
    year = out["contract_year"].to_numpy(dtype=np.int64)
    month_in_year = out.groupby(["replication", "locality", "contract_year"]).cumcount().to_numpy()
    relet = (month_in_year == 0) & ((year - 1) % config.every_years == 0) & (year > 1)
    share = out["population"].to_numpy(dtype=float) / total_population
    out["mobilisation_cost_gbp"] = np.where(relet, config.mobilisation_cost_gbp * share, 0.0)
    out["contract_value_factor"] = value_factor(year, config)
    return out


def start_passive_relets(
    env: simpy.Environment,
    config: Retendering,
    calendar: Calendar,
    service: ServiceModel,
    hiring_lag_months: int,
) -> None:
    """Apply the re-lets' transition and staff loss to ``service`` in a run with no provider review.

    Transition: the rostered visit minutes and the overtime cap of each transition day are scaled by
    1 − ``transition_productivity_loss_share`` (staff are paid as before). Staff: at each re-let
    ``staff_lost_share`` of the staff in post leave and as many start ``hiring_lag_months`` later.
    """
    keep = 1.0 - config.transition_productivity_loss_share
    if keep != 1.0:
        for start, end in transition_days(config, calendar.month_start_day):
            service.visit_minutes[start:end] *= keep
            service.overtime_minutes_cap[start:end] *= keep
    if config.staff_lost_share > 0:
        env.process(_passive_staff_turnover(env, config, calendar, service, hiring_lag_months))


def _passive_staff_turnover(
    env: simpy.Environment, config: Retendering, calendar: Calendar, service: ServiceModel, hiring_lag_months: int
) -> Generator[simpy.Event]:
    lag = round(hiring_lag_months * DAYS_PER_MONTH)
    for month in relet_months(config, calendar.n_months):
        yield env.timeout(int(calendar.month_start_day[month]) - env.now)
        lost = config.staff_lost_share * service.fte_scale
        service.change_fte(-lost)
        env.process(_replace_after(env, lag, lost, service))


def _replace_after(
    env: simpy.Environment, lag_days: int, share: float, service: ServiceModel
) -> Generator[simpy.Event]:
    # Its own process, as the provider's hires: the change lands at the start of a day.
    yield env.timeout(lag_days)
    service.change_fte(share)


__all__ = ["add_retendering_columns", "relet_months", "start_passive_relets", "transition_days", "value_factor"]
