"""Cost of a simulated year as the horizon grows: one replication at 1, 2, 5 and 10 contract years.

    python benchmarks/bench_horizon.py [--scenario scenarios/ten-year.yaml] [--years 1 2 5 10] [--contract block]

Issue 19 asks for horizons of up to 10 years at the same cost per simulated year. For each horizon
this runs one replication of the scenario (its own warm-up, provider policy and the chosen contract)
and prints the wall time, the seconds per simulated year (warm-up included, since it is simulated
too) and the ratio of that figure to the shortest horizon's: a ratio near 1 at 10 years means the
cost is linear in the horizon. Demand grows each year (3% in the example, with rising complexity), so
a later year has more work in it: the seconds per 1,000 contacts delivered, and their ratio, separate
the cost of the horizon from the cost of the work. ``--flat-demand`` removes the growth and the mix
drift instead. A benchmark, not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fundsim import run_scenario
from fundsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DAYS_PER_YEAR = 365.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios/ten-year.yaml")
    parser.add_argument("--years", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0])
    parser.add_argument("--contract", default="block", help="the contract the provider is paid under")
    parser.add_argument("--flat-demand", action="store_true", help="no demand growth and no complexity drift")
    args = parser.parse_args()
    base = load_scenario(args.scenario)
    if args.flat_demand:
        demand = base.demand.model_copy(update={"growth_per_year": 0.0, "complexity_mix_end": None})
        base = base.model_copy(update={"demand": demand})
    print(
        f"scenario {base.name}, one replication, contract {args.contract}, warm-up {base.simulation.warmup_days} days"
    )
    print(f"{'years':>6} {'wall s':>8} {'s / sim. year':>14} {'ratio':>6} {'s / 1,000 contacts':>19} {'ratio':>6}")
    first: tuple[float, float] | None = None
    for years in args.years:
        sim = base.simulation.model_copy(update={"horizon_years": years})
        scenario = base.model_copy(update={"simulation": sim, "contract": args.contract})
        start = time.perf_counter()
        result = run_scenario(scenario, 1)
        wall = time.perf_counter() - start
        per_year = wall / (years + base.simulation.warmup_days / DAYS_PER_YEAR)
        contacts = float(result.ledger["assessments"].sum() + result.ledger["visits_delivered"].sum())
        per_contact = 1000.0 * wall / contacts
        first = (per_year, per_contact) if first is None else first
        print(
            f"{years:>6g} {wall:>8.1f} {per_year:>14.2f} {per_year / first[0]:>6.2f}"
            f" {per_contact:>19.4f} {per_contact / first[1]:>6.2f}"
        )


if __name__ == "__main__":
    main()
