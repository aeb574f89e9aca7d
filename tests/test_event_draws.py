"""Keyed draws: the same event gets the same numbers whatever order events come in; others do not."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from fundsim.sim.event_draws import EventDraws, _hash, _mix64, float_key
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


def test_float_key_is_the_ieee_bits() -> None:
    """The struct path gives numpy's float64 bits, signed zeros, infinities, NaN and subnormals included."""
    values = [0.0, -0.0, 1.0, -2.5, 1e-310, math.inf, -math.inf, math.nan, 1234.5678, 2.0**60]
    values += np.random.default_rng(1).uniform(-1e6, 1e6, 200).tolist()
    for x in values:
        assert float_key(x) == int(np.array([x], dtype=np.float64).view(np.uint64)[0])
    assert float_key(1.0) == 0x3FF0000000000000  # IEEE 754: exponent 1023, no fraction


def test_mix64_is_splitmix64() -> None:
    """SplitMix64 from state 0 (Steele, Lea & Flood 2014; Vigna's reference C): its published first two outputs."""
    assert _mix64(0) == 0xE220A8397B1DCDAF
    assert _mix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4


def test_a_hashed_prefix_gives_the_keys_own_number() -> None:
    draws = EventDraws(RandomStreams(11, 2), "virtual_ward")
    rng = np.random.default_rng(5)
    for _ in range(300):
        n_start, n_rest = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        key = tuple(int(x) for x in rng.integers(-(2**40), 2**62, n_start + n_rest))
        start, rest = key[:n_start], key[n_start:]
        assert draws.uniform_after(draws.uniform_prefix(start), rest) == draws.uniform(key)


def test_a_generator_from_a_hashed_prefix_draws_the_keys_own_numbers() -> None:
    """Its numbers are those of a fresh Philox at the key's counter, whatever was drawn before (state reused)."""
    draws = EventDraws(RandomStreams(11, 2), "virtual_ward")
    rng = np.random.default_rng(6)
    for _ in range(100):
        n_start, n_rest = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        key = tuple(int(x) for x in rng.integers(-(2**40), 2**62, n_start + n_rest))
        start, rest = key[:n_start], key[n_start:]
        want = draws.generator(key).random(5).tolist()
        draws.generator((7,)).standard_normal(3)  # something else in between
        assert draws.generator_after(draws.generator_prefix(start), rest).random(5).tolist() == want
        # The reference: a new bit generator at the counter the module documents, (0, 0, hash1, hash2).
        fresh = np.random.Philox(key=draws._key)
        state = fresh.state
        state["state"]["counter"] = np.array(
            [0, 0, _hash(key, draws._salts[1]), _hash(key, draws._salts[2])], dtype=np.uint64
        )
        fresh.state = state
        assert np.random.Generator(fresh).random(5).tolist() == want
