"""The public API behind the command line: run a scenario, write its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fundsim.experiment.runner import Results, run_replications
from fundsim.experiment.store import base_manifest, write_json, write_outputs
from fundsim.scenario.loader import scenario_sha256
from fundsim.scenario.models import Scenario
from fundsim.sim import RunResult
from fundsim.sim.streams import PURPOSES


def with_seed(scenario: Scenario, seed: int | None) -> Scenario:
    """A copy of ``scenario`` with another master seed (the original is never mutated)."""
    if seed is None:
        return scenario
    simulation = scenario.simulation.model_copy(update={"seed": seed})
    return scenario.model_copy(update={"simulation": simulation})


def run_scenario(
    scenario: Scenario,
    replications: int | None = None,
    *,
    seed: int | None = None,
    contract: str | None = None,
    progress: Callable[[RunResult], None] | None = None,
) -> Results:
    """Simulate ``scenario`` for ``replications`` replications and price it under its contract."""
    return run_replications(with_seed(scenario, seed), replications, contract=contract, progress=progress)


def write_run(
    results: Results, out_dir: Path, *, scenario_file: Path | None, wall_time_s: float, overwrite: bool = False
) -> None:
    """Write the results of a run into ``out_dir``, atomically.

    Files: ``ledger.parquet``, ``provider.parquet``, ``replications.csv``, ``summary.csv`` and
    ``manifest.json`` (written last).
    """
    sc = results.scenario
    n = int(results.per_replication.shape[0])
    manifest = base_manifest(
        kind="run",
        scenario_name=sc.name,
        scenario_file=str(scenario_file) if scenario_file else None,
        scenario_sha256=scenario_sha256(scenario_file) if scenario_file else None,
        contract=results.contract,
        seed=sc.simulation.seed,
        replications=n,
        seeds={
            "master": sc.simulation.seed,
            "streams": "numpy SeedSequence(entropy=master, spawn_key=(replication, crc32(purpose), locality))",
            "replications": list(range(n)),
            "purposes": list(PURPOSES),
        },
        simulated_events=results.events,
        wall_time_s=round(wall_time_s, 3),
        scenario=sc.model_dump(mode="json"),
    )
    write_outputs(
        Path(out_dir),
        overwrite,
        {
            "ledger.parquet": lambda p: results.ledger.to_parquet(p, index=False),
            "provider.parquet": lambda p: results.provider.to_parquet(p, index=False),
            "replications.csv": lambda p: results.per_replication.to_csv(p, index=False),
            "summary.csv": lambda p: results.summary.to_csv(p, index=False),
            "manifest.json": lambda p: write_json(p, manifest),
        },
    )
