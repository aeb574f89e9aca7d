"""fundsim: what the way community health services are paid does to care and to system spend.

The public API::

    from fundsim import load_scenario, simulate, run_scenario
    scenario = load_scenario("scenarios/example.yaml")
    one = simulate(scenario, replication=0)          # RunResult with the monthly ledger
    results = run_scenario(scenario, replications=5)  # priced under the scenario's contract
"""

__version__ = "0.1.0"

from fundsim.api import run_scenario, write_run
from fundsim.experiment.runner import Results
from fundsim.scenario import Scenario, load_scenario
from fundsim.sim import RunResult, simulate

__all__ = ["Results", "RunResult", "Scenario", "__version__", "load_scenario", "run_scenario", "simulate", "write_run"]
