"""Which assumptions matter most: sensitivity indices of a sweep's outputs.

- ``sobol`` designs: first-order (S1) and total (ST) Sobol indices with bootstrap confidence
  intervals (``SALib.analyze.sobol``, Saltelli/Jansen estimators);
- ``morris`` designs: the elementary-effects screening measures μ* (with its bootstrap interval), μ
  and σ (``SALib.analyze.morris``), on the unit scale of each parameter's distribution;
- ``lhs`` and ``grid`` designs: partial rank correlation coefficients (PRCC; Marino et al. 2008,
  J Theor Biol 254:178) with Fisher-z confidence intervals.

Each output is first reduced to one number per point: the mean over replications of a measure
under a contract, or of its paired difference between two contracts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from fundsim.sweep.design import salib_problem, unit_design
from fundsim.sweep.spec import Output, SweepSpec

#: Confidence level of every interval.
LEVEL = 0.95
#: Bootstrap resamples for Sobol and Morris intervals.
RESAMPLES = 1000


def output_values(results: pd.DataFrame, output: Output, n_points: int) -> np.ndarray:
    """One value per point (NaN where a point has no complete result): the replication mean."""
    if results.empty:
        return np.full(n_points, np.nan)

    def series(contract: str) -> pd.Series:
        rows = results[results["contract"] == contract]
        return rows.set_index(["point", "replication"])[output.measure]

    values = series(output.contract)
    if output.minus:
        values = values - series(output.minus)  # aligned on (point, replication): paired
    per_point = values.groupby(level="point").mean()
    return per_point.reindex(range(n_points)).to_numpy(dtype=float)


def output_table(results: pd.DataFrame, spec: SweepSpec, design: pd.DataFrame) -> pd.DataFrame:
    """The design with one column per output (replication means)."""
    table = design.copy()
    for output in spec.outputs:
        table[output.label] = output_values(results, output, len(design))
    return table


def sobol_indices(spec: SweepSpec, y: np.ndarray) -> pd.DataFrame:
    """S1 and ST with confidence intervals for outputs ``y`` in the design's order."""
    from SALib.analyze import sobol

    res = sobol.analyze(
        salib_problem(spec),
        np.asarray(y, dtype=float),
        calc_second_order=False,
        num_resamples=RESAMPLES,
        conf_level=LEVEL,
        seed=spec.seed,
    )
    rows = []
    for j, p in enumerate(spec.parameters):
        for index in ("S1", "ST"):
            v, half = float(res[index][j]), float(res[f"{index}_conf"][j])
            rows.append({"parameter": p.path, "method": "sobol", "index": index, "value": v,
                         "ci_low": v - half, "ci_high": v + half})  # fmt: skip
    return pd.DataFrame(rows)


def morris_indices(spec: SweepSpec, y: np.ndarray) -> pd.DataFrame:
    """μ* (with its interval), μ and σ of the elementary effects, on the unit scale."""
    from SALib.analyze import morris

    res = morris.analyze(
        salib_problem(spec),
        unit_design(spec),
        np.asarray(y, dtype=float),
        num_resamples=RESAMPLES,
        conf_level=LEVEL,
        num_levels=spec.morris_levels,
        seed=spec.seed,
    )
    rows = []
    for j, p in enumerate(spec.parameters):
        mu_star, half = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
        rows.append({"parameter": p.path, "method": "morris", "index": "mu_star", "value": mu_star,
                     "ci_low": mu_star - half, "ci_high": mu_star + half})  # fmt: skip
        for index in ("mu", "sigma"):
            rows.append({"parameter": p.path, "method": "morris", "index": index, "value": float(res[index][j]),
                         "ci_low": np.nan, "ci_high": np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def prcc(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partial rank correlation of each column of ``x`` with ``y``, with Fisher-z intervals.

    Returns (prcc, ci_low, ci_high); NaN where there are too few points for an interval.
    """
    n, d = x.shape
    rx = np.column_stack([stats.rankdata(x[:, j]) for j in range(d)])
    ry = stats.rankdata(y)
    out = np.full(d, np.nan)
    for j in range(d):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((res_x**2).sum() * (res_y**2).sum())
        out[j] = (res_x * res_y).sum() / denom if denom > 0 else np.nan
    dof = n - 3 - (d - 1)  # sample size less the controlled variables
    if dof <= 0:
        return out, np.full(d, np.nan), np.full(d, np.nan)
    z = np.arctanh(np.clip(out, -0.999999, 0.999999))
    half = stats.norm.ppf(0.5 + LEVEL / 2) / np.sqrt(dof)
    return out, np.tanh(z - half), np.tanh(z + half)


def prcc_indices(spec: SweepSpec, design: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """PRCC of every parameter (discrete values are ranked by their position in the list)."""
    columns = []
    for p in spec.parameters:
        col = design[p.path]
        order = p.values if p.values is not None else p.levels
        if order is not None and (p.values is not None or not pd.api.types.is_numeric_dtype(col)):
            col = col.map({v: i for i, v in enumerate(order)})
        columns.append(col.to_numpy(dtype=float))
    r, lo, hi = prcc(np.column_stack(columns), np.asarray(y, dtype=float))
    return pd.DataFrame(
        {"parameter": [p.path for p in spec.parameters], "method": "prcc", "index": "PRCC",
         "value": r, "ci_low": lo, "ci_high": hi}
    )  # fmt: skip


def sensitivity(spec: SweepSpec, outputs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Indices of every output; and notes on outputs that could not be analysed (and why)."""
    frames, notes = [], []
    for output in spec.outputs:
        y = outputs[output.label].to_numpy(dtype=float)
        missing = int(np.isnan(y).sum())
        if spec.design in ("sobol", "morris") and missing:
            notes.append(
                f"{output.label}: {missing} point(s) have no result, so {spec.design} indices are not computed"
            )
            continue
        if spec.design == "sobol":
            table = sobol_indices(spec, y)
        elif spec.design == "morris":
            table = morris_indices(spec, y)
        else:
            ok = ~np.isnan(y)
            if ok.sum() < 3:
                notes.append(f"{output.label}: fewer than 3 points with results")
                continue
            table = prcc_indices(spec, outputs[ok].reset_index(drop=True), y[ok])
        table.insert(0, "output", output.label)
        frames.append(table)
    columns = ["output", "parameter", "method", "index", "value", "ci_low", "ci_high"]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)), notes
