"""How long a job will take and how much memory it will need, before it starts.

A small cost model, calibrated on measurements (``benchmarks/bench_estimate.py`` measures and fits
it; the constants below are its result on a 2-CPU Linux virtual machine, for each path of the
day's steps, :mod:`fundsim.sim.kernels`: the compiled one about three times faster). One simulation costs

    seconds = SECONDS_PER_SIMULATION + per day × days + per locality-day × days × localities
              + per event × expected events

where ``days`` is the warm-up plus the horizon and the expected events are the referrals over
those days times (2 + the mean number of visits per episode): an assessment and the visits of
each referral, and the referral itself. Memory is the process itself, the people alive at once
in each simulation running (referrals a day × the mean length of an episode, from Little's law),
and the tables kept for the whole job (ledger rows × columns). The model is rough — within a
factor of about two on the measurements — which is enough to tell a minute from a week.

Jobs above :data:`MAX_SECONDS` or :data:`MAX_MEMORY_SHARE` of the machine's memory are refused
unless the user confirms with ``--yes-long``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from fundsim.errors import FundsimError
from fundsim.scenario.models import Scenario
from fundsim.sim.kernels import kernel_choice


@dataclass(frozen=True)
class CostModel:
    """Seconds per simulated day, per locality-day and per expected event of one path of the day's steps."""

    per_day: float
    per_locality_day: float
    per_event: float


#: The fitted model of each path (``python benchmarks/bench_estimate.py``, and with ``FUNDSIM_KERNEL=pure``;
#: 2026-11-27, fundsim 0.4.0 on a 2-CPU Linux virtual machine; refit when a path's speed changes).
COST_MODELS = {
    "compiled": CostModel(per_day=2.4e-4, per_locality_day=8.1e-5, per_event=2.3e-7),
    "pure": CostModel(per_day=6.6e-4, per_locality_day=2.7e-4, per_event=5.8e-7),
}
#: Fixed cost of a simulation (building the model and the ledger), seconds.
SECONDS_PER_SIMULATION = 0.02
#: Bytes of a process that has imported fundsim (measured: about 190 MB resident).
PROCESS_BYTES = 200 * 1024 * 1024
#: Bytes of per-person state at the peak (measured: ``RunResult.peak_state_bytes`` ÷ people alive).
BYTES_PER_LIVE_PERSON = 1_000
#: Live people at the peak relative to Little's law's mean (measured: about 1.2 to 1.5).
PEAK_TO_MEAN_PEOPLE = 1.5
#: Bytes each cell of the kept tables costs at the peak (8-byte values, copied while concatenated and written).
BYTES_PER_TABLE_CELL = 32
#: Bytes each cell takes in the written files, at most (Parquet compresses; this is an upper bound).
BYTES_PER_FILE_CELL = 8
#: Bytes of a results folder besides its cells (Parquet metadata, the manifest; measured: about 115 KB).
OUTPUT_BASE_BYTES = 192 * 1024
#: Ledger columns besides those per tier and per source.
LEDGER_BASE_COLUMNS = 60
#: Jobs estimated above this many seconds are refused unless confirmed (``--yes-long``).
MAX_SECONDS = 6 * 3600
#: Jobs estimated to need more than this share of the machine's memory are refused unless confirmed.
MAX_MEMORY_SHARE = 0.8


class JobTooLargeError(FundsimError):
    """A job's estimate is above the limits and the user did not confirm it."""


@dataclass(frozen=True)
class Estimate:
    """What a job is expected to cost."""

    simulations: int
    workers: int
    seconds: float  # wall time with ``workers`` in parallel
    peak_bytes: int  # peak resident memory of the whole job
    output_bytes: int  # size of the files written, an upper bound

    def describe(self) -> str:
        """One line for the user: simulations, time, memory."""
        return (
            f"Estimate: {self.simulations:,} simulation(s) on {self.workers} worker(s), about "
            f"{format_duration(self.seconds)}, peak memory about {format_bytes(self.peak_bytes)}."
        )


def format_duration(seconds: float) -> str:
    """``'40 s'``, ``'12 min'``, ``'3.5 h'``, ``'12 days'``."""
    if seconds < 60:
        return f"{max(seconds, 0.1):.0f} s" if seconds >= 1 else "under a second"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"


def format_bytes(n: float) -> str:
    """``'350 MB'``, ``'12.0 GB'``."""
    if n < 1024**3:
        return f"{n / 1024**2:,.0f} MB"
    return f"{n / 1024**3:,.1f} GB"


def machine_memory_bytes() -> int:
    """Physical memory of the machine, in bytes (8 GB when it cannot be told)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


@dataclass(frozen=True)
class SimulationCost:
    """The cost of one simulation of a scenario."""

    seconds: float
    state_bytes: int
    ledger_rows: int
    ledger_columns: int


def expected_events(scenario: Scenario) -> float:
    """The events a simulation of ``scenario`` is expected to have: each referral, its assessment and its visits."""
    return _referrals_per_day(scenario) * _days(scenario) * (2.0 + _mean_visits_and_episode_days(scenario)[0])


def _days(scenario: Scenario) -> float:
    """Simulated days: the warm-up and the horizon."""
    return scenario.simulation.warmup_days + scenario.simulation.horizon_years * 365.25


def _referrals_per_day(scenario: Scenario) -> float:
    growth = (1.0 + scenario.demand.growth_per_year) ** (_days(scenario) / 365.25 / 2.0)
    per_year = sum(loc.population * loc.referral_rate_per_1000_per_year for loc in scenario.localities) / 1000.0
    return per_year / 365.25 * growth


def _mean_visits_and_episode_days(scenario: Scenario) -> tuple[float, float]:
    mix = scenario.demand.complexity_mix
    visits, episode_days = 0.0, 0.0
    for tier in scenario.tiers:
        share = float(mix.get(tier.name, 0.0))
        mean_visits = float(tier.visits.mean)
        visits += share * mean_visits
        episode_days += share * mean_visits * float(tier.interval_days)
    return visits, episode_days


def simulation_cost(scenario: Scenario, kernel: str | None = None) -> SimulationCost:
    """The modelled cost of simulating ``scenario`` once on ``kernel``'s path (default: the one in use)."""
    model = COST_MODELS[kernel or kernel_choice()]
    days = _days(scenario)
    seconds = (
        SECONDS_PER_SIMULATION
        + model.per_day * days
        + model.per_locality_day * days * len(scenario.localities)
        + model.per_event * expected_events(scenario)
    )
    episode_days = _mean_visits_and_episode_days(scenario)[1]
    people = PEAK_TO_MEAN_PEOPLE * _referrals_per_day(scenario) * max(episode_days, 1.0)
    months = math.ceil(scenario.simulation.horizon_years * 12) + 1
    columns = LEDGER_BASE_COLUMNS + 4 * len(scenario.tiers) + len(scenario.demand.sources)
    return SimulationCost(
        seconds=seconds,
        state_bytes=int(people * BYTES_PER_LIVE_PERSON + 300_000),
        ledger_rows=len(scenario.localities) * months,
        ledger_columns=columns,
    )


def estimate_job(scenario: Scenario, simulations: int, workers: int) -> Estimate:
    """The cost of ``simulations`` simulations of ``scenario``, ``workers`` at a time."""
    cost = simulation_cost(scenario)
    workers = max(1, min(workers, simulations))
    waves = math.ceil(simulations / workers)
    cells = simulations * cost.ledger_rows * cost.ledger_columns
    peak = PROCESS_BYTES * (1 + (workers if workers > 1 else 0)) + workers * cost.state_bytes
    peak += cells * BYTES_PER_TABLE_CELL
    return Estimate(
        simulations=simulations,
        workers=workers,
        seconds=waves * cost.seconds,
        peak_bytes=int(peak),
        output_bytes=int(cells * BYTES_PER_FILE_CELL * 2 + OUTPUT_BASE_BYTES),
    )


def check_limits(estimate: Estimate, confirmed: bool, flag: str = "--yes-long") -> None:
    """Refuse a job above :data:`MAX_SECONDS` or :data:`MAX_MEMORY_SHARE` of memory unless ``confirmed``."""
    if confirmed:
        return
    memory = machine_memory_bytes()
    reasons = []
    if estimate.seconds > MAX_SECONDS:
        reasons.append(
            f"it would take about {format_duration(estimate.seconds)} (the limit is {format_duration(MAX_SECONDS)})"
        )
    if estimate.peak_bytes > MAX_MEMORY_SHARE * memory:
        reasons.append(
            f"it would need about {format_bytes(estimate.peak_bytes)} of memory "
            f"(this machine has {format_bytes(memory)})"
        )
    if reasons:
        raise JobTooLargeError(
            f"{estimate.simulations:,} simulation(s): {' and '.join(reasons)}; use fewer replications, a smaller or "
            f"shorter scenario, or pass {flag} to start it anyway"
        )


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
