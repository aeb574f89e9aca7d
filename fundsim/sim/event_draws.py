"""Random draws keyed by what an event is, for events the simulation meets in an order that varies.

A stream consumed in the order events happen gives a person different numbers whenever anything
earlier changes (a contract, a staffing choice): common random numbers are lost. Here each event
is named by a tuple of integers (say, a person and their admission number), and its numbers come
from that key alone, within the scenario's seed, replication and purpose:

* :meth:`EventDraws.uniform` is one uniform number from a hash of the key, with no generator,
  for the frequent yes/no decision (is this admission offered to the ward?);
* :meth:`EventDraws.generator` is a counter-based generator (Philox) started at a point of its
  counter set by a hash of the key, 2^128 draws from any other key's start, for the rarer events
  that need more (a length of stay). One generator is reused, so a call is cheap; a caller must take
  what it needs before the next call.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from fundsim.sim.streams import RandomStreams, purpose_key

_MASK64 = (1 << 64) - 1
#: The stream entity of keyed draws: above any locality index a purpose's own streams use.
EVENTS_ENTITY = 2**32


_DOUBLE, _UINT64 = struct.Struct("<d"), struct.Struct("<Q")


def float_key(x: float) -> int:
    """A float's bits as a non-negative integer: part of a key that is unique to the value."""
    # The IEEE 754 bits through struct (the same bits as numpy's float64 view, without a numpy scalar).
    return _UINT64.unpack(_DOUBLE.pack(x))[0]


def _mix64(x: int) -> int:
    """SplitMix64's finaliser: a stable 64-bit hash step (Python's own hash is salted per process)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _hash(key: tuple[int, ...], salt: int) -> int:
    return _extend(_mix64(salt), key)


def _extend(h: int, parts: tuple[int, ...]) -> int:
    """The hash state ``h`` after ``parts`` more parts of a key (so a key's common start is hashed once)."""
    for part in parts:
        h = _mix64(h ^ (part & _MASK64))
    return h


class EventDraws:
    """Draws for events named by integer keys, for one purpose of one replication."""

    def __init__(self, streams: RandomStreams, purpose: str) -> None:
        seq = np.random.SeedSequence(
            entropy=streams.seed, spawn_key=(streams.replication, purpose_key(purpose), EVENTS_ENTITY)
        )
        words = [int(w) for w in seq.generate_state(4, np.uint64)]
        self._key = np.array(words[:2], dtype=np.uint64)
        self._salts = (words[2], words[3], words[3] ^ 0x5851F42D4C957F2D)
        self._mix_salts = tuple(_mix64(salt) for salt in self._salts)
        self._bitgen = np.random.Philox(key=self._key)
        self._rng = np.random.Generator(self._bitgen)
        # One state, its counter rewritten for each event (the setter copies the numbers in).
        self._counter = np.zeros(4, dtype=np.uint64)
        self._state: Any = {  # numpy's state TypedDict, built once
            "bit_generator": "Philox",
            "state": {"counter": self._counter, "key": self._key},
            "buffer": np.zeros(4, dtype=np.uint64),
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }

    @property
    def philox_key(self) -> tuple[int, int]:
        """The Philox key of :meth:`generator` (for the compiled draws, :mod:`fundsim.sim.keyed_draws_compiled`)."""
        return int(self._key[0]), int(self._key[1])

    def uniform(self, key: tuple[int, ...]) -> float:
        """One uniform number in [0, 1) for event ``key``."""
        return (_hash(key, self._salts[0]) >> 11) * 2.0**-53

    def uniform_prefix(self, start: tuple[int, ...]) -> int:
        """The hash state of keys beginning with ``start``, for :meth:`uniform_after` (hashed once, reused)."""
        return _extend(self._mix_salts[0], start)

    def uniform_after(self, prefix: int, rest: tuple[int, ...]) -> float:
        """:meth:`uniform` of the key ``start + rest``, from ``prefix = uniform_prefix(start)``: the same number."""
        return (_extend(prefix, rest) >> 11) * 2.0**-53

    def generator(self, key: tuple[int, ...]) -> np.random.Generator:
        """The generator of event ``key``, at its start (valid until the next call)."""
        return self.generator_after(self.generator_prefix(()), key)

    def generator_prefix(self, start: tuple[int, ...]) -> tuple[int, int]:
        """The hash states of keys beginning with ``start``, for :meth:`generator_after`."""
        return _extend(self._mix_salts[1], start), _extend(self._mix_salts[2], start)

    def generator_after(self, prefix: tuple[int, int], rest: tuple[int, ...]) -> np.random.Generator:
        """:meth:`generator` of the key ``start + rest``, from ``prefix = generator_prefix(start)``: the same draws."""
        self._counter[2] = _extend(prefix[0], rest)
        self._counter[3] = _extend(prefix[1], rest)
        self._bitgen.state = self._state
        return self._rng


__all__ = ["EVENTS_ENTITY", "EventDraws", "float_key"]
