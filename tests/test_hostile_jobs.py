"""Hostile suite, long and huge jobs (issue 15, item 8): an estimate before the work, and limits.

Category ``estimate``. ``run``, ``compare`` and ``sweep`` print the number of simulations, the
estimated time and peak memory (fundsim/experiment/estimate.py) and refuse a job above the limits
(6 hours, 80% of the machine's memory) unless ``--yes-long``; ``-j`` and ``--dask-local`` are held
to the CPUs unless ``--oversubscribe``; a design of more than a million points is refused before
it is built. Every refusal comes before any simulation and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hostile_kit import ROOT, Guard, invoke, judge, write_sweep, write_tiny

import fundsim.api
import fundsim.sweep.run as sweep_run
from fundsim.experiment import estimate
from fundsim.scenario.loader import load_scenario

LARGE = ROOT / "scenarios" / "large.yaml"
EXAMPLE = ROOT / "scenarios" / "example.yaml"


def _many_localities(path: Path, n: int, years: float) -> Path:
    data = yaml.safe_load((ROOT / "scenarios" / "tiny.yaml").read_text())
    base = data["localities"][0]
    data["localities"] = [{**base, "name": f"L{i}"} for i in range(n)]
    data["simulation"]["horizon_years"] = years
    data["simulation"]["warmup_days"] = 0
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def no_compute(monkeypatch):
    """Anything that passes the checks stops as soon as it would simulate (with Ctrl-C's status)."""

    def stop(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(fundsim.api, "run_replications", stop)
    monkeypatch.setattr(fundsim.api, "compare", stop)


def _long_large(path: Path, years: float) -> Path:
    data = yaml.safe_load(LARGE.read_text())
    data["simulation"]["horizon_years"] = years
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# Sized to stay above the 6-hour limit at the compiled path's speed (large.yaml: about 2 s a replication).
HUGE = [
    ("run", "large-10-years-10000-replications", ["run", "LONG", "-r", "10000"], "would take about"),
    ("compare", "large-10-years-2000-replications", ["compare", "LONG", "-r", "2000"], "would take about"),
    ("compare", "example-with-risk-10000", ["compare", EXAMPLE, "-r", "10000"], "would take about"),
    ("run", "200-localities-20-years-10000", ["run", "MANY", "-r", "10000"], "memory"),
]


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize(("cmd", "case", "args", "says"), HUGE, ids=[h[1] for h in HUGE])
@pytest.mark.parametrize("confirmed", [False, True])
def test_huge_jobs_are_refused_unless_confirmed(request, tmp_path, no_compute, cmd, case, args, says, confirmed):
    made = {
        "MANY": lambda: _many_localities(tmp_path / "many.yaml", 200, 20),
        "LONG": lambda: _long_large(tmp_path / "long.yaml", 10),
    }
    args = [made[a]() if isinstance(a, str) and a in made else a for a in args]
    out = tmp_path / "out"
    guard = Guard([tmp_path])
    outcome = invoke([*args, "-q", "-o", out, *(["--yes-long"] if confirmed else [])])
    if confirmed and case.startswith("200-localities"):  # confirmed, but its output would not fit on the disk
        judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=["Estimate:", "is free"])
    elif confirmed:  # it starts (and the fixture stops it at the first simulation)
        judge(request, outcome, [130], guard=guard, workdir=tmp_path, says=["Estimate:"])
    else:
        judge(request, outcome, [2], guard=guard, workdir=tmp_path, says=[says, "--yes-long", "Estimate:"])
    assert not out.exists()


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize(
    ("design", "points", "parameters", "says"),
    [
        ("sobol", 65536, 15, "1,114,112 points"),
        ("sobol", 2**16, 100, "points"),
        ("morris", 100_000, 10, "1,100,000 points"),
        ("lhs", 100_001, 2, "<= 100000"),
        ("grid", 10, 6, "1,000,000"),
    ],
)
def test_designs_too_big_to_build_are_refused_before_building(request, tmp_path, design, points, parameters, says):
    lines = ["name: big", "base: base.yaml", f"design: {design}", f"points: {points}", "contracts: [block]"]
    lines.append("parameters:")  # the design's size is checked before the paths, so any names do
    for i in range(parameters):
        lines += [f"  - path: p{i}", "    uniform: [0.0, 1.0]"]
    lines += ["outputs:", "  - measure: surplus_gbp_per_year", "    contract: block"]
    sweep = write_sweep(tmp_path / "in", "\n".join(lines) + "\n")
    outcome = invoke(["sweep", sweep, "-q", "-o", tmp_path / "out"], timeout=30)
    judge(request, outcome, [2], workdir=tmp_path, says=[says])
    assert outcome.seconds < 10
    assert not (tmp_path / "out").exists()


@pytest.mark.hostile("estimate")
def test_a_sweep_of_too_many_runs_is_refused_before_a_scenario_is_built(request, tmp_path, monkeypatch) -> None:
    text = (
        "name: long\nbase: base.yaml\ndesign: lhs\npoints: 100000\nreplications: 1000\ncontracts: [block]\n"
        "parameters:\n  - path: demand.growth_per_year\n    uniform: [0.0, 0.05]\n"
        "outputs:\n  - measure: surplus_gbp_per_year\n    contract: block\n"
    )
    sweep = write_sweep(tmp_path / "in", text)
    built = []
    real = sweep_run.SweepPlan.validate_points
    monkeypatch.setattr(sweep_run.SweepPlan, "validate_points", lambda self, *a: built.append(1) or real(self, *a))
    outcome = invoke(["sweep", sweep, "-q", "-o", tmp_path / "out"], timeout=60)
    judge(request, outcome, [2], workdir=tmp_path, says=["100,000,000 simulation(s)", "--yes-long"])
    assert not built
    assert not (tmp_path / "out").exists()


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize(("option", "value"), [("-j", "64"), ("-j", "1024")])
@pytest.mark.parametrize("cmd", ["run", "compare"])
def test_jobs_above_the_cpus_are_held_to_the_cpus(request, tmp_path, monkeypatch, cmd, option, value) -> None:
    seen = {}
    real = fundsim.api.run_replications if cmd == "run" else fundsim.api.compare

    def record(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["jobs"] = kwargs.get("jobs")
        return real(*args, **kwargs)

    monkeypatch.setattr(fundsim.api, "run_replications" if cmd == "run" else "compare", record)
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    args: list[object] = [cmd, scenario, "-r", "1", "-q", "-o", tmp_path / "out", option, value]
    if cmd == "compare":
        args += ["--no-risk", "-c", "block"]
    outcome = invoke(args)
    cpus = estimate.cpu_count()
    judge(request, outcome, [0], workdir=tmp_path, says=[f"using {cpus}", "--oversubscribe"])
    assert seen["jobs"] == cpus


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize("option", [["-j", "64"], ["--dask-local", "64"], ["--dask-local", "64", "--oversubscribe"]])
def test_sweep_workers_are_held_to_the_cpus(request, tmp_path, monkeypatch, option) -> None:
    seen = {}

    def record(*_args, **kwargs):  # type: ignore[no-untyped-def]
        seen["choice"] = _args[2] if len(_args) > 2 else kwargs.get("choice")
        raise KeyboardInterrupt

    monkeypatch.setattr(fundsim.api, "run_sweep", record)  # the command line calls the public API
    sweep = write_sweep(tmp_path / "in")
    outcome = invoke(["sweep", sweep, "-q", "-o", tmp_path / "out", *option])
    judge(request, outcome, [130], workdir=tmp_path)
    choice = seen["choice"]
    cpus = estimate.cpu_count()
    if "--oversubscribe" in option:
        assert choice.dask_local == 64
    elif option[0] == "-j":
        assert choice.jobs == cpus
    else:
        assert choice.dask_local == cpus
        assert "using" in outcome.stderr


@pytest.mark.hostile("estimate")
def test_oversubscribe_allows_more_workers(request, tmp_path) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    jobs = estimate.cpu_count() + 1
    outcome = invoke(["run", scenario, "-r", "3", "-q", "-o", tmp_path / "out", "-j", str(jobs), "--oversubscribe"])
    judge(request, outcome, [0], workdir=tmp_path)
    assert "using" not in outcome.stderr


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize("quiet", [False, True])
def test_the_estimate_is_printed(request, tmp_path, quiet) -> None:
    scenario = write_tiny(tmp_path / "in" / "tiny.yaml")
    outcome = invoke(["run", scenario, "-r", "2", "-o", tmp_path / "out", *(["-q"] if quiet else [])])
    judge(request, outcome, [0], workdir=tmp_path)
    # 2 replications, each with its reference service and passive bracket (the incidence).
    assert ("Estimate: 6 simulation(s)" in outcome.stderr) is not quiet
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["replications"] == 2


@pytest.mark.hostile("estimate")
@pytest.mark.parametrize("name", ["tiny", "example", "large"])
@pytest.mark.parametrize("kernel", ["compiled", "pure"])
def test_the_estimate_is_within_reason(request, name, kernel) -> None:
    """The cost model against what the shipped scenarios are documented to take (docs/performance.md,
    bench_core and bench_estimate): on the compiled path tiny about 0.1 s, example about 1 s, large about
    2 s a replication; on the pure path about three times as long. Within a factor of about two."""
    cost = estimate.simulation_cost(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), kernel)
    documented = {"tiny": 0.1, "example": 1.0, "large": 2.0}[name] * (1.0 if kernel == "compiled" else 3.0)
    assert documented / 2.5 <= cost.seconds <= documented * 2.5, cost
    assert 0 < cost.state_bytes < 200 * 1024**2
    request.node.user_properties.append(("hostile_exit", 0))
