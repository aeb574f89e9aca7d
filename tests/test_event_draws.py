"""Keyed draws: the same event gets the same numbers whatever order events come in; others do not."""

from __future__ import annotations

import numpy as np
from scipy import stats

from fundsim.sim.event_draws import EventDraws, float_key
from fundsim.sim.streams import RandomStreams


def test_an_event_gets_its_numbers_whatever_came_before() -> None:
    draws = EventDraws(RandomStreams(7, 0), "virtual_ward")
    first = (draws.uniform((1, 2, 3)), draws.generator((1, 2, 3)).random(3).tolist())
    draws.generator((9, 9)).random(50)  # another event in between
    again = EventDraws(RandomStreams(7, 0), "virtual_ward")
    again.uniform((4,))
    assert (draws.uniform((1, 2, 3)), draws.generator((1, 2, 3)).random(3).tolist()) == first
    assert (again.uniform((1, 2, 3)), again.generator((1, 2, 3)).random(3).tolist()) == first


def test_other_events_seeds_and_replications_differ() -> None:
    base = EventDraws(RandomStreams(7, 0), "virtual_ward")
    u = base.uniform((1, 2, 3))
    assert base.uniform((1, 2, 4)) != u
    assert EventDraws(RandomStreams(7, 1), "virtual_ward").uniform((1, 2, 3)) != u
    assert EventDraws(RandomStreams(8, 0), "virtual_ward").uniform((1, 2, 3)) != u
    assert EventDraws(RandomStreams(7, 0), "urgent_response").uniform((1, 2, 3)) != u
    g = base.generator((1, 2, 3)).random(4)
    assert not np.array_equal(base.generator((1, 2, 4)).random(4), g)


def test_keyed_uniforms_are_uniform() -> None:
    """20,000 keys (person-like: a time's bits and a count): Kolmogorov-Smirnov against U(0, 1) at 0.1%."""
    draws = EventDraws(RandomStreams(3, 0), "virtual_ward")
    times = np.random.default_rng(0).uniform(0, 1000, 10_000)
    u = [draws.uniform((1, 0, float_key(t), k)) for t in times for k in (0, 1)]
    assert stats.kstest(u, "uniform").pvalue > 0.001
    first = [draws.generator((2, float_key(t))).random() for t in times]
    assert stats.kstest(first, "uniform").pvalue > 0.001
