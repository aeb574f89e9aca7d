"""How fundsim's time and memory grow with the size of the service and the length of the run.

Runs ``scenarios/large.yaml`` scaled to 0.25, 0.5, 1 and 2 times its population (workforce and
contract totals scaled alike, so the service keeps its shape; ``fundsim.scenario.scaling``) over
1, 3 and 5 simulated years, each case in a fresh Python process on one core, and reports:

- wall and CPU seconds of ``fundsim.simulate`` and contacts (visits) simulated per second;
- wall seconds per million contacts (flat if time is linear in simulated work);
- peak live people (waiting lists + caseloads), the peak bytes of per-person state and that per
  live person, and the peak resident memory of the process (flat in years if memory follows the
  live caseload rather than the horizon).

    python benchmarks/bench_scaling.py                     # the full 4 x 3 table (~4 min)
    python benchmarks/bench_scaling.py --factors 0.25 0.5 --years 1 3
    python benchmarks/bench_scaling.py --repeat 2 --json /tmp/scaling.json   # best of 2 per case
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LARGE = ROOT / "scenarios" / "large.yaml"
_ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _work(factor: float, years: float) -> dict:
    """Simulate large.yaml at ``factor`` times its size for ``years`` years (in this process)."""
    import yaml

    import fundsim
    from fundsim.scenario.models import Scenario
    from fundsim.scenario.scaling import scale_size

    data = scale_size(yaml.safe_load(LARGE.read_text(encoding="utf-8")), factor)
    data["simulation"]["horizon_years"] = years
    scenario = Scenario.model_validate(data)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = fundsim.simulate(scenario, 0)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "factor": factor,
        "years": years,
        "population": scenario.total_population,
        "wall_s": wall,
        "cpu_s": cpu,
        "contacts": float(result.ledger["contacts"].sum()),
        "peak_live_people": result.peak_live_people,
        "peak_state_bytes": result.peak_state_bytes,
        "peak_rss_mb": rss,
    }


def _child(factor: float, years: float) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(factor), str(years)],
        capture_output=True,
        text=True,
        env={**os.environ, **_ONE_THREAD},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"case {factor}x, {years} y failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    """Markdown table of the cases."""
    head = (
        "| population × | people | years | wall s | cpu s | contacts | contacts/s | wall s per 1M contacts "
        "| peak live | state MiB | bytes / live person | peak RSS MiB |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        per_m = r["wall_s"] / (r["contacts"] / 1e6) if r["contacts"] else float("nan")
        lines.append(
            f"| {r['factor']:g} | {r['population']:,} | {r['years']:g} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} "
            f"| {r['contacts']:,.0f} | {r['contacts'] / r['wall_s']:,.0f} | {per_m:.2f} | {r['peak_live_people']:,} "
            f"| {r['peak_state_bytes'] / 2**20:.1f} | {r['peak_state_bytes'] / max(r['peak_live_people'], 1):,.0f} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        print(json.dumps(_work(float(argv[1]), float(argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--years", type=float, nargs="+", default=[1.0, 3.0, 5.0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case; the fastest is reported")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = []
    for factor in args.factors:
        for years in args.years:
            runs = [_child(factor, years) for _ in range(max(1, args.repeat))]
            rows.append(min(runs, key=lambda r: r["wall_s"]))
            rows[-1]["wall_s_all"] = [round(r["wall_s"], 2) for r in runs]
            r = rows[-1]
            print(f"  {factor:g}x, {years:g} y: {r['wall_s']:.2f} s, {r['contacts']:,.0f} contacts", file=sys.stderr)
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
