"""What managing to each contract costs: one responsive replication of example.yaml per contract.

Under the responsive policy the provider reviews every month and prices the contract year so far
(twice when its income moves with activity, :class:`fundsim.sim.management.ProviderManager`). This
script simulates one replication of ``scenarios/example.yaml`` managed to each of its five contracts
and reports, per contract, the wall time, the time spent in the contract's ``pay`` at reviews
(calls and milliseconds a call), and the ratio of the run's wall time to the block contract's
measured in the same process: block's review prices once and on no activity, so the ratio is what
managing to the other contract adds.

    python benchmarks/bench_review.py              # best of 3 per contract (about a minute)
    python benchmarks/bench_review.py --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ("block", "cost_and_volume", "capitation", "outcomes", "blended")


def measure(contract: str, repeat: int, replication: int) -> dict:
    """Best-of-``repeat`` wall time of one responsive replication managed to ``contract``, and its pricing time."""
    import fundsim
    from fundsim.sim import simulate
    from fundsim.sim.management import ProviderManager

    scenario = fundsim.load_scenario(ROOT / "scenarios" / "example.yaml")
    policy = scenario.provider_policy.model_copy(update={"mode": "responsive"})
    scenario = scenario.model_copy(update={"contract": contract, "provider_policy": policy})
    original = ProviderManager._pay
    spent = {"s": 0.0, "calls": 0}

    def timed_pay(self, frame):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return original(self, frame)
        finally:
            spent["s"] += time.perf_counter() - t0
            spent["calls"] += 1

    best: dict | None = None
    ProviderManager._pay = timed_pay  # type: ignore[method-assign]
    try:
        for _ in range(repeat):
            spent.update(s=0.0, calls=0)
            t0 = time.perf_counter()
            simulate(scenario, replication)
            wall = time.perf_counter() - t0
            if best is None or wall < best["wall_s"]:
                best = {"contract": contract, "wall_s": wall, "pay_s": spent["s"], "pay_calls": spent["calls"]}
    finally:
        ProviderManager._pay = original  # type: ignore[method-assign]
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--replication", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    import fundsim
    from fundsim.sim import simulate
    from fundsim.sim.kernels import kernel_choice

    # One untimed run first: imports, compiled code and caches are paid before any contract is timed.
    simulate(fundsim.load_scenario(ROOT / "scenarios" / "tiny.yaml"), 0)
    load0 = os.getloadavg()[0]
    rows = [measure(c, args.repeat, args.replication) for c in CONTRACTS]
    block = rows[0]["wall_s"]
    print(
        f"example.yaml, responsive, replication {args.replication}, best of {args.repeat}; kernel {kernel_choice()}; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print("| managed to | wall s | x block | pricing at reviews, s | calls | ms a call | share of the run |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        per_call = 1000 * r["pay_s"] / r["pay_calls"] if r["pay_calls"] else 0.0
        r.update(vs_block=r["wall_s"] / block, pay_ms_per_call=per_call, pay_share=r["pay_s"] / r["wall_s"])
        print(
            f"| {r['contract']} | {r['wall_s']:.2f} | {r['vs_block']:.2f} | {r['pay_s']:.2f} | {r['pay_calls']} "
            f"| {per_call:.1f} | {r['pay_share']:.0%} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
