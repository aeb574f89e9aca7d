"""The compiled keyed draws are numpy's Philox and samplers to the last bit, tails and rare branches included.

:mod:`fundsim.sim.keyed_draws_compiled` reproduces numpy's generator and samplers so the virtual
ward's compiled night can draw inside its loop. The reference here is numpy itself: the same
generator state, the same numbers, compared as bytes over millions of draws: enough that the
ziggurats' wedges (about 1% of draws) are met thousands of times and their tails (a few in
10,000) hundreds of times, which the test counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from fundsim.scenario.service_models import StayDays
from fundsim.sim.event_draws import EventDraws, _extend, float_key
from fundsim.sim.sampling import parameters, sample
from fundsim.sim.streams import RandomStreams

pytest.importorskip("numba", reason="the compiled draws need numba (pip install 'fundsim[fast]')")

from numba import njit

from fundsim.sim import keyed_draws_compiled as kd

_KEY = (0x243F6A8885A308D3, 0x13198A2E03707344)  # any key: the digits of pi


def _numpy_at(counter: tuple[int, int, int, int], key: tuple[int, int] = _KEY) -> np.random.Generator:
    """numpy's Philox generator at ``counter`` with its buffer used up, as EventDraws.generator_after sets it."""
    bitgen = np.random.Philox(key=np.array(key, dtype=np.uint64))
    bitgen.state = {
        "bit_generator": "Philox",
        "state": {"counter": np.array(counter, dtype=np.uint64), "key": np.array(key, dtype=np.uint64)},
        "buffer": np.zeros(4, dtype=np.uint64),
        "buffer_pos": 4,
        "has_uint32": 0,
        "uinteger": 0,
    }
    return np.random.Generator(bitgen)


def _ours_at(c2: int, c3: int, key: tuple[int, int] = _KEY) -> np.ndarray:
    st = kd.new_state(key)
    kd.start(st, np.uint64(c2), np.uint64(c3))
    return st


@njit(cache=False)
def _many(st: np.ndarray, which: int, n: int, a: float) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty(n)
    for i in range(n):
        if which == 0:
            out[i] = kd.standard_normal(st)
        elif which == 1:
            out[i] = kd.standard_exponential(st)
        elif which == 2:
            out[i] = kd.standard_gamma(st, a)
        elif which == 3:
            out[i] = kd.next_double(st)
    return out


@njit(cache=False)
def _raw(st: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = kd.next_uint64(st)
    return out


def test_the_raw_words_are_numpys() -> None:
    """10,000 words (2,500 blocks) from three counters: the rounds and the buffering as numpy has them."""
    for c2, c3 in ((0, 0), (2**64 - 1, 12345), (977, 2**63)):
        theirs = _numpy_at((0, 0, c2, c3)).bit_generator.random_raw(10_000)
        assert np.array_equal(_raw(_ours_at(c2, c3), 10_000), theirs)


def test_the_counter_carries_into_every_word() -> None:
    """Counter words at their maximum: the increment carries into the next ones, as numpy's does."""
    for counter in ((2**64 - 1, 0, 5, 6), (2**64 - 1, 2**64 - 1, 5, 6), (2**64 - 1, 2**64 - 1, 2**64 - 1, 6)):
        st = _ours_at(counter[2], counter[3])
        st[0], st[1] = counter[0], counter[1]  # the counter's first two words (start sets them to zero)
        assert np.array_equal(_raw(st, 40), _numpy_at(counter).bit_generator.random_raw(40))


N_DRAWS = 2_000_000


@pytest.mark.parametrize(
    ("which", "shape", "reference"),
    [
        (0, 0.0, lambda g, n, _: g.standard_normal(n)),
        (1, 0.0, lambda g, n, _: g.standard_exponential(n)),
        (2, 1.5625, lambda g, n, a: g.standard_gamma(a, n)),  # the ward's default: cv 0.8
        (2, 0.3, lambda g, n, a: g.standard_gamma(a, n)),  # shape below one: Johnk's branch
        (2, 1.0, lambda g, n, a: g.standard_gamma(a, n)),  # exactly one: the exponential
        (2, 0.0, lambda g, n, a: g.standard_gamma(a, n)),  # zero: always 0
        (2, 40.0, lambda g, n, a: g.standard_gamma(a, n)),
        (3, 0.0, lambda g, n, _: g.random(n)),
    ],
    ids=["normal", "exponential", "gamma-1.5625", "gamma-0.3", "gamma-1", "gamma-0", "gamma-40", "uniform"],
)
def test_two_million_draws_are_numpys(which: int, shape: float, reference) -> None:
    ours = _many(_ours_at(7, 99), which, N_DRAWS, shape)
    theirs = reference(_numpy_at((0, 0, 7, 99)), N_DRAWS, shape)
    assert ours.tobytes() == theirs.tobytes()


def test_the_ziggurat_tails_were_met() -> None:
    """The draws above are numpy's in the tails too: values past the ziggurats' last strip come only from there.

    Beyond r = 3.6542 a standard normal has probability 2.6e-4 (each side), an exponential beyond
    7.6971 has 4.5e-4: about 500 and 900 in two million draws, so none at all would mean the test
    above never reached the tail branches.
    """
    normal = _many(_ours_at(7, 99), 0, N_DRAWS, 0.0)
    exponential = _many(_ours_at(7, 99), 1, N_DRAWS, 0.0)
    assert np.sum(np.abs(normal) > kd._NOR_R) > 300
    assert np.sum(exponential > kd._EXP_R) > 600


@pytest.mark.parametrize(
    "dist",
    [
        StayDays(mean=5.0, cv=0.8, distribution="gamma"),
        StayDays(mean=7.0, cv=1.0),  # lognormal (the default family)
        StayDays(mean=7.0, cv=2.5, distribution="lognormal"),
        StayDays(mean=3.0, distribution="exponential"),
        StayDays(mean=4.0, cv=2.0, distribution="gamma"),  # shape 0.25
        StayDays(mean=6.0, cv=0.0),  # no spread: the mean
        StayDays(mean=6.0, cv=0.5, distribution="fixed"),
    ],
    ids=["gamma", "lognormal", "lognormal-wide", "exponential", "gamma-below-one", "cv-0", "fixed"],
)
def test_sample_one_is_sample_from_the_keyed_generator(dist: StayDays) -> None:
    """2,000 events keyed as the ward keys a step-up: two uniforms, then the stay, as ``sample`` draws it."""
    draws = EventDraws(RandomStreams(11, 3), "virtual_ward")
    code, a, b = parameters(dist)
    st = kd.new_state(draws.philox_key)
    prefix = draws.generator_prefix((1, 0))
    keys = np.random.default_rng(5)
    for t, k in zip(keys.uniform(0, 900, 2_000).tolist(), keys.integers(0, 8, 2_000).tolist(), strict=True):
        rest = (float_key(t), k)
        g = draws.generator_after(prefix, rest)
        expected = (*g.random(2).tolist(), float(sample(dist, g, 1)[0]))
        # The counter words as the compiled night makes them: each prefix's hash extended by the key's parts.
        got = _step_up(st, np.uint64(_extend(prefix[0], rest)), np.uint64(_extend(prefix[1], rest)), code, a, b)
        assert got == expected


@njit(cache=False)
def _step_up(
    st: np.ndarray, c2: np.uint64, c3: np.uint64, code: int, a: float, b: float
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    kd.start(st, c2, c3)
    u_escalate = kd.next_double(st)
    u_when = kd.next_double(st)
    return u_escalate, u_when, kd.sample_one(st, code, a, b)
