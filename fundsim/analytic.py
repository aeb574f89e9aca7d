"""Analytic queueing results the simulation is validated against (M/M/c, Erlang C)."""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C).

    ``offered_load`` is a = λ/μ in erlangs and must be below ``servers`` for a steady state.
    Computed with the numerically stable Erlang B recursion: B(0) = 1,
    B(k) = a·B(k−1) / (k + a·B(k−1)); then C = c·B / (c − a·(1 − B)).
    """
    if servers < 1:
        raise ValueError("servers must be at least 1")
    if not 0 <= offered_load < servers:
        raise ValueError(f"offered load must be in [0, servers), got {offered_load}")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return servers * b / (servers - offered_load * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue Wq = C(c, a) / (cμ − λ), in the time unit of the rates."""
    a = arrival_rate / service_rate
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)


def mmc_mean_queue(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean number waiting Lq = λ·Wq (Little's law)."""
    return arrival_rate * mmc_mean_wait(arrival_rate, service_rate, servers)


def mmc_p0(servers: int, offered_load: float) -> float:
    """Probability that an M/M/c system is empty (direct sum; for modest c)."""
    a, c = offered_load, servers
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return 1.0 / (head + tail)
