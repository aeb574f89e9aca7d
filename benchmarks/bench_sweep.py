"""Runs per second of a 64-point LHS sweep of example.yaml on each executor.

The sweep (written to a temporary folder) varies demand growth, a locality's referral rate, the
band 5 FTE and the cost-and-volume price over a Latin hypercube of 64 points, one replication
each, under the passive provider policy (one simulation per point, priced under all five
contracts) and a one-year horizon so that the benchmark takes minutes, not hours. It runs on:

- the serial executor (``-j 1``, in this process);
- the local process pool with 2 workers (``-j 2``);
- a Dask ``LocalCluster`` of 2 single-threaded worker processes (``--dask-local 2``);

checks that the three give byte-identical ``results.csv``, and reports wall time, runs per second,
parallel efficiency ``T_serial / (workers × T)`` and the overhead per run of each executor,
``(workers × T − T_serial) / runs`` (what the executor adds to each run beyond the simulation).

    python benchmarks/bench_sweep.py               # 64 points (~3 minutes on 2 cores)
    python benchmarks/bench_sweep.py --points 16   # a quicker look

With ``--project`` it instead projects the analyst's sweep of issue 20 — 1,000 LHS points ×
5 contracts × 10 replications of the full example.yaml (3 years after its warm-up) under the
responsive provider policy, 50,000 simulations — from a measured sample of it: the same sweep
file with fewer points (``--share``, default 2%: 20 points × 5 contracts × 10 replications =
1,000 simulations) run on the process pool (2 workers) and on a Dask LocalCluster (2 workers,
``--dask-share``) and on one worker (``--serial-share``, default the pool's share). It reports
the measured runs per second and parallel efficiency of each, the projected wall time of the
50,000 simulations on 2 cores, and what 16 cores or a cluster would take at the efficiency
measured here (an assumption stated with the figure: per-core speed as on this machine).

    python benchmarks/bench_sweep.py --project                       # 2% samples (about 1.5 hours on 2 quiet cores)
    python benchmarks/bench_sweep.py --project --share 0.002 --dask-share 0.002   # 100 runs each (~10 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "example.yaml"


def write_sweep(folder: Path, points: int) -> Path:
    """A one-year, passive-policy copy of example.yaml and an LHS sweep over it."""
    base = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    base["simulation"].update(horizon_years=1, warmup_days=90)
    base["provider_policy"] = {"mode": "passive"}
    base.pop("risk_view", None)
    (folder / "base.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {
        "name": "bench",
        "base": "base.yaml",
        "design": "lhs",
        "points": points,
        "replications": 1,
        "seed": 1,
        "parameters": [
            {"path": "demand.growth_per_year", "uniform": [0.0, 0.08]},
            {"path": "localities[0].referral_rate_per_1000_per_year", "triangular": [45, 56, 70]},
            {"path": "workforce.grades[1].fte", "uniform": [44, 64]},
            {"path": "contracts.cost_and_volume.price_gbp", "uniform": [60, 85]},
        ],
        "outputs": [
            {"measure": "absorbed_gbp_per_year", "contract": "block"},
            {"measure": "commissioner_spend_gbp_per_year", "contract": "cost_and_volume", "minus": "block"},
        ],
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def run_case(sweep: Path, out: Path, args: list[str]) -> float:
    """Wall seconds of ``fundsim sweep`` with ``args`` (a fresh process, as a user runs it)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fundsim.cli", "sweep", str(sweep), "-o", str(out), "-q", *args],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - t0


#: The analyst's sweep of issue 20: 1,000 points x 5 contracts x 10 replications, responsive policy.
TARGET_POINTS, TARGET_CONTRACTS, TARGET_REPLICATIONS = 1000, 5, 10
TARGET_RUNS = TARGET_POINTS * TARGET_CONTRACTS * TARGET_REPLICATIONS


def write_projection_sweep(folder: Path, points: int, replications: int, name: str) -> Path:
    """The issue's responsive sweep of the full example.yaml, with ``points`` LHS points (a sample of it)."""
    base_file = folder / "base.yaml"
    if not base_file.exists():
        base = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        base["provider_policy"]["mode"] = "responsive"
        base.pop("risk_view", None)
        base_file.write_text(yaml.safe_dump(base), encoding="utf-8")
    sweep = {
        "name": name,
        "base": "base.yaml",
        "design": "lhs",
        "points": points,
        "replications": replications,
        "seed": 1,
        "parameters": [
            {"path": "demand.growth_per_year", "uniform": [0.0, 0.08]},
            {"path": "localities[0].referral_rate_per_1000_per_year", "triangular": [45, 56, 70]},
            {"path": "workforce.grades[1].fte", "uniform": [44, 64]},
            {"path": "contracts.cost_and_volume.price_gbp", "uniform": [60, 85]},
        ],
        "outputs": [{"measure": "absorbed_gbp_per_year", "contract": "block"}],
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


def project(share: float, dask_share: float, serial_share: float) -> dict:
    """Measure samples of the issue's sweep and project the whole of it (see the module docstring).

    Parallel efficiency compares equal work: give the serial run the pool's share (the default),
    or its start-up and closing analysis weigh on a small serial sample and the efficiency reads high.
    """

    def sample_points(sh: float) -> int:
        return max(1, round(TARGET_POINTS * sh))

    cases = [
        ("serial (-j 1)", ["-j", "1"], 1, sample_points(serial_share)),
        ("process pool (-j 2)", ["-j", "2"], 2, sample_points(share)),
        ("dask LocalCluster (--dask-local 2)", ["--dask-local", "2"], 2, sample_points(dask_share)),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (name, extra, workers, pts) in enumerate(cases):
            reps = TARGET_REPLICATIONS
            sweep = write_projection_sweep(folder, pts, reps, f"sample{i}")
            runs = pts * reps * TARGET_CONTRACTS
            load0 = os.getloadavg()[0]
            wall, cpu = run_case_timed(sweep, folder / f"out{i}", extra)
            rows.append(
                {"executor": name, "workers": workers, "points": pts, "replications": reps, "runs": runs,
                 "share_of_target": runs / TARGET_RUNS, "wall_s": wall, "s_per_run": wall / runs,
                 "cpu_s": cpu, "cpu_s_per_run": cpu / runs,
                 "load_average_before": load0, "load_average_after": os.getloadavg()[0]}
            )  # fmt: skip
    t1 = rows[0]["s_per_run"]  # one worker's wall seconds per simulation (fixed start-up included)
    for r in rows:
        r["efficiency"] = t1 / (r["workers"] * r["s_per_run"])
        r["projected_hours_on_these_workers"] = TARGET_RUNS * r["s_per_run"] / 3600
        # With the cores free: the CPU the runs need, shared by the workers (no waiting for a core).
        r["projected_hours_free_cores"] = TARGET_RUNS * r["cpu_s_per_run"] / r["workers"] / 3600
    pool, dask = rows[1], rows[2]
    return {
        "target_runs": TARGET_RUNS,
        "rows": rows,
        "projected_hours_2_cores_pool": pool["projected_hours_on_these_workers"],
        "projected_hours_2_cores_dask": dask["projected_hours_on_these_workers"],
        "projected_hours_2_free_cores_pool": pool["projected_hours_free_cores"],
        # Per-core speed as measured here, parallel efficiency as measured on 2 workers.
        "projected_hours_16_cores_pool": TARGET_RUNS * t1 / (16 * pool["efficiency"]) / 3600,
        "projected_hours_64_core_dask_cluster": TARGET_RUNS * t1 / (64 * dask["efficiency"]) / 3600,
    }


def format_projection(res: dict) -> str:
    """Plain-text table of :func:`project`'s result."""
    lines = [
        f"target: {TARGET_POINTS} points x {TARGET_CONTRACTS} contracts x {TARGET_REPLICATIONS} replications "
        f"= {res['target_runs']:,} responsive simulations of example.yaml",
        "| executor | workers | sample runs | share of target | wall s | s per run | parallel efficiency "
        "| projected hours, 50,000 runs | CPU s per run | projected hours, cores free | load average before/after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in res["rows"]:
        lines.append(
            f"| {r['executor']} | {r['workers']} | {r['runs']} | {r['share_of_target']:.1%} | {r['wall_s']:.1f} "
            f"| {r['s_per_run']:.2f} | {r['efficiency']:.2f} | {r['projected_hours_on_these_workers']:.1f} "
            f"| {r['cpu_s_per_run']:.2f} | {r['projected_hours_free_cores']:.1f} "
            f"| {r['load_average_before']:.1f} / {r['load_average_after']:.1f} |"
        )
    lines += [
        "",
        f"projected on 2 cores: {res['projected_hours_2_cores_pool']:.1f} h (process pool), "
        f"{res['projected_hours_2_cores_dask']:.1f} h (Dask LocalCluster); target 8 h; with the 2 cores free "
        f"(CPU time per run, process pool): {res['projected_hours_2_free_cores_pool']:.1f} h",
        f"16 cores, process pool at the measured efficiency: {res['projected_hours_16_cores_pool']:.1f} h; "
        f"a 64-core Dask cluster at the measured Dask efficiency: {res['projected_hours_64_core_dask_cluster']:.2f} h",
    ]
    return "\n".join(lines)


def run_case_timed(sweep: Path, out: Path, args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command and every worker it waited for) of ``fundsim sweep``.

    The CPU time does not include waiting for a core, so on a shared machine it says what the
    runs cost when the cores are free; the wall time says what they took here.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run_case(sweep, out, args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--project", action="store_true", help="project the issue's 50,000-run sweep from a sample")
    parser.add_argument("--share", type=float, default=0.02, help="--project: the pool's sample share of the target")
    parser.add_argument("--dask-share", type=float, default=0.02, help="--project: the Dask sample's share")
    parser.add_argument(
        "--serial-share", type=float, default=None, help="--project: the serial sample (default --share)"
    )
    args = parser.parse_args(argv)
    if args.project:
        res = project(args.share, args.dask_share, args.share if args.serial_share is None else args.serial_share)
        print(format_projection(res))
        if args.json:
            args.json.write_text(json.dumps(res, indent=2) + "\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sweep = write_sweep(folder, args.points)
        cases = [
            ("serial", ["-j", "1"], 1),
            ("process pool", ["-j", "2"], 2),
            ("dask LocalCluster", ["--dask-local", "2"], 2),
        ]
        rows = []
        for name, extra, workers in cases:
            out = folder / name.replace(" ", "-")
            wall = run_case(sweep, out, extra)
            rows.append(
                {"executor": name, "workers": workers, "wall_s": wall, "csv": (out / "results.csv").read_bytes()}
            )
        serial = rows[0]["wall_s"]
        runs = args.points
        load = os.getloadavg()[0]
        print(f"{runs} runs (points x 1 replication, each priced under 5 contracts); load average {load:.2f}")
        print("| executor | workers | wall s | runs/s | parallel efficiency | overhead per run, s | same as serial |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for r in rows:
            eff = serial / (r["workers"] * r["wall_s"])
            overhead = (r["workers"] * r["wall_s"] - serial) / runs
            same = r["csv"] == rows[0]["csv"]
            r.update(runs_per_s=runs / r["wall_s"], efficiency=eff, overhead_per_run_s=overhead, identical=same)
            print(
                f"| {r['executor']} | {r['workers']} | {r['wall_s']:.1f} | {r['runs_per_s']:.2f} | {eff:.2f} "
                f"| {overhead:+.3f} | {'yes' if same else 'NO'} |"
            )
        if args.json:
            args.json.write_text(json.dumps([{k: v for k, v in r.items() if k != "csv"} for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
