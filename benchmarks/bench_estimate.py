"""Calibrate the cost model of fundsim/experiment/estimate.py on this machine.

Simulates the shipped scenarios at several sizes and horizons, records the wall time, the people
alive at the peak and the state bytes, and fits (non-negative least squares) the seconds per day,
per locality-day and per expected event that ``estimate.py`` uses for the path of the day's steps
in use (``estimate.COST_MODELS``; :mod:`fundsim.sim.kernels`). Prints the measurements, the fitted
model and how far the model is from each measurement.

    python benchmarks/bench_estimate.py                        # the compiled path (about a minute on 2 CPUs)
    FUNDSIM_KERNEL=pure python benchmarks/bench_estimate.py    # the pure path
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from fundsim.experiment import estimate
from fundsim.scenario.loader import load_scenario
from fundsim.scenario.models import Scenario
from fundsim.scenario.scaling import scale_size
from fundsim.sim import simulate
from fundsim.sim.kernels import kernel_choice

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
#: (scenario file, size factor, horizon in years)
PLAN = [
    ("tiny", 1, 0.25),
    ("tiny", 10, 0.25),
    ("tiny", 1, 1.0),
    ("tiny", 10, 1.0),
    ("tiny", 40, 0.5),
    ("tiny", 1, 3.0),
    ("example", 1, 1.0),
    ("example", 0.2, 3.0),
    ("example", 1, 3.0),
    ("example", 2, 1.0),
    ("large", 1, 1.0),
]


def main() -> None:
    rows, features, seconds = [], [], []
    for name, factor, years in PLAN:
        data = scale_size(load_scenario(ROOT / f"{name}.yaml").model_dump(mode="json"), factor)
        data["simulation"]["horizon_years"] = years
        scenario = Scenario.model_validate(data)
        simulate(scenario, 0)  # warm caches
        t0 = time.perf_counter()
        run = simulate(scenario, 0)
        took = time.perf_counter() - t0
        sim = scenario.simulation
        days = sim.warmup_days + sim.horizon_years * 365.25
        cost = estimate.simulation_cost(scenario)
        features.append([days, days * len(scenario.localities), estimate.expected_events(scenario)])
        seconds.append(took - estimate.SECONDS_PER_SIMULATION)
        rows.append((name, factor, years, took, run.peak_live_people, run.peak_state_bytes, cost))
    coef, _ = nnls(np.array(features), np.array(seconds))
    day, locality_day, event = coef
    print(
        f"fitted on the {kernel_choice()} path: "
        f"CostModel(per_day={day:.2e}, per_locality_day={locality_day:.2e}, per_event={event:.2e})"
    )
    for (name, factor, years, took, people, state, cost), feat in zip(rows, features, strict=True):
        model = estimate.SECONDS_PER_SIMULATION + float(np.dot(coef, feat))
        print(
            f"{name:8s} ×{factor:<4} {years:5.2f} y: {took:6.2f} s measured, {model:6.2f} s fitted, "
            f"{cost.seconds:6.2f} s by estimate.py; people at peak {people:,}, state {state / 1e6:.1f} MB "
            f"({state / max(people, 1):,.0f} B/person), modelled {cost.state_bytes / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
