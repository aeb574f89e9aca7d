"""Benchmark one replication of fundsim against a plain SimPy M/M/c baseline.

For each scenario it reports one replication's wall time, simulated events per second
(``RunResult.events / wall``), visits per second (ledger ``contacts`` summed / wall; contacts are
assessments + visits), peak live people and the peak resident memory of the process, and the
ratio of visits/s to the SimPy M/M/c baseline's customers/s measured in the same run.

Each case runs in its own fresh Python process, so peak RSS is per case and no case warms
another's caches. With ``--repeat N`` every case runs N times and the fastest run is reported
(the usual way to discount other load on the machine); every wall time is kept in ``--json``.

    python benchmarks/bench_core.py              # example.yaml and large.yaml
    python benchmarks/bench_core.py --quick      # example.yaml only (smoke run)
    python benchmarks/bench_core.py --addons     # also the example with add-ons: CPU per core contact
    python benchmarks/bench_core.py --repeat 3 --json results/bench.json
    python benchmarks/bench_core.py --kernels pure,compiled   # each case on both paths, in one run

``--kernels`` runs every case under each implementation of the compiled-ready steps
(``FUNDSIM_KERNEL``, :mod:`fundsim.sim.kernels`); by default the environment's choice. numba compiles
on the first call after an install and caches the machine code on disk: one untimed run per kernel
comes first, so the timed runs load the cache as every later run does.

Each worker simulates tiny.yaml once (with the add-ons of example-addons.yaml), untimed, before the
timed case: a process's first simulation pays one-off start-up costs (importing numba and loading
its machine code, about a second) that a sweep's or a comparison's worker pays once for all its runs.
The start-up is printed beside the table; ``--cold`` times each case as its process's first
simulation instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = {
    "example": ROOT / "scenarios" / "example.yaml",
    "large": ROOT / "scenarios" / "large.yaml",
    # Issue 17: the example with a 2-hour urgent response and a virtual ward, as shipped (staff shared
    # with the core) and with both add-ons given their own staff.
    "addons": ROOT / "scenarios" / "example-addons.yaml",
    "addons-ded": ROOT / "scenarios" / "example-addons.yaml",
}
#: Cases whose add-ons are switched to dedicated staffing in the worker.
DEDICATED = {"addons-ded"}

#: Baseline settings (the issue's): 20 servers at 90% utilisation, 200,000 customers.
BASELINE = {"n_customers": 200_000, "c": 20, "utilisation": 0.9}

#: Keep numpy's thread pools to one thread so "one core" means one core.
_ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024.0 if sys.platform != "darwin" else rss / 2**20


# --------------------------------------------------------------------------- workers (child processes)


def _dedicated(scenario):  # type: ignore[no-untyped-def]
    """``scenario`` with every add-on's staffing set to dedicated."""
    addons = scenario.addons
    update = {
        name: getattr(addons, name).model_copy(update={"staffing": "dedicated"})
        for name in type(addons).model_fields
        if getattr(addons, name) is not None
    }
    return scenario.model_copy(update={"addons": addons.model_copy(update=update)})


def _addon_visits(scenario, ledger) -> float:  # type: ignore[no-untyped-def]
    """Responses and virtual-ward visits in ``ledger`` (the add-ons' own visits; 0 without add-ons)."""
    visits = float(ledger["ucr_calls"].sum()) if "ucr_calls" in ledger else 0.0
    ward = scenario.addons.virtual_ward if scenario.addons is not None else None
    if ward is not None:
        visits += float(ledger["vw_occupied_place_days"].sum()) * ward.visits_per_place_per_day
    return visits


def warm_up(fundsim) -> None:  # type: ignore[no-untyped-def]
    """One replication of tiny.yaml with the add-ons of example-addons.yaml: every step's code loaded once.

    A process's first simulation pays one-off costs (numba's import, loading each compiled
    function's machine code from its cache, lazy imports) that a sweep's or a comparison's worker
    pays once for all its runs. With the add-ons on, the warm-up loads their compiled code too, so
    no case's timed run carries another's start-up.
    """
    tiny = fundsim.load_scenario(ROOT / "scenarios" / "tiny.yaml")
    addons = fundsim.load_scenario(ROOT / "scenarios" / "example-addons.yaml").addons
    fundsim.simulate(tiny.model_copy(update={"addons": addons}), 0)


def _work_fundsim(scenario_file: str, replication: int, dedicated: bool = False, warm: bool = True) -> dict:
    """Load ``scenario_file`` and time one replication of it (with ``dedicated``, add-ons on their own staff)."""
    import fundsim
    from fundsim.sim.kernels import kernel_choice

    warm_up_s = 0.0
    if warm:
        # One replication of tiny.yaml first, untimed in the table: a process's first simulation also
        # pays one-off start-up costs (numba's import and loading its cached machine code, about a
        # second; lazy imports), which every later simulation in the process (a sweep's or a
        # comparison's worker) does not. The table's times are those of a later simulation.
        t0 = time.perf_counter()
        warm_up(fundsim)
        warm_up_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    scenario = fundsim.load_scenario(scenario_file)
    if dedicated:
        scenario = _dedicated(scenario)
    load_s = time.perf_counter() - t0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = fundsim.simulate(scenario, replication)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    ledger = result.ledger
    return {
        "population": scenario.total_population,
        "kernel": kernel_choice(),
        "warm_up_s": warm_up_s,
        "load_s": load_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "events": int(result.events),
        "contacts": float(ledger["contacts"].sum()),
        # Add-on work done by visiting (issue 17): urgent responses, and virtual-ward visits (occupied
        # place-days × visits a day); 0 without add-ons.
        "addon_visits": _addon_visits(scenario, ledger),
        # Visits the core offered and no one was free for: work the allocation handles without a contact.
        "deferrals": float(ledger["visit_deferrals"].sum()),
        "visits_delivered": float(ledger["visits_delivered"].sum()),
        "peak_live_people": int(result.peak_live_people),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _work_baseline() -> dict:
    """Time the M/M/c baseline."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from mmc_simpy import baseline_rate

    cpu0 = time.process_time()
    out = baseline_rate(BASELINE["n_customers"], BASELINE["c"], BASELINE["utilisation"])
    out["cpu_s"] = time.process_time() - cpu0
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _run_child(args: list[str], kernel: str = "auto") -> dict:
    """Run this file as a worker in a fresh interpreter and return its JSON answer."""
    env = {**os.environ, **_ONE_THREAD}
    if kernel != "auto":
        env["FUNDSIM_KERNEL"] = kernel
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the benchmark


def _best(runs: list[dict]) -> dict:
    """The fastest run, with every run's wall time attached."""
    best = dict(min(runs, key=lambda r: r["wall_s"]))
    best["wall_s_all"] = [round(r["wall_s"], 3) for r in runs]
    best["cpu_s_all"] = [round(r["cpu_s"], 3) for r in runs]
    best["peak_rss_mb_max"] = max(r["peak_rss_mb"] for r in runs)
    return best


def machine_info() -> dict:
    """Where the benchmark ran."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import simpy

    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "load_average_at_start": list(os.getloadavg()),
    }


def _label(name: str, kernel: str, kernels: list[str]) -> str:
    return name if kernels == ["auto"] else f"{name}/{kernel}"


def run_benchmark(
    cases: list[str], repeat: int, replication: int = 0, kernels: list[str] | None = None, cold: bool = False
) -> dict:
    """Run the baseline and every case ``repeat`` times (interleaved); return the results.

    With ``cold`` each case is its process's first simulation (start-up costs included).
    """
    kernels = kernels or ["auto"]
    mode = ["cold"] if cold else []
    info = machine_info()
    warm_up = {}
    for kernel in kernels:  # untimed: numba's first call after an install compiles and fills its disk cache
        warm_up[kernel] = _run_child(["fundsim", str(SCENARIOS["example"]), str(replication)], kernel)["wall_s"]
    info["warm_up_wall_s"] = warm_up
    base_runs: list[dict] = []
    labels = [(_label(name, k, kernels), name, k) for name in cases for k in kernels]
    case_runs: dict[str, list[dict]] = {label: [] for label, _, _ in labels}
    for _ in range(repeat):
        base_runs.append(_run_child(["baseline"]))
        for label, name, kernel in labels:
            extra = (["dedicated"] if name in DEDICATED else []) + mode
            case_runs[label].append(_run_child(["fundsim", str(SCENARIOS[name]), str(replication), *extra], kernel))
    baseline = _best(base_runs)
    # Each round's runs, for ratios taken round by round (paired: a drift in the machine's speed
    # between rounds moves both sides of a ratio alike).
    rounds = [
        {"baseline_customers_per_s": base_runs[i]["customers_per_s"]}
        | {
            label: {k: case_runs[label][i][k] for k in ("cpu_s", "wall_s", "contacts", "addon_visits", "deferrals")}
            for label, _, _ in labels
        }
        for i in range(repeat)
    ]
    rows = []
    for name, _, _ in labels:
        best = _best(case_runs[name])
        visits_per_s = best["contacts"] / best["wall_s"]
        rows.append(
            {
                "case": name,
                **best,
                "events_per_s": best["events"] / best["wall_s"],
                "visits_per_s": visits_per_s,
                "ratio_vs_mmc": visits_per_s / baseline["customers_per_s"],
            }
        )
    info["load_average_at_end"] = list(os.getloadavg())
    return {
        "machine": info,
        "repeat": repeat,
        "replication": replication,
        "cold": cold,
        "baseline": baseline,
        "cases": rows,
        "rounds": rounds,
    }


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """The median of ``values`` and a distribution-free confidence interval for it (order statistics).

    The interval is ``(x_(k), x_(n+1-k))`` with the largest ``k`` whose binomial coverage
    ``1 - 2 P(Bin(n, 1/2) < k)`` is at least ``level``; with fewer than 6 values no such ``k`` exists
    at 95% and the interval is the whole range (its coverage then is below ``level``).
    """
    x = sorted(values)
    n = len(x)
    mid = n // 2
    median = x[mid] if n % 2 else 0.5 * (x[mid - 1] + x[mid])
    k = 1
    for j in range(1, mid + 1):
        below = sum(math.comb(n, i) for i in range(j)) / 2**n  # P(Bin(n, 1/2) < j)
        if 1 - 2 * below >= level:
            k = j
    return median, x[k - 1], x[n - k]


def _paired(result: dict, ratio: Callable[[dict], float]) -> str:
    """``ratio(round)`` over the rounds: median and its 95% interval, as text."""
    values = [ratio(r) for r in result.get("rounds", [])]
    if not values:
        return "n/a"
    median, lo, hi = median_ci(values)
    return f"{median:.3f} (95% CI {lo:.3f} to {hi:.3f}, {len(values)} rounds)"


def _items(r: dict) -> float:
    """A run's items of work: core contacts, visits deferred (offered, not placed) and add-on visits."""
    return r["contacts"] + r["deferrals"] + r.get("addon_visits", 0.0)


def _vs_example(name: str, per_s: float, base_s: float) -> str:
    return f"  {name:<11} {1e6 * per_s:.2f} us = {per_s / base_s:.3f} x example ({100 * (per_s / base_s - 1):+.1f}%)"


def format_table(result: dict) -> str:
    """Plain-text table of a benchmark result."""
    m = result["machine"]
    b = result["baseline"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, SimPy {m['simpy']}, numpy {m['numpy']}; "
        f"fundsim at {m['commit']}",
        f"load average at start {m['load_average_at_start'][0]:.2f}, at end {m['load_average_at_end'][0]:.2f}; "
        f"best of {result['repeat']} run(s), replication {result['replication']}",
        "each case timed as its process's first simulation (--cold)"
        if result.get("cold")
        else "each case timed after one untimed tiny.yaml run with add-ons in the same process (start-up below)",
        "",
        f"baseline SimPy M/M/{b['c']} (rho {b['utilisation']}): {b['customers']:,} customers in {b['wall_s']:.2f} s "
        f"(cpu {b['cpu_s']:.2f} s) = {b['customers_per_s']:,.0f} customers/s, {b['events_per_s']:,.0f} events/s, "
        f"peak RSS {b['peak_rss_mb']:.0f} MiB (walls {b['wall_s_all']})",
        "",
    ]
    header = (
        f"{'case':<19} {'people':>10} {'wall s':>7} {'cpu s':>7} {'events':>10} {'events/s':>10} "
        f"{'contacts':>10} {'visits/s':>10} {'peak live':>9} {'RSS MiB':>8} {'x M/M/c':>8}"
    )
    lines += [header, "-" * len(header)]
    for r in result["cases"]:
        lines.append(
            f"{r['case']:<19} {r['population']:>10,} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {r['events']:>10,} "
            f"{r['events_per_s']:>10,.0f} {r['contacts']:>10,.0f} {r['visits_per_s']:>10,.0f} "
            f"{r['peak_live_people']:>9,} {r['peak_rss_mb']:>8.0f} {r['ratio_vs_mmc']:>8.2f}"
        )
    lines.append("")
    lines += [f"{r['case']}: wall times of all runs {r['wall_s_all']} s" for r in result["cases"]]
    if len(result.get("rounds", [])) > 1:
        # The same ratio taken round by round (each round runs the baseline, then every case): the
        # median and its interval are steadier on a shared machine than a ratio of two bests.
        lines.append("")
        lines.append("x M/M/c paired by round (visits/s over the same round's baseline customers/s), median:")
        for r in result["cases"]:
            name = r["case"]
            per_s = _paired(
                result, lambda rd, n=name: rd[n]["contacts"] / rd[n]["wall_s"] / rd["baseline_customers_per_s"]
            )
            lines.append(f"  {name:<19} {per_s}")
    if not result.get("cold"):
        lines.append("")
        lines.append("start-up: the untimed tiny.yaml run with add-ons before each case (its process's first), s:")
        lines += [f"  {r['case']:<19} {r['warm_up_s']:.2f}" for r in result["cases"]]
    by_case = {r["case"]: r for r in result["cases"]}
    kernels = sorted({c.split("/", 1)[1] for c in by_case if "/" in c}) or [""]
    for kernel in kernels:
        suffix = f"/{kernel}" if kernel else ""
        if f"example{suffix}" not in by_case or f"addons{suffix}" not in by_case:
            continue
        # Issue 17: add-ons may change the core model's cost per visit by at most 20%. CPU seconds per
        # core contact (assessments + visits; an add-on's calls and ward visits are not contacts).
        example = by_case[f"example{suffix}"]
        base = example["cpu_s"] / example["contacts"]
        lines.append("")
        lines.append(f"CPU per core contact: example{suffix} {1e6 * base:.2f} us")
        for name in ("addons", "addons-ded"):
            if f"{name}{suffix}" in by_case:
                per = by_case[f"{name}{suffix}"]["cpu_s"] / by_case[f"{name}{suffix}"]["contacts"]
                lines.append(_vs_example(name, per, base))
        for name in ("addons", "addons-ded"):
            case = f"{name}{suffix}"
            if case in by_case and len(result.get("rounds", [])) > 1:

                def per_contact(rd: dict, a: str = case, e: str = f"example{suffix}", any_kind: bool = False) -> float:
                    visits = rd[a]["contacts"] + (rd[a]["addon_visits"] if any_kind else 0.0)
                    return (rd[a]["cpu_s"] / visits) / (rd[e]["cpu_s"] / rd[e]["contacts"])

                def per_item(rd: dict, a: str = case, e: str = f"example{suffix}") -> float:
                    return (rd[a]["cpu_s"] / _items(rd[a])) / (rd[e]["cpu_s"] / _items(rd[e]))

                lines.append(f"    {name}, paired by round, per core contact: {_paired(result, per_contact)} x example")
                lines.append(
                    f"    {name}, paired by round, per visit of any kind: "
                    f"{_paired(result, lambda rd, f=per_contact: f(rd, any_kind=True))} x example"
                )
                if all("deferrals" in rd[case] for rd in result["rounds"]):
                    per_item_s = _paired(result, per_item)
                    lines.append(f"    {name}, paired by round, per item of work: {per_item_s} x example")
        lines.append("CPU per visit of any kind (core contacts + urgent responses + virtual-ward visits):")
        for name in ("addons", "addons-ded"):
            if f"{name}{suffix}" in by_case:
                r = by_case[f"{name}{suffix}"]
                lines.append(_vs_example(name, r["cpu_s"] / (r["contacts"] + r.get("addon_visits", 0.0)), base))
        if all("deferrals" in by_case[c] for c in (f"example{suffix}", f"addons{suffix}") if c in by_case):
            # With shared staff the core defers more visits (the add-ons' effect on it): per core contact,
            # that extra work reads as a cost of the add-ons; per item of work it does not.
            lines.append("CPU per item of work (core contacts + visits deferred + add-on visits):")
            base_item = example["cpu_s"] / _items(example)
            for name in ("addons", "addons-ded"):
                if f"{name}{suffix}" in by_case:
                    r = by_case[f"{name}{suffix}"]
                    lines.append(_vs_example(name, r["cpu_s"] / _items(r), base_item))
    pairs = [(c, c.replace("/compiled", "/pure")) for c in by_case if c.endswith("/compiled")]
    if any(p in by_case for _, p in pairs):
        lines.append("")
        lines.append("compiled against pure (CPU s, best run of each):")
        for c, p in pairs:
            if p in by_case:
                lines.append(
                    f"  {c.split('/')[0]:<11} {by_case[p]['cpu_s']:.2f} -> {by_case[c]['cpu_s']:.2f} s = "
                    f"{by_case[p]['cpu_s'] / by_case[c]['cpu_s']:.2f}x faster"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        kind, *rest = argv[1:]
        out = (
            _work_baseline()
            if kind == "baseline"
            else _work_fundsim(rest[0], int(rest[1]), "dedicated" in rest[2:], "cold" not in rest[2:])
        )
        print(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="example.yaml only (a smoke run)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case; the fastest is reported")
    parser.add_argument("--replication", type=int, default=0, help="replication index to simulate")
    parser.add_argument(
        "--addons",
        action="store_true",
        help="also the example with add-on services (shared and dedicated staff): CPU per core contact against example",
    )
    parser.add_argument(
        "--kernels",
        default="auto",
        help="comma-separated FUNDSIM_KERNEL values to run each case under (auto, pure, compiled); default auto",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="time each case as its process's first simulation (no untimed tiny.yaml run first)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    cases = ["example"] if args.quick else ["example", "large"]
    if args.addons:
        cases += ["addons", "addons-ded"]
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    unknown = [k for k in kernels if k not in ("auto", "pure", "compiled")]
    if unknown or not kernels:
        parser.error(f"--kernels takes auto, pure and compiled, not {unknown or args.kernels!r}")
    result = run_benchmark(cases, args.repeat, args.replication, kernels, args.cold)
    print(format_table(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
