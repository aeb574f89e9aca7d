"""Random streams for common random numbers.

Every random quantity is drawn from a stream keyed by (scenario seed, replication, purpose,
entity), built with :class:`numpy.random.SeedSequence`. Streams never share state, so an extra
draw in one purpose (say, a roster) cannot shift the draws of another (say, referral times):
the same person gets the same referral time, tier, care plan, visit durations and
deterioration draws under every contract and every staffing level.
"""

from __future__ import annotations

import zlib

import numpy as np

#: The purposes fundsim draws for. Adding one is safe; renaming one changes its numbers.
PURPOSES = (
    "arrivals",
    "patients",
    "visits",
    "deterioration",
    "roster",
    "hospital",
    "initial_state",
    "urgent_response",
    "virtual_ward",
)


def purpose_key(purpose: str) -> int:
    """A stable integer for a purpose name (CRC-32, independent of Python's hash seed)."""
    if purpose not in PURPOSES:
        raise KeyError(f"unknown random-stream purpose {purpose!r}; known: {PURPOSES}")
    return zlib.crc32(purpose.encode("utf-8"))


class RandomStreams:
    """Factory of independent generators for one replication of one scenario."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def stream(self, purpose: str, entity: int = 0) -> np.random.Generator:
        """The generator for ``purpose`` and ``entity`` (e.g. a locality index)."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(self.replication, purpose_key(purpose), int(entity)))
        return np.random.Generator(np.random.PCG64(seq))
