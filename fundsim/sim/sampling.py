"""Draw positive quantities given by mean and coefficient of variation."""

from __future__ import annotations

import numpy as np

from fundsim.scenario.models import Distribution, VisitCount

#: Sampler codes of :func:`parameters`: how :func:`sample` draws a distribution.
FIXED, EXPONENTIAL, GAMMA, LOGNORMAL = range(4)


def parameters(dist: Distribution) -> tuple[int, float, float]:
    """How :func:`sample` draws ``dist``: (sampler code, first parameter, second parameter).

    Fixed: the value. Exponential: the scale. Gamma: the shape and scale. Lognormal: the
    underlying normal's mean and standard deviation (so mean and cv are preserved). The compiled
    keyed draws (:mod:`fundsim.sim.keyed_draws_compiled`) take the same numbers.
    """
    mean, cv = dist.mean, dist.cv
    if dist.distribution == "exponential" and mean > 0.0:
        return EXPONENTIAL, float(mean), 0.0
    if dist.distribution == "fixed" or cv == 0.0 or mean == 0.0:
        return FIXED, float(mean), 0.0
    if dist.distribution == "gamma":
        shape = 1.0 / cv**2
        return GAMMA, shape, mean / shape
    sigma2 = float(np.log1p(cv**2))
    return LOGNORMAL, float(np.log(mean) - sigma2 / 2.0), float(np.sqrt(sigma2))


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws from ``dist`` (mean and cv are preserved by every family)."""
    if n == 0:
        return np.empty(0)
    code, a, b = parameters(dist)
    if code == EXPONENTIAL:
        return rng.exponential(a, n)
    if code == FIXED:
        return np.full(n, a)
    if code == GAMMA:
        return rng.gamma(a, b, n)
    return rng.lognormal(a, b, n)


def sample_visit_count(spec: VisitCount, rng: np.random.Generator, n: int) -> np.ndarray:
    """Number of follow-up visits for ``n`` new episodes (capped at ``spec.maximum``)."""
    if n == 0 or spec.mean == 0.0:
        return np.zeros(n, dtype=np.int64)
    if spec.distribution == "fixed":
        counts = np.full(n, round(spec.mean), dtype=np.int64)
    elif spec.distribution == "poisson":
        counts = rng.poisson(spec.mean, n)
    else:  # geometric on {0, 1, ...} with the given mean
        counts = rng.geometric(1.0 / (1.0 + spec.mean), n) - 1
    return np.minimum(counts, spec.maximum)
