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
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundsim.scenario.policy_models import Retendering

#: Months in a contract year.
MONTHS_PER_YEAR = 12


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


__all__ = ["add_retendering_columns", "relet_months", "transition_days", "value_factor"]
