"""fundsim: what the way community health services are paid does to care and to system spend.

The public API::

    from fundsim import load_scenario, simulate, run_scenario
    scenario = load_scenario("scenarios/example.yaml")
    one = simulate(scenario, replication=0)          # RunResult with the monthly ledger
    results = run_scenario(scenario, replications=5)  # priced under the scenario's contract
    both = compare_scenario(scenario, ["block", "cost_and_volume"], replications=5, jobs=2)
    swept = run_sweep("scenarios/sweeps/example-lhs.yaml", "results/example-lhs")  # sensitivity
"""

from fundsim.api import compare_scenario, run_scenario, write_comparison, write_run
from fundsim.experiment.compare import Comparison
from fundsim.experiment.runner import Results
from fundsim.scenario import Scenario, load_scenario
from fundsim.sim import RunResult, simulate
from fundsim.sweep.run import analyse as analyse_sweep
from fundsim.sweep.run import run_sweep
from fundsim.version import __version__

__all__ = [
    "Comparison",
    "Results",
    "RunResult",
    "Scenario",
    "__version__",
    "analyse_sweep",
    "compare_scenario",
    "load_scenario",
    "run_scenario",
    "run_sweep",
    "simulate",
    "write_comparison",
    "write_run",
]
