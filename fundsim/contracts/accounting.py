"""Money follows activity: income, cost, surplus and the over-performance a contract absorbs.

Generic over contracts: every payment function returns income, contracted and delivered
activity; the rest is arithmetic defined once, here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundsim.contracts import REGISTRY
from fundsim.contracts.base import ContractConfig, ContractContext
from fundsim.contracts.table import column


def settle(periods: pd.DataFrame, contract: str, config: ContractConfig, context: ContractContext) -> pd.DataFrame:
    """Price the provider's monthly ledger under ``contract`` and derive the money columns.

    Adds: ``contract``, ``income_gbp``, ``hospital_cost_borne_gbp`` (hospital cost the provider
    pays: 0 unless the contract hands it the acute budget), ``cost_gbp`` (staff cost + hospital cost
    borne), ``surplus_gbp`` (income − cost),
    ``absorbed_gbp`` (max(0, cost − income): the cost the provider carries unfunded),
    ``contracted_activity``, ``delivered_activity``, ``over_performance_activity``
    (max(0, delivered − contracted)), ``unit_cost_gbp`` (staff cost ÷ delivered),
    ``over_performance_cost_gbp`` (over-performance × unit cost), ``funded_activity`` (what the
    contract's payment rule pays for, in full-price units; the contracted activity unless the
    contract says otherwise), ``unfunded_activity`` (max(0, delivered − funded)) and ``commissioner_spend_gbp``
    (contract payments + the hospital cost the commissioner still pays directly). Any other column
    the payment function returns (the parts of a payment) is kept as ``pay_<column>``.
    """
    payments = REGISTRY[contract].pay(periods, config, context)
    out = periods.copy()
    out.insert(0, "contract", contract)
    for col in ("income_gbp", "contracted_activity", "delivered_activity"):
        out[col] = column(payments, col)
    if "contract_value_factor" in periods:
        # Re-tendering (fundsim.sim.retender): the winning bid's value, a share of the value it replaced.
        out["income_gbp"] = out["income_gbp"] * periods["contract_value_factor"].to_numpy(dtype=float)
    # Extra columns a contract reports (e.g. blended fixed/variable/incentive) are kept, prefixed
    # with "pay_" so that they can never shadow a ledger column.
    for col in (str(name) for name in payments):
        if col not in (
            "income_gbp",
            "contracted_activity",
            "delivered_activity",
            "hospital_cost_borne_gbp",
            "funded_activity",
        ):
            out[f"pay_{col}"] = column(payments, col, None)
    # What the contract's own payment rule pays for. A contract that does not say pays for its
    # contracted activity (block-like: a fixed sum meant to buy that much).
    funded = payments["funded_activity"] if "funded_activity" in payments else payments["contracted_activity"]
    out["funded_activity"] = np.asarray(funded, dtype=float) * np.ones(len(out))
    out["unfunded_activity"] = np.maximum(0.0, out["delivered_activity"] - out["funded_activity"])
    borne = payments["hospital_cost_borne_gbp"] if "hospital_cost_borne_gbp" in payments else 0.0
    out["hospital_cost_borne_gbp"] = np.asarray(borne, dtype=float) * np.ones(len(out))
    out["cost_gbp"] = out["staff_cost_gbp"] + out["hospital_cost_borne_gbp"]
    if "mobilisation_cost_gbp" in periods:  # re-tendering's one-off cost, borne by the provider
        out["cost_gbp"] = out["cost_gbp"] + periods["mobilisation_cost_gbp"].to_numpy(dtype=float)
    out["surplus_gbp"] = out["income_gbp"] - out["cost_gbp"]
    out["absorbed_gbp"] = np.maximum(0.0, out["cost_gbp"] - out["income_gbp"])
    out["over_performance_activity"] = np.maximum(0.0, out["delivered_activity"] - out["contracted_activity"])
    delivered = out["delivered_activity"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Community unit cost: the acute budget some contracts hand over is not a cost of a contact.
        unit = np.where(delivered > 0, out["staff_cost_gbp"].to_numpy() / delivered, np.nan)
    out["unit_cost_gbp"] = unit
    out["over_performance_cost_gbp"] = np.nan_to_num(out["over_performance_activity"].to_numpy() * unit)
    out["commissioner_spend_gbp"] = out["income_gbp"] + out["hospital_cost_gbp"] - out["hospital_cost_borne_gbp"]
    return out


def unfunded_total(periods: pd.DataFrame) -> float:
    """Activity the contract's rule does not pay for, over the rows given (one replication's months).

    Worked out per contract year, the period over which contracts settle: max(0, delivered − funded)
    summed over the year's months, then added over the years. A month above plan and a month below
    it in the same year offset each other, as they do in a year-end reconciliation.
    """
    by_year = periods.groupby("contract_year")[["delivered_activity", "funded_activity"]].sum()
    return float(np.maximum(0.0, by_year["delivered_activity"] - by_year["funded_activity"]).sum())
