"""fundsim: what the way community health services are paid does to care and to system spend.

The public API::

    from fundsim import load_scenario, simulate, run_scenario
    scenario = load_scenario("scenarios/example.yaml")
    one = simulate(scenario, replication=0)          # RunResult with the monthly ledger
    results = run_scenario(scenario, replications=5)  # priced under the scenario's contract
    both = compare_scenario(scenario, ["block", "cost_and_volume"], replications=5, jobs=2)
"""

__version__ = "0.3.0"

from fundsim.api import compare_scenario, run_scenario, write_comparison, write_run
from fundsim.experiment.compare import Comparison
from fundsim.experiment.runner import Results
from fundsim.scenario import Scenario, load_scenario
from fundsim.sim import RunResult, simulate

__all__ = [
    "Comparison",
    "Results",
    "RunResult",
    "Scenario",
    "__version__",
    "compare_scenario",
    "load_scenario",
    "run_scenario",
    "simulate",
    "write_comparison",
    "write_run",
]
