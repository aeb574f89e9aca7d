"""Time and peak memory of `fundsim calibrate` on an extract the size of a large provider.

    python benchmarks/bench_calibrate.py [--contacts-per-year 1000000] [--years 3]

Generates a synthetic extract from scenarios/tiny.yaml scaled up (population and staff) to about
the requested contacts a year, writes it as CSV in a temporary folder, then times reading, fitting
and writing (the `calibrate` command without --check) and reports the peak resident memory of the
process (Linux: resource.getrusage ru_maxrss). The CPU time of the process is printed beside the
wall time: on a machine shared with other work the wall time includes waiting for a core.
Target (issue 18): under 2 minutes and 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from fundsim.calibrate import calibrate
from fundsim.calibrate.synth import SynthOptions, generate_extract, write_extract
from fundsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
#: Contacts a year per resident of scenarios/tiny.yaml (measured: about 2,800 a year for 5,000 people).
CONTACTS_PER_PERSON_YEAR = 0.56


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts-per-year", type=float, default=1_000_000)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    sc = load_scenario(ROOT / "scenarios/tiny.yaml")
    population = int(args.contacts_per_year / CONTACTS_PER_PERSON_YEAR)
    factor = population / sc.total_population
    loc = sc.localities[0].model_copy(update={"population": population})
    grades = [g.model_copy(update={"fte": g.fte * factor}) for g in sc.workforce.grades]
    sc = sc.model_copy(update={"localities": [loc], "workforce": sc.workforce.model_copy(update={"grades": grades})})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "extract"
        started = time.perf_counter()
        tables = generate_extract(sc, SynthOptions(months=12 * args.years, seed=1))
        write_extract(tables, folder)
        n_contacts = len(tables["contacts"])
        del tables
        generated = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        calibrate(folder, Path(tmp) / "out" / "large.yaml")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"contacts: {n_contacts:,} over {args.years} years (population {population:,})")
    print(f"generate + write extract: {generated:.1f} s")
    print(f"calibrate (read, check, fit, write): {wall:.1f} s wall, {cpu:.1f} s CPU of this process")
    print(f"peak resident memory of the process (generation included): {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
