"""The public API: load, check, run and compare scenarios, run sweeps, and write their results.

The command line (``fundsim.cli``) calls nothing else of the layers below the report: what it
needs besides running (the sizing check, the job's estimate, the preflight of the output folder,
the advice, the expected rates, sweeps) is named here, so the interface stays thin and a script can
do what a command does.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

import pandas as pd

from fundsim.errors import FundsimError
from fundsim.experiment.addon_lines import has_addons
from fundsim.experiment.advice import advise
from fundsim.experiment.compare import Comparison, compare, configured_contracts
from fundsim.experiment.diagnostics import run_warnings
from fundsim.experiment.estimate import Estimate, check_limits, cpu_count, estimate_job
from fundsim.experiment.executor import default_jobs
from fundsim.experiment.expected_rates import as_yaml as expected_rates_yaml
from fundsim.experiment.expected_rates import expected_admissions_per_referral
from fundsim.experiment.manifest import folder_kind
from fundsim.experiment.preflight import check_output_dir
from fundsim.experiment.rescue import rescue
from fundsim.experiment.runner import MEASURES, Results, run_replications
from fundsim.experiment.store import base_manifest, write_outputs
from fundsim.safeio import printable, write_parquet
from fundsim.scenario import load_scenario
from fundsim.scenario.loader import load_model, scenario_sha256
from fundsim.scenario.models import Scenario
from fundsim.scenario.sizing import size_scenario
from fundsim.sim import RunResult
from fundsim.sim.streams import PURPOSES
from fundsim.spreadsheet import write_csv
from fundsim.sweep.executors import ExecutorChoice
from fundsim.sweep.run import SweepOutcome, SweepPlan, run_sweep
from fundsim.sweep.run import analyse as analyse_sweep
from fundsim.sweep.spec import SweepSpec

__all__ = [
    "MEASURES",
    "Comparison",
    "Estimate",
    "ExecutorChoice",
    "OutputPathError",
    "Results",
    "Scenario",
    "SweepOutcome",
    "SweepPlan",
    "SweepSpec",
    "advise",
    "analyse_sweep",
    "check_limits",
    "check_output_dir",
    "compare_scenario",
    "configured_contracts",
    "cpu_count",
    "default_jobs",
    "default_output_dir",
    "estimate_job",
    "expected_admissions_per_referral",
    "expected_rates_yaml",
    "folder_kind",
    "has_addons",
    "load_scenario",
    "load_sweep",
    "rescue",
    "run_scenario",
    "run_sweep",
    "run_warnings",
    "scenario_schema",
    "sizing_warnings",
    "write_comparison",
    "write_run",
]

#: Where results go when no output folder is named: ``results/<scenario name>`` under the current folder.
RESULTS_ROOT = Path("results")
#: Longest results folder name, in bytes of UTF-8 (file systems allow 255; room is left for the
#: temporary ``.<name>.tmp-<pid>-<random>`` sibling).
MAX_FOLDER_NAME_BYTES = 200


class OutputPathError(FundsimError):
    """A scenario's name cannot be used as the name of its results folder."""


def _folder_name_problem(name: str) -> str | None:
    """Why ``name`` is not a safe single folder name, or None when it is."""
    if not name.strip():
        return "it is empty"
    if "\0" in name:
        return "it contains a NUL character"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "it contains a control character"
    if any(sep in name for sep in {"/", "\\", os.sep, os.altsep or "/"}):
        return "it contains a path separator"
    if name in (".", "..") or PurePosixPath(name).is_absolute() or PureWindowsPath(name).drive:
        return "it names a folder outside the results folder"
    if name.startswith("."):
        return "it starts with '.' (hidden folders are fundsim's temporary folders)"
    if name != name.rstrip(" ."):
        return "it ends with a space or '.'"
    if len(name.encode("utf-8")) > MAX_FOLDER_NAME_BYTES:
        return f"it is longer than {MAX_FOLDER_NAME_BYTES} bytes"
    return None


def default_output_dir(scenario_name: str, suffix: str = "", root: Path = RESULTS_ROOT) -> Path:
    """The results folder used when none is named: ``root / (scenario_name + suffix)``.

    The scenario's name is taken from a file, so it must name exactly one folder inside ``root``:
    a name such as ``../../etc``, ``/tmp/x``, one with a path separator, a NUL or another control
    character, or a leading ``.`` is refused with :class:`OutputPathError` rather than followed.
    (The scenario schema already refuses such names; this is the second line of defence, for
    scenarios built in code.)
    """
    folder = f"{scenario_name}{suffix}"
    problem = _folder_name_problem(folder)
    if problem is not None:
        raise OutputPathError(
            f"the scenario name {scenario_name!r} cannot be used as the name of its results folder ({problem}); "
            "rename the scenario or name the output folder with --out"
        )
    out_dir = Path(root) / folder
    if out_dir.parent != Path(root) or out_dir.name != folder:  # pragma: no cover - the checks above prevent it
        raise OutputPathError(f"the results folder {out_dir} is not inside {root}")
    return out_dir


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
    check: bool = False,
    incidence: bool = False,
) -> Results:
    """Simulate ``scenario`` for ``replications`` replications and price it under its contract.

    With ``incidence`` (as ``fundsim run`` does) it also says who absorbs the unfunded activity
    (:mod:`fundsim.experiment.incidence`), at the cost of one or two more simulations per replication.
    """
    return run_replications(
        with_seed(scenario, seed),
        replications,
        contract=contract,
        jobs=jobs,
        progress=progress,
        check=check,
        incidence=incidence,
    )


def compare_scenario(
    scenario: Scenario,
    contracts: list[str] | None = None,
    replications: int | None = None,
    *,
    seed: int | None = None,
    jobs: int = 1,
    risk: bool = True,
    progress: Callable[[int, int], None] | None = None,
    check: bool = False,
    incidence: bool = True,
    addon_effect: bool | None = None,
) -> Comparison:
    """Run ``scenario`` under every contract (or ``contracts``) with common random numbers.

    ``addon_effect`` (default: when the scenario has add-on services) also runs it without its
    add-ons and with the other staffing choice (:mod:`fundsim.experiment.addon_effect`).
    """
    return compare(
        with_seed(scenario, seed),
        contracts,
        replications,
        jobs=jobs,
        risk=risk,
        progress=progress,
        check=check,
        incidence=incidence,
        addon_effect=addon_effect,
    )


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
    ``outcomes.csv`` and ``wrong_way.csv`` when the outcomes contract is compared, ``addon_effect.csv``
    and ``addon_effect_replications.csv`` when the add-ons' effect was measured, ``decisions.csv``
    (what the provider decided: contract × replication × month) and ``manifest.json`` last (listing
    the size and SHA-256 of every other file).
    """
    sc = comparison.scenario
    manifest = base_manifest(
        kind="compare",
        scenario_name=sc.name,
        scenario_file=printable(scenario_file) if scenario_file else None,
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
    # Parquet through Python file objects (any file name works); CSV with text cells made safe to
    # open in a spreadsheet (fundsim.spreadsheet).
    writers: dict[str, Callable[[Path], None]] = {
        "comparison.parquet": lambda p: write_parquet(comparison.summary, p),
        "comparison.csv": lambda p: write_csv(comparison.summary, p),
        "replications.parquet": lambda p: write_parquet(comparison.per_replication, p),
        "replications.csv": lambda p: write_csv(comparison.per_replication, p),
        "provider.parquet": lambda p: write_parquet(comparison.provider, p),
        "ledger.parquet": lambda p: write_parquet(comparison.ledger, p),
    }
    if comparison.incidence is not None:
        writers["incidence.csv"] = _csv(comparison.incidence)
    if comparison.risk is not None:
        writers["risk.csv"] = _csv(comparison.risk)
    if comparison.outcomes is not None:
        writers["outcomes.csv"] = _csv(comparison.outcomes)
    if comparison.wrong_way is not None:  # made with outcomes.csv
        writers["wrong_way.csv"] = _csv(comparison.wrong_way)
    if comparison.decisions is not None:
        writers["decisions.csv"] = _csv(comparison.decisions)
    if comparison.addon_effect is not None:  # the add-ons' effect (fundsim.experiment.addon_effect)
        writers["addon_effect.csv"] = _csv(comparison.addon_effect)
    if comparison.addon_effect_per_replication is not None:
        writers["addon_effect_replications.csv"] = _csv(comparison.addon_effect_per_replication)
    _add_reserve_writers(writers, comparison.reserves, comparison.reserve_outcomes)
    return write_outputs(Path(out_dir), overwrite, writers, manifest)


def _add_reserve_writers(
    writers: dict[str, Callable[[Path], None]], reserves: pd.DataFrame | None, outcomes: pd.DataFrame | None
) -> None:
    """With provider_policy.reserves: ``reserves.csv`` (by contract year) and ``reserve_outcomes.csv`` (per run)."""
    if reserves is not None:
        writers["reserves.csv"] = _csv(reserves)
    if outcomes is not None:
        writers["reserve_outcomes.csv"] = _csv(outcomes)


def _csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    """A writer of ``frame`` as a formula-safe CSV file (:func:`fundsim.spreadsheet.write_csv`)."""
    return lambda path: write_csv(frame, path)


def write_run(
    results: Results, out_dir: Path, *, scenario_file: Path | None, wall_time_s: float, overwrite: bool = False
) -> list[str]:
    """Write the results of a run into ``out_dir``, atomically; return the file names written.

    Files: ``ledger.parquet``, ``provider.parquet``, ``replications.csv``, ``summary.csv``,
    ``incidence.csv`` (who absorbs the unfunded activity, when measured), ``decisions.csv`` (what
    the provider decided: replication × month) and ``manifest.json`` (written last, listing the size
    and SHA-256 of every other file).
    """
    sc = results.scenario
    n = int(results.per_replication.shape[0])
    manifest = base_manifest(
        kind="run",
        scenario_name=sc.name,
        scenario_file=printable(scenario_file) if scenario_file else None,
        scenario_sha256=scenario_sha256(scenario_file) if scenario_file else None,
        contract=results.contract,
        seed=sc.simulation.seed,
        replications=n,
        seeds=_seeds(sc, n),
        simulated_events=results.events,
        wall_time_s=round(wall_time_s, 3),
        scenario=sc.model_dump(mode="json"),
    )
    writers: dict[str, Callable[[Path], None]] = {
        "ledger.parquet": lambda p: write_parquet(results.ledger, p),
        "provider.parquet": lambda p: write_parquet(results.provider, p),
        "replications.csv": lambda p: write_csv(results.per_replication, p),
        "summary.csv": lambda p: write_csv(results.summary, p),
    }
    if results.incidence is not None:
        writers["incidence.csv"] = _csv(results.incidence)
    if results.decisions is not None:
        writers["decisions.csv"] = _csv(results.decisions)
    _add_reserve_writers(writers, results.reserves, results.reserve_outcomes)
    return write_outputs(Path(out_dir), overwrite, writers, manifest)


def scenario_schema() -> dict[str, object]:
    """The JSON Schema of scenario files, for editors' autocompletion (``fundsim schema``)."""
    return Scenario.model_json_schema()


def sizing_warnings(scenario: Scenario) -> tuple[str, ...]:
    """The pre-run sizing check's plain-English warnings (staff against demand, the contract against it)."""
    return size_scenario(scenario).warnings


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate the sweep file ``path`` (located errors, as for scenarios)."""
    return load_model(path, SweepSpec)
