"""Draw positive quantities given by mean and coefficient of variation."""

from __future__ import annotations

import numpy as np

from fundsim.scenario.models import Distribution, VisitCount


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws from ``dist`` (mean and cv are preserved by every family)."""
    if n == 0:
        return np.empty(0)
    mean, cv = dist.mean, dist.cv
    if dist.distribution == "exponential" and mean > 0.0:
        return rng.exponential(mean, n)
    if dist.distribution == "fixed" or cv == 0.0 or mean == 0.0:
        return np.full(n, float(mean))
    if dist.distribution == "gamma":
        shape = 1.0 / cv**2
        return rng.gamma(shape, mean / shape, n)
    sigma2 = np.log1p(cv**2)
    return rng.lognormal(np.log(mean) - sigma2 / 2.0, np.sqrt(sigma2), n)


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
