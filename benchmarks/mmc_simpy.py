"""Baseline: a plain, idiomatic SimPy M/M/c queue, to put fundsim's speed on a common scale.

One process per customer, ``simpy.Resource(capacity=c)`` for the servers, exponential
inter-arrival and service times from a numpy ``Generator`` (drawn up front, so the timing
measures SimPy rather than one numpy call per draw). Its customers per second is the yardstick
``bench_core.py`` compares fundsim's visits per second against.

Run on its own: ``python benchmarks/mmc_simpy.py --customers 200000``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Generator

import numpy as np
import simpy

#: SimPy events per customer: the arrival timeout, the customer process's Initialize, the
#: resource Request, the service Timeout, the Release and the process's own end event.
EVENTS_PER_CUSTOMER = 6


def _customer(
    env: simpy.Environment, servers: simpy.Resource, service_time: float, waits: list[float] | None
) -> Generator[simpy.Event, object, None]:
    """One customer: queue for a server, hold it for ``service_time``, leave."""
    arrived = env.now
    with servers.request() as req:
        yield req
        if waits is not None:
            waits.append(env.now - arrived)
        yield env.timeout(service_time)


def _source(
    env: simpy.Environment,
    servers: simpy.Resource,
    gaps: np.ndarray,
    services: np.ndarray,
    waits: list[float] | None,
) -> Generator[simpy.Event, object, None]:
    """Create one customer process after each inter-arrival gap."""
    for gap, service in zip(gaps.tolist(), services.tolist(), strict=True):
        yield env.timeout(gap)
        env.process(_customer(env, servers, service, waits))


def simulate_mmc(
    n_customers: int, lam: float, mu: float, c: int, seed: int, *, record_waits: bool = False
) -> tuple[int, int, float, list[float]]:
    """Run the M/M/c model to completion; return (customers, events, wall seconds, waits in queue).

    ``events`` is the number of events SimPy scheduled when its counter is readable, else
    ``EVENTS_PER_CUSTOMER * n_customers``.
    """
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / lam, n_customers)
    services = rng.exponential(1.0 / mu, n_customers)
    waits: list[float] | None = [] if record_waits else None
    start = time.perf_counter()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    env.process(_source(env, servers, gaps, services, waits))
    env.run()
    wall = time.perf_counter() - start
    counter = getattr(env, "_eid", None)  # SimPy's private event-id counter (itertools.count)
    events = next(counter) if counter is not None else EVENTS_PER_CUSTOMER * n_customers
    return n_customers, int(events), wall, waits or []


def run_mmc(n_customers: int, lam: float, mu: float, c: int, seed: int) -> tuple[int, int, float]:
    """Simulate ``n_customers`` through an M/M/c queue; return (customers, events_processed_estimate, wall_s)."""
    customers, events, wall, _ = simulate_mmc(n_customers, lam, mu, c, seed)
    return customers, events, wall


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), for a sanity check of the model."""
    a = lam / mu
    rho = a / c
    if rho >= 1.0:
        return math.inf
    terms = sum(a**k / math.factorial(k) for k in range(c))
    last = a**c / math.factorial(c) / (1.0 - rho)
    p_wait = last / (terms + last)
    return p_wait / (c * mu - lam)


def baseline_rate(n_customers: int = 200_000, c: int = 20, utilisation: float = 0.9, seed: int = 1) -> dict:
    """The benchmark baseline: customers/s of M/M/c with ``mu = 1`` and ``lam = utilisation * c``."""
    mu = 1.0
    lam = utilisation * c * mu
    customers, events, wall = run_mmc(n_customers, lam, mu, c, seed)
    return {
        "customers": customers,
        "events": events,
        "wall_s": wall,
        "customers_per_s": customers / wall,
        "events_per_s": events / wall,
        "c": c,
        "utilisation": utilisation,
    }


def main() -> None:
    """Time the baseline and check its mean wait against Erlang C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--utilisation", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    mu = 1.0
    lam = args.utilisation * args.servers * mu
    customers, events, wall, waits = simulate_mmc(args.customers, lam, mu, args.servers, args.seed, record_waits=True)
    print(f"M/M/{args.servers} rho={args.utilisation}: {customers} customers, {events} events in {wall:.2f} s")
    print(f"  {customers / wall:,.0f} customers/s, {events / wall:,.0f} events/s")
    print(f"  mean wait in queue {np.mean(waits):.4f} (Erlang C {erlang_c_wait(lam, mu, args.servers):.4f})")


if __name__ == "__main__":
    main()
