"""Run a sweep file end to end: check it, plan the runs, execute what is missing, analyse.

Seeds: every point uses the base scenario's seed and replications ``0 … n − 1``, so points share
their random numbers (common random numbers across the design as well as across contracts) and
a run's numbers depend only on its point and replication, never on the executor or on the order
in which runs finish.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from fundsim.errors import Problem, ScenarioError
from fundsim.experiment.compare import configured_contracts
from fundsim.experiment.preflight import check_sweep_dir
from fundsim.experiment.runner import MEASURES
from fundsim.safeio import printable, read_parquet
from fundsim.scenario.loader import decode_source, load_model_text, read_source
from fundsim.scenario.models import Scenario
from fundsim.sweep import analysis, executors, store
from fundsim.sweep.design import design_table
from fundsim.sweep.overrides import apply, base_data, check_path
from fundsim.sweep.spec import SweepSpec
from fundsim.sweep.store import PARTITION
from fundsim.sweep.tasks import ALL_CONTRACTS, SweepTask, run_sweep_task
from fundsim.version import __version__


@dataclass
class SweepPlan:
    """A checked sweep: its spec, base scenario, design, contracts and the scenario of each point."""

    sweep_file: Path
    spec: SweepSpec
    base: Scenario
    sha256: str
    contracts: tuple[str, ...]
    design: pd.DataFrame
    scenarios: dict[int, Scenario] = field(default_factory=dict)  # points whose parameters make a valid scenario
    invalid: dict[int, str] = field(default_factory=dict)  # point → why its scenario is not valid
    base_data: dict = field(default_factory=dict)  # the validated base scenario as plain data

    def task_keys(self) -> list[tuple[int, int, str, tuple[str, ...]]]:
        """Every run of the sweep as (point, replication, simulated contract, contracts priced), in order.

        Cheap: no scenario is built, so a huge design can be counted (and refused) before any work.
        """
        passive = self.base.provider_policy.mode == "passive"
        out = []
        for point in range(len(self.design)):
            for r in range(self.spec.replications):
                if passive:
                    out.append((point, r, ALL_CONTRACTS, self.contracts))
                else:
                    out.extend((point, r, c, (c,)) for c in self.contracts)
        return out

    def task_count(self) -> int:
        """How many runs the sweep has: points × replications × contracts (× 1 under a passive policy)."""
        per_point = 1 if self.base.provider_policy.mode == "passive" else len(self.contracts)
        return len(self.design) * self.spec.replications * per_point

    def count_done(self, done: set[str], failed: set[str]) -> int:
        """How many runs are finished, from the partition and failure names found (see :meth:`task_keys`)."""
        passive = self.base.provider_policy.mode == "passive"
        names = self.contracts if not passive else ("*",)
        runs: dict[tuple[int, int], set[str]] = {}
        for name in done | failed:
            match = PARTITION.fullmatch(name)
            if match is None:
                continue
            point, replication = int(match["point"]), int(match["replication"])
            if point < len(self.design) and replication < self.spec.replications:
                runs.setdefault((point, replication), set()).add(match["contract"])
        count = 0
        for (point, replication), found in runs.items():
            if passive:
                whole = "all" in found and store.partition_name(point, replication, "*") in failed
                count += int(whole or set(self.contracts) <= found)
            else:
                count += sum(1 for c in names if c in found)
        return count

    def validate_points(self, points: set[int] | None = None) -> None:
        """Build the scenario of each point (or of ``points``), recording those that are not valid."""
        paths = [p.path for p in self.spec.parameters]
        for row in self.design.itertuples(index=False):
            point = int(row[0])
            if (points is not None and point not in points) or point in self.scenarios or point in self.invalid:
                continue
            values = {path: _plain(v) for path, v in zip(paths, row[1:], strict=True)}
            try:
                self.scenarios[point] = Scenario.model_validate(apply(self.base_data, values))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                self.invalid[point] = f"invalid scenario at {values}: {where}: {first['msg']}"

    def tasks(self) -> list[SweepTask]:
        """Every run of the sweep, in (point, replication, contract) order (points are validated first)."""
        self.validate_points()
        return [SweepTask(p, r, c, cs, self.scenarios.get(p)) for p, r, c, cs in self.task_keys()]


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
    name = printable(sweep_file)
    sweep_bytes = read_source(sweep_file)  # read once: a pipe cannot be read twice
    text = decode_source(sweep_bytes, name)
    spec = load_model_text(text, SweepSpec, name)
    base_path = spec.base_path(sweep_file)
    if not base_path.exists():
        raise ScenarioError.single(
            name, f"base scenario {printable(base_path)} does not exist", line=_line_of(text, "base:"), field="base"
        )
    base_bytes = read_source(base_path)
    base = load_model_text(decode_source(base_bytes, printable(base_path)), Scenario, printable(base_path))
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
        for which, named in (("contract", output.contract), ("minus", output.minus)):
            if named is not None and named not in contracts:
                problems.append(
                    Problem(name, None, None, f"outputs[{i}].{which}",
                            f"{named!r} is not among the sweep's contracts ({', '.join(contracts)})")
                )  # fmt: skip
    if problems:
        raise ScenarioError(problems)
    design = design_table(spec)
    digest = hashlib.sha256(sweep_bytes + b"\0" + base_bytes).hexdigest()
    return SweepPlan(sweep_file, spec, base, digest, contracts, design, base_data=data)


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
    before_running: Callable[[SweepPlan, int], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> SweepOutcome:
    """Run every missing (point, contract, replication) of ``sweep_file`` into ``out_dir``, then analyse.

    Before anything is written: the output folder is checked
    (:func:`fundsim.experiment.preflight.check_sweep_dir`, :func:`fundsim.sweep.store.resume_state`),
    the runs already saved are checked (damaged ones are set aside and run again; ``warn`` is
    told of each), and ``before_running(plan, runs_to_do)`` is called, which may refuse by raising
    (the command line's estimate). ``on_start(total, already_done)`` is called as soon as the runs
    are counted, before any scenario is built or run; ``progress(done, total)`` after every finished
    task (counting those found already done).
    """
    choice = choice or executors.ExecutorChoice()
    t0 = time.perf_counter()
    sweep = plan(sweep_file)
    out_dir = Path(out_dir)
    check_sweep_dir(out_dir, inputs=(Path(sweep_file), sweep.spec.base_path(Path(sweep_file))))
    state = store.resume_state(out_dir, sweep.sha256, overwrite)
    measures = tuple(col for col, _, _ in MEASURES)
    done: set[str] = set()
    failed: set[str] = set()
    if state == "resume":
        check_same_design(out_dir, sweep)  # before anything in the folder is touched
        done, failed, damaged = store.scan(out_dir, measures)
        for note in damaged:
            if warn is not None:
                warn(f"{printable(out_dir)}/{note}; it will be run again")

    def is_done(key: tuple[int, int, str, tuple[str, ...]]) -> bool:
        point, replication, simulated, contracts = key
        err = store.partition_name(point, replication, simulated)
        return err in failed or all(store.partition_name(point, replication, c) in done for c in contracts)

    total = sweep.task_count()
    if before_running is not None:
        # Counted without listing the runs or building a scenario per point: a huge sweep is refused at once.
        before_running(sweep, total - sweep.count_done(done, failed))
    keys = sweep.task_keys()
    todo_keys = [k for k in keys if not is_done(k)]
    reused = total - len(todo_keys)
    if on_start is not None:
        # Before the points' scenarios are built and before any run starts: a progress bar knows
        # its total from the start, not from the first finished run.
        on_start(total, reused)
    sweep.validate_points({k[0] for k in todo_keys})
    todo = [SweepTask(p, r, c, cs, sweep.scenarios.get(p)) for p, r, c, cs in todo_keys]
    if state == "clear":
        store.clear(out_dir)
    manifest: dict[str, Any] = {
        "kind": "sweep",
        "name": sweep.spec.name,
        "description": sweep.spec.description,
        "fundsim_version": __version__,
        "sweep_file": printable(sweep_file),
        "base_scenario": printable(sweep.spec.base_path(Path(sweep_file))),
        "sweep_sha256": sweep.sha256,
        "design": sweep.spec.design,
        **({"grid_placement": sweep.spec.grid_placement} if sweep.spec.design == "grid" else {}),
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
    if state != "resume":
        store.write_json(out_dir / store.MANIFEST, manifest)
        store.write_table(out_dir / "design.parquet", sweep.design)
    elif not (out_dir / "design.parquet").is_file():
        store.write_table(out_dir / "design.parquet", sweep.design)  # stopped between the manifest and the design
    runs_dir = out_dir / store.RUNS
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
                progress(count, total)
    # closing(): on Ctrl-C or SIGTERM the executor stops its workers at once, not when collected.
    with contextlib.closing(executors.run(run_sweep_task, runnable, choice)) as finished:
        for task, result, error in finished:
            if error is not None:
                record_error(task, error)
            else:
                for contract, rows in result.items():
                    name = store.partition_name(task.point, task.replication, contract)
                    store.write_table(runs_dir / f"{name}.parquet", rows)
            count += 1
            if progress is not None:
                progress(count, total)

    outcome = finish(out_dir, sweep)
    manifest.update(
        status="complete",
        tasks=total,
        tasks_reused=reused,
        tasks_run=len(todo),
        failures=len(outcome.failed),
        executor=choice.name,
        wall_s=round(time.perf_counter() - t0, 3),
        summary_files=store.summary_records(out_dir),
    )
    store.write_json(out_dir / store.MANIFEST, {**(store.read_manifest(out_dir) or {}), **manifest})
    outcome.total_tasks, outcome.reused, outcome.ran = total, reused, len(todo)
    outcome.wall_s = time.perf_counter() - t0
    return outcome


def finish(out_dir: Path, sweep: SweepPlan) -> SweepOutcome:
    """Gather the partitions into tables, analyse, and write the summary files."""
    results = store.read_partitions(out_dir, tuple(col for col, _, _ in MEASURES))
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
    """Redo the tables and the analysis of an existing sweep folder (no simulation).

    The folder is checked first: a sweep manifest of the right shape, written by this fundsim
    version, whose sweep file and base scenario are unchanged, and whose partitions are whole.
    """
    out_dir = Path(out_dir)
    shown = printable(out_dir)
    manifest = store.read_manifest(out_dir)
    if manifest is None or manifest.get("kind") != "sweep":
        raise store.SweepFolderError(f"{shown}: not a sweep folder (no sweep manifest.json)")
    if manifest.get("fundsim_version") != __version__:
        raise store.SweepFolderError(
            f"{shown}: written by fundsim {printable(manifest.get('fundsim_version'))}, this is {__version__}; "
            "rerun the sweep with this version"
        )
    if not isinstance(manifest.get("sweep_file"), str):
        raise store.SweepFolderError(f"{shown}/manifest.json: 'sweep_file' is missing or not text")
    sweep_file = Path(manifest["sweep_file"])
    if not sweep_file.is_file():
        raise store.SweepFolderError(f"{shown}: its sweep file {printable(sweep_file)} is no longer there")
    sweep = plan(sweep_file)
    if sweep.sha256 != manifest.get("sweep_sha256"):
        raise store.SweepFolderError(
            f"{shown}: {printable(sweep_file)} or its base scenario changed since the sweep ran; rerun it"
        )
    check_same_design(out_dir, sweep)
    return finish(out_dir, sweep)


def check_same_design(out_dir: Path, sweep: SweepPlan) -> None:
    """Refuse a folder whose saved design is not the one this fundsim lays out for the sweep file.

    The sweep file may be unchanged while the design is not: grids placed their levels at cell
    midpoints before they included the ends of each range. Runs of the two must never be mixed in
    one analysis (a point's number would name other parameter values), so this raises
    :class:`~fundsim.sweep.store.SweepFolderError` saying what changed and what to do.
    """
    shown = printable(out_dir)
    path = out_dir / "design.parquet"
    if not path.is_file():
        return  # nothing saved yet (a sweep stopped before its design was written)
    try:
        saved = read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds for a damaged file
        raise store.SweepFolderError(
            f"{printable(path)}: cannot be read ({type(exc).__name__}); rerun with --overwrite to start afresh"
        ) from None
    if _same_table(saved, sweep.design):
        return
    manifest = store.read_manifest(out_dir) or {}
    if sweep.spec.design == "grid" and manifest.get("grid_placement", "midpoints") != sweep.spec.grid_placement:
        old = manifest.get("grid_placement", "midpoints")
        first = sweep.spec.parameters[0].path
        was = ", ".join(_short(v) for v in dict.fromkeys(saved[first])) if first in saved else "?"
        now = ", ".join(_short(v) for v in dict.fromkeys(sweep.design[first]))
        raise store.SweepFolderError(
            f"{shown}: its grid was laid out with levels at the {old} of each range ({first}: {was}); this "
            f"fundsim places them at the {sweep.spec.grid_placement} ({now}). Runs of the two grids cannot be mixed. "
            "Pass --overwrite to start afresh with the new levels, or choose another --out; to run the old levels "
            "again, add `grid_placement: midpoints` to a copy of the sweep file and run that into a new folder"
        )
    raise store.SweepFolderError(
        f"{shown}: its design.parquet is not the design this fundsim lays out for {printable(sweep.sweep_file)}; "
        "runs of the two cannot be mixed; pass --overwrite to start afresh, or choose another --out"
    )


def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same columns and values (numbers equal to the last bit; dtypes may differ as Parquet keeps them)."""
    if list(map(str, a.columns)) != list(map(str, b.columns)) or len(a) != len(b):
        return False
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            if not np.array_equal(x.to_numpy(dtype=float), y.to_numpy(dtype=float), equal_nan=True):
                return False
        elif [str(v) for v in x] != [str(v) for v in y]:
            return False
    return True


def _short(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else printable(str(value))
