"""One unit of sweep work, run wherever an executor puts it (this process, a pool, a Dask worker).

A task is one simulation: a point's scenario for one replication, under one contract (responsive
provider policy: the provider manages to that contract) or under all of them (passive policy: the
clinical trace does not depend on the contract, so one simulation is priced under each). It returns
only the per-replication headline measures, so little travels back from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fundsim.experiment.guards import check_ledger
from fundsim.experiment.runner import price, replication_measures
from fundsim.scenario.models import Scenario
from fundsim.sim import simulate

#: The contract name of a task that prices one simulation under every contract (passive policy).
ALL_CONTRACTS = "*"


@dataclass(frozen=True)
class SweepTask:
    """Simulate ``scenario`` (point ``point``) for ``replication``; price under ``contracts``."""

    point: int
    replication: int
    simulated_contract: str  # the contract the provider manages to, or ALL_CONTRACTS
    contracts: tuple[str, ...]  # the contracts whose partitions this task writes
    scenario: Scenario | None  # None: the point's scenario is invalid, so the task is recorded as failed, never run

    @property
    def key(self) -> tuple[int, int, str]:
        """A stable key: (point, replication, simulated contract)."""
        return (self.point, self.replication, self.simulated_contract)


def run_sweep_task(task: SweepTask) -> dict[str, pd.DataFrame]:
    """Simulate the task and return one row of headline measures per contract."""
    scenario = task.scenario
    if scenario is None:
        raise ValueError(f"sweep point {task.point} has no valid scenario to simulate")
    if task.simulated_contract != ALL_CONTRACTS:
        scenario = scenario.model_copy(update={"contract": task.simulated_contract})
    ledger = simulate(scenario, task.replication).ledger
    check_ledger(ledger)  # the cheap invariants every run checks (fundsim.experiment.guards)
    rows = {}
    for contract in task.contracts:
        provider = price(ledger, scenario, contract)
        measures = replication_measures(provider, ledger)
        measures.insert(0, "contract", contract)
        measures.insert(0, "point", task.point)
        rows[contract] = measures.reset_index(drop=True)
    return rows
