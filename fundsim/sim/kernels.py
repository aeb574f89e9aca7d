"""Which implementation of the compiled-ready steps runs: the pure Python/numpy one, or numba's.

Some steps of the day have a second, compiled implementation that does the same floating-point
operations in the same order: the allocation (:mod:`fundsim.sim.allocation_compiled`), the accounts'
busiest additions (:mod:`fundsim.sim.accounts_compiled`), the hazard-path walks
(:mod:`fundsim.sim.hazard_compiled`), the virtual ward's night (:mod:`fundsim.sim.ward_night_compiled`
and, with the caseload's events and their keyed draws, :mod:`fundsim.sim.ward_overnight_compiled` and
:mod:`fundsim.sim.keyed_draws_compiled`), the add-ons' queue and
shared minutes (:mod:`fundsim.sim.addons_compiled`),
the work sources' collection (:mod:`fundsim.sim.work_compiled`) and the per-person steps of the day:
arrival, assessment, visit, deferral, discharge, overnight admission, the end of a raised hazard
and staff time (:mod:`fundsim.sim.service_compiled`). A run gives **bit-identical** numbers on
either path (``tests/test_kernels.py`` checks it on recorded days and on whole runs of the shipped
scenarios). The compiled path needs
numba (``pip install 'fundsim[fast]'``); without it the pure path runs.

The choice is ``FUNDSIM_KERNEL`` in the environment, read when a simulation starts:

* ``auto`` (the default): compiled when numba imports, else pure;
* ``pure``: always the pure path;
* ``compiled``: numba's, and a clear error if numba is missing.
"""

from __future__ import annotations

import os
from functools import cache

#: The environment variable that picks the implementation.
ENV_VAR = "FUNDSIM_KERNEL"
CHOICES = ("auto", "pure", "compiled")


@cache
def numba_available() -> bool:
    """Whether numba imports here (cached: importing it costs a few tenths of a second)."""
    try:
        import numba  # noqa: F401
    except Exception:  # an absent or a broken install (llvmlite) alike: the pure path runs
        return False
    return True


def kernel_choice() -> str:
    """The implementation a simulation started now uses: ``"pure"`` or ``"compiled"``.

    Raises ``ValueError`` (naming the variable and what is allowed) for an unknown value, or for
    ``compiled`` without numba.
    """
    wanted = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if wanted not in CHOICES:
        raise ValueError(f"{ENV_VAR}={wanted!r} is not one of {', '.join(CHOICES)}")
    if wanted == "pure":
        return "pure"
    if numba_available():
        return "compiled"
    if wanted == "compiled":
        raise ValueError(
            f"{ENV_VAR}=compiled needs numba, which is not installed: pip install 'fundsim[fast]' "
            f"(or set {ENV_VAR}=pure)"
        )
    return "pure"


__all__ = ["CHOICES", "ENV_VAR", "kernel_choice", "numba_available"]
