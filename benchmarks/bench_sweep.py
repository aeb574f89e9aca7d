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
"""

from __future__ import annotations

import argparse
import json
import os
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


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
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
