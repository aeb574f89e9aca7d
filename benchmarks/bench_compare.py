"""Benchmark `fundsim compare`: wall time on 1 and 2 workers, parallel efficiency, passive vs responsive.

For each provider policy it times ``compare(example.yaml, all 5 contracts, R replications)`` on
``--jobs 1`` and ``--jobs 2`` (risk view off), checks that both give identical tables, and reports

* wall time and simulations run (passive: one per replication; responsive: one per contract and
  replication),
* parallel efficiency = T(1 job) / (2 × T(2 jobs)),
* the cost of scoring every contract on a shared passive trace relative to one contract's run.

Baselines are measured in the same run; nothing is compared with figures from another machine.

    python benchmarks/bench_compare.py                   # 5 contracts × 20 replications, both policies
    python benchmarks/bench_compare.py --quick           # 5 contracts × 4 replications
    python benchmarks/bench_compare.py --policy passive --json results/bench_compare.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import pandas as pd

import fundsim
from fundsim.experiment.compare import compare

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "example.yaml"


def _timed(scenario: fundsim.Scenario, contracts: list[str] | None, reps: int, jobs: int) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = compare(scenario, contracts, reps, jobs=jobs, risk=False)
    return time.perf_counter() - t0, result


def bench_policy(policy: str, replications: int) -> dict:
    """Time the comparison under ``policy`` on 1 and 2 workers."""
    base = fundsim.load_scenario(EXAMPLE)
    scenario = base.model_copy(update={"provider_policy": base.provider_policy.model_copy(update={"mode": policy})})
    t1, r1 = _timed(scenario, None, replications, jobs=1)
    t2, r2 = _timed(scenario, None, replications, jobs=2)
    pd.testing.assert_frame_equal(r1.per_replication, r2.per_replication)  # identical for any --jobs
    out = {
        "policy": policy,
        "contracts": len(r1.contracts),
        "replications": replications,
        "simulations": r1.simulations,
        "wall_s_jobs1": round(t1, 2),
        "wall_s_jobs2": round(t2, 2),
        "parallel_efficiency": round(t1 / (2.0 * t2), 3),
    }
    if policy == "passive":
        one, _ = _timed(scenario, ["block"], replications, jobs=1)
        out["wall_s_one_contract_jobs1"] = round(one, 2)
        out["all_contracts_over_one"] = round(t1 / one, 3)
    return out


def main() -> None:
    """Run the benchmark and print (and optionally save) its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 replications instead of 20")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--policy", choices=["passive", "responsive", "both"], default="both")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    reps = args.replications or (4 if args.quick else 20)
    policies = ["passive", "responsive"] if args.policy == "both" else [args.policy]
    rows = [bench_policy(p, reps) for p in policies]
    print(f"fundsim {fundsim.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print(pd.DataFrame(rows).to_string(index=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": platform.platform(), "results": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
