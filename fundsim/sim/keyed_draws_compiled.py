"""Keyed draws inside compiled loops: numpy's Philox and samplers over a plain state array, bit for bit.

:meth:`fundsim.sim.event_draws.EventDraws.generator_after` starts a Philox generator at a counter
set by a hash of an event's key, and :func:`fundsim.sim.sampling.sample` draws from it with numpy's
samplers. A compiled loop that meets such an event would otherwise stop and ask Python for the
draws (about a thousand times a run for the virtual ward). Here the same generator and the same
samplers run inside the loop:

* Philox4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), with
  numpy's buffering: the counter is incremented, then the block of four 64-bit words is produced
  and given out in order;
* numpy's ``next_double`` (the top 53 bits), its ziggurat normal and exponential samplers (the
  tables are numba's copies of numpy's, imported, not written out here), its gamma (Marsaglia and
  Tsang for shape above one; Johnk's method below), and its lognormal and exponential.

The algorithms follow ``numpy/random/src/distributions/distributions.c`` step for step, with the
same floating-point operations in the same order, so the numbers are numpy's to the last bit;
``tests/test_keyed_draws.py`` compares millions of draws with numpy's own, tails included.

The state is a uint64 array of :data:`STATE_SIZE`: the counter (4 words), the key (2), the
buffered block (4) and the position in it. Imported only when numba is installed.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random import _constants as _zig  # numpy's ziggurat tables, as numba ships them

from fundsim.sim.sampling import EXPONENTIAL, GAMMA, LOGNORMAL

#: Entries of the state: counter, key, buffer, position in the buffer.
_CTR, _KEY, _BUF, _POS = 0, 4, 6, 10
STATE_SIZE = 11
_M0, _M1 = np.uint64(0xD2E7470EE14C6C93), np.uint64(0xCA5A826395121157)  # Philox4x64 multipliers
_W0, _W1 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBB67AE8584CAA73B)  # its key schedule (Weyl) constants
_LOW32 = np.uint64(0xFFFFFFFF)
_U0, _U1, _U3, _U8, _U11, _U32 = (np.uint64(v) for v in (0, 1, 3, 8, 11, 32))
_U52 = np.uint64(0x000FFFFFFFFFFFFF)
_UFF = np.uint64(0xFF)

_KI, _WI, _FI = _zig.ki_double.copy(), _zig.wi_double.copy(), _zig.fi_double.copy()
_KE, _WE, _FE = _zig.ke_double.copy(), _zig.we_double.copy(), _zig.fe_double.copy()
_NOR_R, _NOR_INV_R, _EXP_R = float(_zig.ziggurat_nor_r), float(_zig.ziggurat_nor_inv_r), float(_zig.ziggurat_exp_r)


@njit(cache=True, nogil=True)
def _mulhilo(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:  # pragma: no cover - compiled
    """The high and low words of the 128-bit product ``a * b`` (from 32-bit halves: numba has no 128-bit type)."""
    a_lo, a_hi = a & _LOW32, a >> _U32
    b_lo, b_hi = b & _LOW32, b >> _U32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _LOW32) + (p2 & _LOW32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32), a * b


@njit(cache=True, nogil=True)
def _refill(st: np.ndarray) -> None:  # pragma: no cover - compiled
    """Increment the counter (with carry) and put the next block of four words into the buffer."""
    st[_CTR] += _U1
    i = 0
    while st[_CTR + i] == _U0 and i < 3:  # carry into the next word
        st[_CTR + i + 1] += _U1
        i += 1
    c0, c1, c2, c3 = st[_CTR], st[_CTR + 1], st[_CTR + 2], st[_CTR + 3]
    k0, k1 = st[_KEY], st[_KEY + 1]
    for r in range(10):
        if r > 0:
            k0 += _W0
            k1 += _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    st[_BUF], st[_BUF + 1], st[_BUF + 2], st[_BUF + 3] = c0, c1, c2, c3
    st[_POS] = _U0


def new_state(key: tuple[int, int]) -> np.ndarray:
    """A generator's state with Philox key ``key`` (two 64-bit words); :func:`start` sets its counter."""
    st = np.zeros(STATE_SIZE, dtype=np.uint64)
    st[_KEY], st[_KEY + 1] = key
    st[_POS] = 4
    return st


@njit(cache=True, nogil=True)
def start(st: np.ndarray, c2: np.uint64, c3: np.uint64) -> None:  # pragma: no cover - compiled
    """Set ``st`` to the generator ``EventDraws.generator_after`` makes: counter (0, 0, c2, c3), buffer used up."""
    st[_CTR], st[_CTR + 1], st[_CTR + 2], st[_CTR + 3] = _U0, _U0, c2, c3
    st[_POS] = np.uint64(4)


@njit(cache=True, nogil=True)
def next_uint64(st: np.ndarray) -> np.uint64:  # pragma: no cover - compiled
    """The next 64-bit word (numpy's ``philox_next64``)."""
    if st[_POS] >= np.uint64(4):
        _refill(st)
    pos = st[_POS]
    st[_POS] = pos + _U1
    return st[_BUF + np.int64(pos)]


@njit(cache=True, nogil=True)
def next_double(st: np.ndarray) -> float:  # pragma: no cover - compiled
    """A uniform in [0, 1) from the top 53 bits of the next word (numpy's ``next_double``)."""
    return float(next_uint64(st) >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def standard_normal(st: np.ndarray) -> float:  # pragma: no cover - compiled
    """The ziggurat standard normal of numpy (``random_standard_normal``)."""
    while True:
        r = next_uint64(st)
        idx = np.int64(r & _UFF)
        r >>= _U8
        sign = r & _U1
        rabs = (r >> _U1) & _U52
        x = float(rabs) * _WI[idx]
        if sign & _U1:
            x = -x
        if rabs < _KI[idx]:
            return x
        if idx == 0:  # the tail beyond the base strip
            while True:
                xx = -_NOR_INV_R * np.log1p(-next_double(st))
                yy = -np.log1p(-next_double(st))
                if yy + yy > xx * xx:
                    return -(_NOR_R + xx) if (rabs >> _U8) & _U1 else _NOR_R + xx
        elif (_FI[idx - 1] - _FI[idx]) * next_double(st) + _FI[idx] < np.exp(-0.5 * x * x):
            return x


@njit(cache=True, nogil=True)
def standard_exponential(st: np.ndarray) -> float:  # pragma: no cover - compiled
    """The ziggurat standard exponential of numpy (``random_standard_exponential``)."""
    while True:
        ri = next_uint64(st) >> _U3
        idx = np.int64(ri & _UFF)
        ri >>= _U8
        x = float(ri) * _WE[idx]
        if ri < _KE[idx]:
            return x
        if idx == 0:
            return _EXP_R - np.log1p(-next_double(st))
        if (_FE[idx - 1] - _FE[idx]) * next_double(st) + _FE[idx] < np.exp(-x):
            return x


@njit(cache=True, nogil=True)
def standard_gamma(st: np.ndarray, shape: float) -> float:  # pragma: no cover - compiled
    """The standard gamma of numpy (``random_standard_gamma``)."""
    if shape == 1.0:
        return standard_exponential(st)
    if shape == 0.0:
        return 0.0
    if shape < 1.0:
        while True:
            u = next_double(st)
            v = standard_exponential(st)
            if u <= 1.0 - shape:
                x = u ** (1.0 / shape)
                if x <= v:
                    return x
            else:
                y = -np.log((1.0 - u) / shape)
                x = (1.0 - shape + shape * y) ** (1.0 / shape)
                if x <= v + y:
                    return x
    b = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * b)
    while True:
        while True:
            x = standard_normal(st)
            v = 1.0 + c * x
            if v > 0.0:
                break
        v = v * v * v
        u = next_double(st)
        if u < 1.0 - 0.0331 * (x * x) * (x * x):
            return b * v
        if np.log(u) < 0.5 * x * x + b * (1.0 - v + np.log(v)):
            return b * v


@njit(cache=True, nogil=True)
def sample_one(st: np.ndarray, code: int, a: float, b: float) -> float:  # pragma: no cover - compiled
    """One draw of ``sample(dist, rng, 1)`` from ``(code, a, b) = fundsim.sim.sampling.parameters(dist)``."""
    if code == EXPONENTIAL:
        return a * standard_exponential(st)
    if code == GAMMA:
        return b * standard_gamma(st, a)
    if code == LOGNORMAL:
        return np.exp(a + b * standard_normal(st))
    return a


__all__ = [
    "STATE_SIZE",
    "new_state",
    "next_double",
    "next_uint64",
    "sample_one",
    "standard_exponential",
    "standard_gamma",
    "standard_normal",
    "start",
]
