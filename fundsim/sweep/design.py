"""Designs: where in parameter space a sweep runs.

Every design first places points in the unit hypercube, then maps each coordinate through its
parameter's inverse distribution function, so every design serves every distribution:

- ``grid``: ``points`` evenly spaced levels per parameter (cell midpoints), all combinations;
- ``lhs``: a Latin hypercube of ``points`` points (``scipy.stats.qmc.LatinHypercube``, seeded);
- ``sobol``: Saltelli's scheme for Sobol indices (``SALib.sample.sobol``, first and total order),
  ``points × (D + 2)`` points;
- ``morris``: ``points`` Morris trajectories (``SALib.sample.morris``), ``points × (D + 1)`` points.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.sweep.spec import Parameter, SweepSpec

#: Keep unit coordinates strictly inside (0, 1) so unbounded inverse CDFs stay finite.
_EPS = 1e-12


def salib_problem(spec: SweepSpec) -> dict:
    """The SALib problem: every parameter on the unit interval (mapped to its distribution after)."""
    return {
        "num_vars": len(spec.parameters),
        "names": [p.path for p in spec.parameters],
        "bounds": [[0.0, 1.0]] * len(spec.parameters),
    }


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The design's points in the unit hypercube, shape (n_points, n_parameters)."""
    d = len(spec.parameters)
    if spec.design == "grid":
        levels = (np.arange(spec.points) + 0.5) / spec.points
        return np.array(list(itertools.product(levels, repeat=d)), dtype=float)
    if spec.design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(spec.seed)).random(spec.points)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(salib_problem(spec), spec.points, calc_second_order=False, seed=spec.seed)
    from SALib.sample import morris

    return morris.sample(salib_problem(spec), spec.points, num_levels=spec.morris_levels, seed=spec.seed)


def to_value(parameter: Parameter, u: np.ndarray) -> np.ndarray | list:
    """Map unit coordinates ``u`` to the parameter's values (its inverse distribution function)."""
    u = np.clip(np.asarray(u, dtype=float), _EPS, 1.0 - _EPS)
    # Exactly one distribution is given (Parameter checks it), in the order of Parameter.kind.
    bounds = parameter.uniform or parameter.range
    if bounds is not None:
        low, high = bounds
        return low + u * (high - low)
    if parameter.triangular is not None:
        low, mode, high = parameter.triangular
        return stats.triang.ppf(u, (mode - low) / (high - low), loc=low, scale=high - low)
    if parameter.normal is not None:
        mean, sd = parameter.normal
        return stats.norm.ppf(u, loc=mean, scale=sd)
    if parameter.lognormal is not None:
        median, sigma = parameter.lognormal
        return stats.lognorm.ppf(u, sigma, scale=median)
    values = parameter.values or []
    return [values[i] for i in np.minimum((u * len(values)).astype(int), len(values) - 1)]


def design_table(spec: SweepSpec) -> pd.DataFrame:
    """One row per point: ``point`` and every parameter's value (columns named by path)."""
    unit = unit_design(spec)
    table = pd.DataFrame({"point": np.arange(len(unit), dtype=np.int64)})
    for j, parameter in enumerate(spec.parameters):
        table[parameter.path] = to_value(parameter, unit[:, j])
    return table
