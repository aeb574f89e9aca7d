"""The public API behind the command line: run a scenario, write its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fundsim.experiment.compare import Comparison, compare
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
    jobs: int = 1,
    progress: Callable[[RunResult], None] | None = None,
) -> Results:
    """Simulate ``scenario`` for ``replications`` replications and price it under its contract."""
    return run_replications(with_seed(scenario, seed), replications, contract=contract, jobs=jobs, progress=progress)


def compare_scenario(
    scenario: Scenario,
    contracts: list[str] | None = None,
    replications: int | None = None,
    *,
    seed: int | None = None,
    jobs: int = 1,
    risk: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run ``scenario`` under every contract (or ``contracts``) with common random numbers."""
    return compare(with_seed(scenario, seed), contracts, replications, jobs=jobs, risk=risk, progress=progress)


def _seeds(scenario: Scenario, n: int) -> dict[str, object]:
    return {
        "master": scenario.simulation.seed,
        "streams": "numpy SeedSequence(entropy=master, spawn_key=(replication, crc32(purpose), locality))",
        "replications": list(range(n)),
        "purposes": list(PURPOSES),
    }


def write_comparison(
    comparison: Comparison,
    out_dir: Path,
    *,
    scenario_file: Path | None,
    wall_time_s: float,
    jobs: int,
    overwrite: bool = False,
) -> list[str]:
    """Write a comparison into ``out_dir`` atomically; return the file names written.

    Files: ``comparison.parquet``/``.csv`` (contract × measure: mean, CI, paired difference from the
    baseline), ``replications.parquet``/``.csv`` (contract × replication), ``provider.parquet``
    (contract × replication × month), ``ledger.parquet``, ``risk.csv`` when the risk view ran,
    ``outcomes.csv`` and ``wrong_way.csv`` when the outcomes contract is compared, and
    ``manifest.json`` last.
    """
    sc = comparison.scenario
    manifest = base_manifest(
        kind="compare",
        scenario_name=sc.name,
        scenario_file=str(scenario_file) if scenario_file else None,
        scenario_sha256=scenario_sha256(scenario_file) if scenario_file else None,
        contracts=list(comparison.contracts),
        baseline=comparison.baseline,
        provider_policy=sc.provider_policy.mode,
        seed=sc.simulation.seed,
        replications=comparison.replications,
        seeds=_seeds(sc, comparison.replications),
        simulations=comparison.simulations,
        jobs=jobs,
        simulated_events=comparison.events,
        wall_time_s=round(wall_time_s, 3),
        scenario=sc.model_dump(mode="json"),
    )
    writers = {
        "comparison.parquet": lambda p: comparison.summary.to_parquet(p, index=False),
        "comparison.csv": lambda p: comparison.summary.to_csv(p, index=False),
        "replications.parquet": lambda p: comparison.per_replication.to_parquet(p, index=False),
        "replications.csv": lambda p: comparison.per_replication.to_csv(p, index=False),
        "provider.parquet": lambda p: comparison.provider.to_parquet(p, index=False),
        "ledger.parquet": lambda p: comparison.ledger.to_parquet(p, index=False),
    }
    if comparison.risk is not None:
        writers["risk.csv"] = lambda p: comparison.risk.to_csv(p, index=False)
    if comparison.outcomes is not None:
        writers["outcomes.csv"] = lambda p: comparison.outcomes.to_csv(p, index=False)
        writers["wrong_way.csv"] = lambda p: comparison.wrong_way.to_csv(p, index=False)
    writers["manifest.json"] = lambda p: write_json(p, manifest)
    write_outputs(Path(out_dir), overwrite, writers)
    return list(writers)


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
        seeds=_seeds(sc, n),
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
