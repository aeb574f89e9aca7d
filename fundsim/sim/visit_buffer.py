"""The visit-duration buffer: every live person's remaining visits' face-to-face and travel minutes.

Durations are drawn at referral for the whole episode (so draws stay common across runs) and kept
in two flat arrays; a person's visits are ``[visit_offset, visit_offset + n_visits)`` of them.
Without compaction the buffer would grow with every referral over the horizon; rebuilt monthly
(:meth:`VisitBuffer.compact`), it holds what the live caseload still needs, so memory follows the
caseload, not the horizon.
"""

from __future__ import annotations

import numpy as np

from fundsim.sim.patients import FREE, PatientTable

#: Smallest allocation of each array (entries).
MIN_SIZE = 4096


class VisitBuffer:
    """Face-to-face and travel minutes of the visits of the people on the lists."""

    def __init__(self) -> None:
        self.f2f_minutes = np.empty(MIN_SIZE)
        self.travel_minutes = np.empty(MIN_SIZE)
        self.used = 0

    def store(self, f2f: np.ndarray, travel: np.ndarray) -> int:
        """Append visits' minutes; return the position of the first."""
        start = self.reserve(len(f2f))
        self.f2f_minutes[start : self.used] = f2f
        self.travel_minutes[start : self.used] = travel
        return start

    def reserve(self, n: int) -> int:
        """Make room for ``n`` more visits and count them as used; return the position of the first.

        For a caller that writes the minutes itself (the compiled arrivals, :mod:`fundsim.sim.service_compiled`).
        """
        need = self.used + n
        if need > len(self.f2f_minutes):
            # Only the used entries move (np.resize would also fill the rest with repeats, ten times slower).
            size = max(2 * len(self.f2f_minutes), need)
            self.f2f_minutes = _grown(self.f2f_minutes, self.used, size)
            self.travel_minutes = _grown(self.travel_minutes, self.used, size)
        start = self.used
        self.used = need
        return start

    def compact(self, people: PatientTable) -> None:
        """Keep only the durations that live people still need, and move their ``visit_offset`` to match."""
        c = people.cols
        live = np.flatnonzero(c["stage"] != FREE)
        done = c["visits_done"][live]
        left = np.maximum(c["n_visits"][live] - done, 0)
        total = int(left.sum())
        new_starts = np.cumsum(left) - left
        idx = np.repeat(c["visit_offset"][live] + done - new_starts, left) + np.arange(total)
        size = max(MIN_SIZE, 2 * total)
        f2f = np.empty(size)
        travel = np.empty(size)
        f2f[:total] = self.f2f_minutes[idx]
        travel[:total] = self.travel_minutes[idx]
        self.f2f_minutes, self.travel_minutes, self.used = f2f, travel, total
        c["visit_offset"][live] = new_starts - done

    def nbytes(self) -> int:
        """Bytes held."""
        return self.f2f_minutes.nbytes + self.travel_minutes.nbytes


def _grown(values: np.ndarray, used: int, size: int) -> np.ndarray:
    """A new array of ``size`` entries whose first ``used`` are those of ``values``."""
    out = np.empty(size)
    out[:used] = values[:used]
    return out


__all__ = ["VisitBuffer"]
