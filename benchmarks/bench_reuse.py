"""What a replication spends on parts that do not change between runs (issue 20, item 2).

Where a sweep repeats a run (the five contracts of one responsive point share a replication's
random streams; the points of a sweep share the base scenario), some work is the same every time:
validating the scenario, the calendar, the rosters (drawn per replication from their own stream),
the referral stream of a locality whose parameters the sweep does not change, and, under the
passive policy, the simulation itself (five contracts are priced on one trace). This benchmark
times each part in one process, on a fresh object each time, so the share of a replication that
reuse could save is measured, not assumed:

- ``load``: reading and validating the YAML (``fundsim.load_scenario``);
- ``calendar`` and ``rosters``: :func:`~fundsim.sim.calendar.build_calendar` and every locality's
  :func:`~fundsim.sim.roster.build_roster`;
- ``referrals``: drawing every 28-day referral block of the run (:class:`~fundsim.sim.referrals.Referrals`);
- ``simulate``: one whole replication (which includes the calendar, rosters and referral draws);
- ``price``: pricing that replication's ledger under one contract, and under all of them.

    python benchmarks/bench_reuse.py                      # example.yaml, best of 3
    python benchmarks/bench_reuse.py --scenario scenarios/large.yaml --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Fastest CPU time of ``repeat`` calls of ``fn`` (CPU, not wall: the machine is shared), and a result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def measure(scenario_file: Path, repeat: int) -> dict:
    """Time each reusable part of one replication of ``scenario_file`` (best CPU seconds of ``repeat``)."""
    import fundsim
    from fundsim.experiment.runner import price
    from fundsim.sim.calendar import build_calendar
    from fundsim.sim.referrals import Referrals
    from fundsim.sim.roster import build_roster
    from fundsim.sim.streams import RandomStreams

    t_load, scenario = _best(lambda: fundsim.load_scenario(scenario_file), repeat)
    assert isinstance(scenario, fundsim.Scenario)
    sc = scenario
    t_cal, calendar = _best(lambda: build_calendar(sc.simulation), repeat)

    def rosters() -> list:
        streams = RandomStreams(sc.simulation.seed, 0)
        return [build_roster(sc, calendar, i, streams.stream("roster", i)) for i in range(len(sc.localities))]

    def referrals() -> int:
        refs = Referrals(sc, calendar, RandomStreams(sc.simulation.seed, 0))
        n, day = 0, 0
        while day < calendar.n_days:
            block = refs.draw(day)
            n += len(block.time)
            day = block.end_day
        return n

    t_rost, _ = _best(rosters, repeat)
    t_refs, n_refs = _best(referrals, repeat)
    t_sim, result = _best(lambda: fundsim.simulate(sc, 0), repeat)
    ledger = result.ledger  # type: ignore[attr-defined]
    contracts = [name for name in type(sc.contracts).model_fields if getattr(sc.contracts, name) is not None]
    t_one, _ = _best(lambda: price(ledger, sc, contracts[0]), repeat)
    t_all, _ = _best(lambda: [price(ledger, sc, c) for c in contracts], repeat)
    return {
        "scenario": str(scenario_file.relative_to(ROOT) if scenario_file.is_relative_to(ROOT) else scenario_file),
        "repeat": repeat,
        "load_average": list(os.getloadavg()),
        "cpu_s": {
            "load_and_validate": t_load,
            "calendar": t_cal,
            "rosters": t_rost,
            "referral_blocks": t_refs,
            "simulate": t_sim,
            "price_one_contract": t_one,
            "price_all_contracts": t_all,
        },
        "referrals_drawn": n_refs,
        "contracts": contracts,
    }


def format_table(r: dict) -> str:
    """Plain-text table: each part's CPU time and its share of one simulation."""
    c = r["cpu_s"]
    sim = c["simulate"]
    lines = [
        f"{r['scenario']}: best CPU s of {r['repeat']}; load average {r['load_average'][0]:.2f}",
        f"{'part':<22} {'cpu s':>8} {'share of simulate':>18}",
    ]
    for k, v in c.items():
        lines.append(f"{k:<22} {v:>8.3f} {v / sim:>17.1%}")
    n = len(r["contracts"])
    setup = c["calendar"] + c["rosters"] + c["referral_blocks"]
    passive = (sim + c["price_all_contracts"]) / (n * sim)
    lines += [
        "",
        f"reusable across the {n} contracts of one replication (responsive policy: {n} simulations):",
        f"  calendar + rosters + referral blocks = {setup:.3f} s, {setup / sim:.1%} of one simulation;"
        f" validation {c['load_and_validate']:.3f} s once per sweep",
        f"  passive policy: {n} contracts cost one simulation + pricing = {passive:.2f} of {n} simulations",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "example.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = measure(args.scenario.resolve(), max(1, args.repeat))
    print(format_table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
