"""Designs: where in parameter space a sweep runs.

Every design first places points in the unit hypercube, then maps each coordinate through its
parameter's inverse distribution function, so every design serves every distribution (a grid's explicit
``levels:`` are taken as they are):

- ``grid``: levels per parameter, all combinations (:func:`grid_levels` says exactly where);
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


def grid_unit_levels(parameter: Parameter, points: int, placement: str = "endpoints") -> np.ndarray:
    """Where a grid puts ``parameter``'s levels on its unit (quantile) scale.

    - ``endpoints`` (the default) on a bounded distribution (uniform, triangular): ``points``
      evenly spaced quantiles ``i / (points − 1)``, so the lowest and highest values are run
      (uniform [0, 0.09], 3 levels: 0, 0.045, 0.09);
    - ``endpoints`` on a ``values`` list: each value once, in order;
    - ``midpoints``, and any unbounded distribution (normal, lognormal, whose ends are infinite):
      the centres ``(i + ½) / points`` of ``points`` equal cells (uniform [0, 0.09], 3 levels:
      0.015, 0.045, 0.075).
    """
    if placement == "endpoints" and parameter.values is not None:
        k = len(parameter.values)
        return (np.arange(k) + 0.5) / k  # the centre of each value's cell: exactly that value
    if placement == "endpoints" and parameter.bounded:
        return np.linspace(0.0, 1.0, points)
    return (np.arange(points) + 0.5) / points


def grid_levels(spec: SweepSpec) -> list[list]:
    """Each parameter's grid levels as values (explicit ``levels:`` as given)."""
    out = []
    for parameter in spec.parameters:
        if parameter.levels is not None:
            out.append(list(parameter.levels))
            continue
        unit = grid_unit_levels(parameter, spec.points, spec.grid_placement)
        values = to_value(parameter, unit, exact_ends=spec.grid_placement == "endpoints")
        out.append(list(values))
    return out


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The design's points in the unit hypercube, shape (n_points, n_parameters).

    Not for grids with explicit ``levels:`` (they have no unit scale); :func:`design_table` handles grids.
    """
    d = len(spec.parameters)
    if spec.design == "grid":
        axes = [grid_unit_levels(p, spec.points, spec.grid_placement) for p in spec.parameters]
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, d)
    if spec.design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d=d, seed=np.random.default_rng(spec.seed)).random(spec.points)
    if spec.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(salib_problem(spec), spec.points, calc_second_order=False, seed=spec.seed)
    from SALib.sample import morris

    return morris.sample(salib_problem(spec), spec.points, num_levels=spec.morris_levels, seed=spec.seed)


def to_value(parameter: Parameter, u: np.ndarray, *, exact_ends: bool = False) -> np.ndarray | list:
    """Map unit coordinates ``u`` to the parameter's values (its inverse distribution function)."""
    # A grid's ends are a bounded range's very ends (``exact_ends``); the sampling designs keep
    # their coordinates 1e-12 inside (0, 1), as they always have, so their designs do not change.
    eps = 0.0 if exact_ends and parameter.bounded else _EPS
    u = np.clip(np.asarray(u, dtype=float), eps, 1.0 - eps)
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
    if parameter.levels is not None:
        raise ValueError(f"{parameter.path}: explicit levels have no distribution to sample (grid designs only)")
    values = parameter.values or []
    return [values[i] for i in np.minimum((u * len(values)).astype(int), len(values) - 1)]


def design_table(spec: SweepSpec) -> pd.DataFrame:
    """One row per point: ``point`` and every parameter's value (columns named by path)."""
    if spec.design == "grid":
        rows = list(itertools.product(*grid_levels(spec)))
        table = pd.DataFrame({"point": np.arange(len(rows), dtype=np.int64)})
        for j, parameter in enumerate(spec.parameters):
            column = [row[j] for row in rows]
            table[parameter.path] = column if parameter.values or parameter.levels else np.asarray(column, float)
        return table
    unit = unit_design(spec)
    table = pd.DataFrame({"point": np.arange(len(unit), dtype=np.int64)})
    for j, parameter in enumerate(spec.parameters):
        table[parameter.path] = to_value(parameter, unit[:, j])
    return table
