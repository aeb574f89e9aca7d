"""A smoother of a response against one parameter, so a U-shape shows where a rank correlation hides it.

- Few distinct values (a grid, a ``values`` list; at most :data:`MAX_LEVELS`): the mean of the
  points at each value, with a Student-t 95% interval over the points there;
- otherwise a local-linear smoother (Cleveland's LOWESS without its robustness steps; Fan &
  Gijbels 1996, *Local Polynomial Modelling*, ch. 2): at each of :data:`GRID` evaluation points a
  straight line is fitted by weighted least squares to the nearest ``span`` share of the points,
  with tricube weights. Its pointwise 95% band is ŷ ± 1.96 σ̂ ‖ℓ(x)‖, where ℓ(x) are the fit's
  weights on the data and σ̂² = RSS / (n − tr L) (the residual variance of the fit at the data);
  it covers the noise, not the smoothing bias (about ½ m''(x) h² · 0.144 for tricube weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Up to this many distinct parameter values, the smoother is the mean at each value.
MAX_LEVELS = 12
#: Evaluation points of the local-linear smoother.
GRID = 60
#: Share of the points in each local fit (at least :data:`MIN_NEIGHBOURS`).
SPAN = 0.4
MIN_NEIGHBOURS = 8
LEVEL = 0.95


@dataclass(frozen=True)
class Smooth:
    """The smoothed response: at ``x``, the estimate ``y`` and its pointwise band ``low``–``high``."""

    x: np.ndarray
    y: np.ndarray
    low: np.ndarray
    high: np.ndarray
    method: str  # "level means" or "local linear"


def _weights(x: np.ndarray, x0: float, k: int) -> np.ndarray:
    distance = np.abs(x - x0)
    h = np.partition(distance, k - 1)[k - 1]
    h = h if h > 0 else 1.0
    u = np.clip(distance / (h * 1.0001), 0.0, 1.0)  # the k-th neighbour keeps a small weight
    return (1 - u**3) ** 3


def _local_linear_row(x: np.ndarray, x0: float, k: int) -> np.ndarray:
    """The weights ℓ with ŷ(x0) = ℓ · y of a weighted straight-line fit around ``x0``."""
    w = _weights(x, x0, k)
    design = np.column_stack([np.ones_like(x), x - x0])
    gram = design.T @ (design * w[:, None])
    # A local window with one distinct x (ties) has no slope: fall back to the weighted mean.
    if abs(np.linalg.det(gram)) < 1e-12 * max(1.0, float(np.trace(gram)) ** 2):
        return w / w.sum()
    return (np.linalg.solve(gram, (design * w[:, None]).T))[0]


def smooth(x: np.ndarray, y: np.ndarray, span: float = SPAN) -> Smooth:
    """Smooth ``y`` against ``x`` (NaNs dropped); see the module's docstring for the method."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    levels = np.unique(x)
    if len(levels) == 0:
        empty = np.array([])
        return Smooth(empty, empty, empty, empty, "level means")
    if len(levels) <= MAX_LEVELS or len(x) < MIN_NEIGHBOURS:
        means, lows, highs = [], [], []
        for level in levels:
            at = y[x == level]
            m = float(at.mean())
            if len(at) >= 2:
                half = float(stats.t.ppf(0.5 + LEVEL / 2, len(at) - 1) * at.std(ddof=1) / np.sqrt(len(at)))
            else:
                half = np.nan
            means.append(m)
            lows.append(m - half)
            highs.append(m + half)
        return Smooth(levels, np.array(means), np.array(lows), np.array(highs), "level means")
    n = len(x)
    k = min(n, max(MIN_NEIGHBOURS, int(np.ceil(span * n))))
    at_data = np.array([_local_linear_row(x, xi, k) for xi in x])
    fitted = at_data @ y
    dof = max(n - float(np.trace(at_data)), 1.0)
    sigma = np.sqrt(float(((y - fitted) ** 2).sum()) / dof)
    grid = np.linspace(levels[0], levels[-1], GRID)
    rows = np.array([_local_linear_row(x, g, k) for g in grid])
    estimate = rows @ y
    half = stats.norm.ppf(0.5 + LEVEL / 2) * sigma * np.sqrt((rows**2).sum(axis=1))
    return Smooth(grid, estimate, estimate - half, estimate + half, "local linear")
