"""Figures of a sweep: a tornado chart of sensitivity indices, and a scatter per parameter.

Pure functions of tidy tables (``sensitivity.csv`` and ``outputs.csv`` of a sweep folder) that
return matplotlib figures; writing them is :mod:`fundsim.report.export`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fundsim.report.style import plain_text
from fundsim.report.sweep_labels import INDEX_LABELS

#: The index a tornado shows for each method (the one that ranks parameters).
MAIN_INDEX = {"sobol": "ST", "morris": "mu_star", "prcc": "PRCC"}


def tornado_figure(sensitivity: pd.DataFrame, output: str) -> Figure:
    """Bars of each parameter's main index for ``output``, largest at the top, with 95% whiskers.

    For Sobol designs the first-order index S1 is drawn inside the total-order ST.
    """
    rows = sensitivity[sensitivity["output"] == output]
    method = rows["method"].iloc[0]
    main = rows[rows["index"] == MAIN_INDEX[method]].copy()
    main = main.reindex(main["value"].abs().sort_values(ascending=True).index)
    fig = Figure(figsize=(7.5, 0.45 * len(main) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(main))
    colours = np.where(main["value"] >= 0, "#0072B2", "#D55E00")
    err = np.vstack([main["value"] - main["ci_low"], main["ci_high"] - main["value"]])
    err = np.where(np.isfinite(err), np.abs(err), 0.0)
    ax.barh(
        y, main["value"], color=colours, xerr=err, capsize=3, ecolor="#333", label=INDEX_LABELS.get(MAIN_INDEX[method])
    )
    if method == "sobol":
        s1 = rows[rows["index"] == "S1"].set_index("parameter").reindex(main["parameter"])
        ax.barh(y, s1["value"], height=0.35, color="#E69F00", label=INDEX_LABELS["S1"])
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(y, [plain_text(p) for p in main["parameter"]])
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel(INDEX_LABELS.get(MAIN_INDEX[method], MAIN_INDEX[method]))
    ax.set_title(plain_text(output), fontsize=10, loc="left")
    return fig


def scatter_figure(outputs: pd.DataFrame, parameters: Sequence[str], output: str) -> Figure:
    """``output`` (one dot per point: the replication mean) against each parameter's value."""
    n = len(parameters)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(3.3 * ncols, 2.8 * nrows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True)).ravel()
    y = outputs[output]
    for ax, parameter in zip(axes, parameters, strict=False):
        x = outputs[parameter]
        numeric = pd.api.types.is_numeric_dtype(x)
        xs = x if numeric else x.astype("category").cat.codes
        ax.scatter(xs, y, s=14, color="#0072B2", alpha=0.8)
        if not numeric:
            cats = x.astype("category").cat.categories
            ax.set_xticks(range(len(cats)), [plain_text(c) for c in cats])
        ax.set_xlabel(plain_text(parameter), fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].set_ylabel(plain_text(output), fontsize=8)
    fig.suptitle(plain_text(f"{output} at each point of the design"), fontsize=10)
    return fig
