"""Run a sweep file end to end: check it, plan the runs, execute what is missing, analyse.

Seeds: every point uses the base scenario's seed and replications ``0 … n − 1``, so points share
their random numbers (common random numbers across the design as well as across contracts) and
a run's numbers depend only on its point and replication, never on the executor or on the order
in which runs finish.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from fundsim import __version__
from fundsim.errors import FundsimError, Problem, ScenarioError
from fundsim.experiment.compare import configured_contracts
from fundsim.scenario.loader import load_model, load_scenario
from fundsim.scenario.models import Scenario
from fundsim.sweep import analysis, executors, store
from fundsim.sweep.design import design_table
from fundsim.sweep.overrides import apply, base_data, check_path
from fundsim.sweep.spec import SweepSpec
from fundsim.sweep.tasks import ALL_CONTRACTS, SweepTask, run_sweep_task


@dataclass
class SweepPlan:
    """A checked sweep: its spec, base scenario, design, contracts and the scenario of each point."""

    sweep_file: Path
    spec: SweepSpec
    base: Scenario
    sha256: str
    contracts: tuple[str, ...]
    design: pd.DataFrame
    scenarios: dict[int, Scenario]  # points whose parameters make a valid scenario
    invalid: dict[int, str] = field(default_factory=dict)  # point → why its scenario is not valid

    def tasks(self) -> list[SweepTask]:
        """Every run of the sweep, in (point, replication, contract) order."""
        passive = self.base.provider_policy.mode == "passive"
        out = []
        for point in range(len(self.design)):
            scenario = self.scenarios.get(point)
            for r in range(self.spec.replications):
                if passive:
                    out.append(SweepTask(point, r, ALL_CONTRACTS, self.contracts, scenario))  # type: ignore[arg-type]
                else:
                    out.extend(SweepTask(point, r, c, (c,), scenario) for c in self.contracts)  # type: ignore[arg-type]
        return out


def _line_of(text: str, needle: str) -> int | None:
    """1-based line of the first occurrence of ``needle`` in ``text`` (for messages)."""
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


def plan(sweep_file: Path) -> SweepPlan:
    """Load and check ``sweep_file`` and its base scenario; lay out the design.

    Every problem that can be found before running (unknown paths, contracts not configured,
    outputs naming contracts not in the sweep) is raised as a located :class:`ScenarioError`.
    """
    sweep_file = Path(sweep_file)
    spec = load_model(sweep_file, SweepSpec)
    text = sweep_file.read_text(encoding="utf-8")
    name = str(sweep_file)
    base_path = spec.base_path(sweep_file)
    if not base_path.is_file():
        raise ScenarioError.single(
            name, f"base scenario {base_path} does not exist", line=_line_of(text, "base:"), field="base"
        )
    base = load_scenario(base_path)
    problems: list[Problem] = []
    data = base_data(base)
    for i, parameter in enumerate(spec.parameters):
        why = check_path(data, parameter.path)
        if why is not None:
            problems.append(Problem(name, _line_of(text, parameter.path), None, f"parameters[{i}].path", why))
    available = configured_contracts(base)
    contracts = tuple(spec.contracts) if spec.contracts else available
    for c in contracts:
        if c not in available:
            problems.append(
                Problem(name, _line_of(text, c), None, "contracts", f"{c!r} is not configured in {base_path.name}; "
                        f"configured: {', '.join(available)}")
            )  # fmt: skip
    for i, output in enumerate(spec.outputs):
        for which, c in (("contract", output.contract), ("minus", output.minus)):
            if c is not None and c not in contracts:
                problems.append(
                    Problem(name, None, None, f"outputs[{i}].{which}",
                            f"{c!r} is not among the sweep's contracts ({', '.join(contracts)})")
                )  # fmt: skip
    if problems:
        raise ScenarioError(problems)
    design = design_table(spec)
    scenarios: dict[int, Scenario] = {}
    invalid: dict[int, str] = {}
    paths = [p.path for p in spec.parameters]
    for row in design.itertuples(index=False):
        point = int(row[0])
        values = {path: _plain(v) for path, v in zip(paths, row[1:], strict=True)}
        try:
            scenarios[point] = Scenario.model_validate(apply(data, values))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            invalid[point] = f"invalid scenario at {values}: {where}: {first['msg']}"
    digest = hashlib.sha256(sweep_file.read_bytes() + b"\0" + base_path.read_bytes()).hexdigest()
    return SweepPlan(sweep_file, spec, base, digest, contracts, design, scenarios, invalid)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value pydantic and JSON expect."""
    return value.item() if hasattr(value, "item") else value


@dataclass
class SweepOutcome:
    """What a sweep run did and where it left its results."""

    out_dir: Path
    total_tasks: int
    reused: int
    ran: int
    failed: pd.DataFrame
    results: pd.DataFrame
    outputs: pd.DataFrame
    sensitivity: pd.DataFrame
    notes: list[str]
    wall_s: float


def run_sweep(
    sweep_file: Path,
    out_dir: Path,
    choice: executors.ExecutorChoice | None = None,
    *,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run every missing (point, contract, replication) of ``sweep_file`` into ``out_dir``, then analyse.

    ``on_start(total, already_done)`` is called once the plan is known; ``progress(done, total)``
    after every finished task (counting those found already done).
    """
    choice = choice or executors.ExecutorChoice()
    t0 = time.perf_counter()
    sweep = plan(sweep_file)
    out_dir = Path(out_dir)
    store.prepare(out_dir, sweep.sha256, overwrite)
    manifest = {
        "kind": "sweep",
        "name": sweep.spec.name,
        "description": sweep.spec.description,
        "fundsim_version": __version__,
        "sweep_file": str(sweep_file),
        "base_scenario": str(sweep.spec.base_path(Path(sweep_file))),
        "sweep_sha256": sweep.sha256,
        "design": sweep.spec.design,
        "parameters": [p.model_dump(exclude_none=True) for p in sweep.spec.parameters],
        "points": len(sweep.design),
        "replications": sweep.spec.replications,
        "contracts": list(sweep.contracts),
        "provider_policy": sweep.base.provider_policy.mode,
        "seeds": {
            "design": sweep.spec.seed,
            "simulation": sweep.base.simulation.seed,
            "streams": "numpy SeedSequence(entropy=seed, spawn_key=(replication, crc32(purpose), locality)); "
            "the same for every point",
        },
        "status": "running",
    }
    existing = store.read_manifest(out_dir)
    if existing is None or existing.get("sweep_sha256") != sweep.sha256:
        store.write_json(out_dir / store.MANIFEST, manifest)
        store.write_table(out_dir / "design.parquet", sweep.design)

    tasks = sweep.tasks()
    done, failed = store.finished(out_dir)
    runs_dir = out_dir / store.RUNS

    def names(task: SweepTask) -> list[str]:
        return [store.partition_name(task.point, task.replication, c) for c in task.contracts]

    def is_done(task: SweepTask) -> bool:
        err = store.partition_name(task.point, task.replication, task.simulated_contract)
        return err in failed or all(n in done for n in names(task))

    todo = [t for t in tasks if not is_done(t)]
    reused = len(tasks) - len(todo)
    if on_start is not None:
        on_start(len(tasks), reused)
    count = reused

    def record_error(task: SweepTask, message: str) -> None:
        name = store.partition_name(task.point, task.replication, task.simulated_contract)
        store.write_json(
            runs_dir / f"{name}.error.json",
            {"point": task.point, "replication": task.replication, "contract": task.simulated_contract,
             "error": message},
        )  # fmt: skip

    runnable = [t for t in todo if t.scenario is not None]
    for task in todo:
        if task.scenario is None:
            record_error(task, sweep.invalid[task.point])
            count += 1
            if progress is not None:
                progress(count, len(tasks))
    for task, result, error in executors.run(run_sweep_task, runnable, choice):
        if error is not None:
            record_error(task, error)
        else:
            for contract, rows in result.items():
                name = store.partition_name(task.point, task.replication, contract)
                store.write_table(runs_dir / f"{name}.parquet", rows)
        count += 1
        if progress is not None:
            progress(count, len(tasks))

    outcome = finish(out_dir, sweep)
    manifest.update(
        status="complete",
        tasks=len(tasks),
        tasks_reused=reused,
        tasks_run=len(todo),
        failures=len(outcome.failed),
        executor=choice.name,
        wall_s=round(time.perf_counter() - t0, 3),
    )
    store.write_json(out_dir / store.MANIFEST, {**store.read_manifest(out_dir), **manifest})  # type: ignore[dict-item]
    outcome.total_tasks, outcome.reused, outcome.ran = len(tasks), reused, len(todo)
    outcome.wall_s = time.perf_counter() - t0
    return outcome


def finish(out_dir: Path, sweep: SweepPlan) -> SweepOutcome:
    """Gather the partitions into tables, analyse, and write the summary files."""
    results = store.read_partitions(out_dir)
    failed = store.read_failures(out_dir)
    outputs = analysis.output_table(results, sweep.spec, sweep.design)
    sens, notes = analysis.sensitivity(sweep.spec, outputs)
    if not results.empty:
        store.write_table(out_dir / "results.parquet", results)
        store.write_table(out_dir / "results.csv", results)
    store.write_table(out_dir / "outputs.csv", outputs)
    store.write_table(out_dir / "sensitivity.csv", sens)
    store.write_table(out_dir / "failures.csv", failed)
    store.write_json(out_dir / "notes.json", notes)
    return SweepOutcome(out_dir, 0, 0, 0, failed, results, outputs, sens, notes, 0.0)


def analyse(out_dir: Path) -> SweepOutcome:
    """Redo the tables and the analysis of an existing sweep folder (no simulation)."""
    out_dir = Path(out_dir)
    manifest = store.read_manifest(out_dir)
    if manifest is None or manifest.get("kind") != "sweep":
        raise FundsimError(f"{out_dir}: not a sweep folder (no sweep manifest.json)")
    if manifest.get("fundsim_version") != __version__:
        raise FundsimError(
            f"{out_dir}: written by fundsim {manifest.get('fundsim_version')}, this is {__version__}; "
            "rerun the sweep with this version"
        )
    sweep_file = Path(manifest["sweep_file"])
    if not sweep_file.is_file():
        raise FundsimError(f"{out_dir}: its sweep file {sweep_file} is no longer there")
    sweep = plan(sweep_file)
    if sweep.sha256 != manifest.get("sweep_sha256"):
        raise FundsimError(f"{out_dir}: {sweep_file} or its base scenario changed since the sweep ran; rerun it")
    return finish(out_dir, sweep)
