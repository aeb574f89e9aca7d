"""Figures of a sweep people can read: labels in words with units, £ ticks, a heat map, smoothers.

- :func:`response_figure`: an output against each parameter, one dot per point, with a smoother
  (:func:`fundsim.sweep.smooth.smooth`) and its 95% band, so a U-shape is seen;
- :func:`heatmap_figure`: an output's mean over a pair of parameters: at each level pair for a
  grid, in quantile bins for a sampled design;
- :func:`readable_tornado`: the tornado of :mod:`fundsim.report.sensitivity` with words for names.

Every axis uses the report's formatters (:mod:`fundsim.report.style`): money as ``£18.0m``,
shares as ``4.5%``, other numbers in full; never a ``1e7`` offset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from fundsim.report.sensitivity import MAIN_INDEX, tornado_figure
from fundsim.report.style import axis_number, money, plain_text, share
from fundsim.report.sweep_labels import Label, output_label, parameter_label
from fundsim.sweep.smooth import smooth

#: Most bins a side of a heat map has for a sampled design (fewer when there are few points).
MAX_BINS = 6


def _tick(kind: str):
    """The tick text of a number of ``kind`` (money, share, percent points or a plain number)."""
    if kind == "money":
        return lambda v, _pos=None: money(v)
    if kind == "share":
        return lambda v, _pos=None: share(v, 0 if abs(v * 100 - round(v * 100)) < 1e-9 else 1)
    if kind == "percent":
        return lambda v, _pos=None: axis_number(v) + "%"
    return lambda v, _pos=None: axis_number(v)


def format_axis(axis: Axis, kind: str) -> None:
    """Give ``axis`` the report's number format for ``kind`` (no offset, no scientific notation)."""
    axis.set_major_locator(MaxNLocator(nbins=5))
    axis.set_major_formatter(FuncFormatter(_tick(kind)))


def _numeric(series: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Values to plot and, for text values, their category names (plotted at 0, 1, …)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float), None
    cats = series.astype(str).astype("category")
    return cats.cat.codes.to_numpy(dtype=float), [str(c) for c in cats.cat.categories]


def response_figure(outputs: pd.DataFrame, parameters: Sequence[str], output: str) -> Figure:
    """``output`` against each parameter: dots (one per point) and a smoother with its 95% band."""
    n = len(parameters)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(3.6 * ncols, 3.1 * nrows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True)).ravel()
    y_label = output_label(output)
    y = outputs[output].to_numpy(dtype=float)
    for ax, parameter in zip(axes, parameters, strict=False):
        x, cats = _numeric(outputs[parameter])
        ax.scatter(x, y, s=12, color="#0072B2", alpha=0.55, linewidths=0)
        fit = smooth(x, y)
        if len(fit.x):
            ax.fill_between(fit.x, fit.low, fit.high, color="#D55E00", alpha=0.18, linewidth=0)
            ax.plot(fit.x, fit.y, color="#D55E00", linewidth=1.8, marker="o" if fit.method == "level means" else None,
                    markersize=3.5)  # fmt: skip
        label = parameter_label(parameter)
        if cats is not None:
            ax.set_xticks(range(len(cats)), [plain_text(c) for c in cats])
        else:
            format_axis(ax.xaxis, label.kind)
        ax.set_xlabel(plain_text(label.wrapped(34)), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    format_axis(axes[0].yaxis, y_label.kind)
    for row in range(nrows):
        axes[row * ncols].set_ylabel(plain_text(y_label.wrapped(34)), fontsize=8)
    return fig


def _bins(values: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of each value and the bins' centres: each distinct value of a grid, else quantile bins."""
    levels = np.unique(values[np.isfinite(values)])
    if len(levels) <= 12:
        index = np.searchsorted(levels, values)
        return index, levels
    k = int(np.clip(np.floor(np.sqrt(n_points / 3)), 2, MAX_BINS))
    edges = np.unique(np.quantile(values, np.linspace(0, 1, k + 1)))
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return index, (edges[:-1] + edges[1:]) / 2


def binned_means(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean of ``y`` in each (x1 bin, x2 bin) cell: (centres of x1, centres of x2, means[i2, i1])."""
    ok = np.isfinite(y)
    i1, c1 = _bins(x1, int(ok.sum()))
    i2, c2 = _bins(x2, int(ok.sum()))
    sums = np.zeros((len(c2), len(c1)))
    counts = np.zeros_like(sums)
    np.add.at(sums, (i2[ok], i1[ok]), y[ok])
    np.add.at(counts, (i2[ok], i1[ok]), 1)
    with np.errstate(invalid="ignore"):
        return c1, c2, np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def heatmap_figure(outputs: pd.DataFrame, pair: tuple[str, str], output: str) -> Figure:
    """``output``'s mean over the two parameters of ``pair`` as coloured cells, each cell's value written in it."""
    first, second = pair
    x1, cats1 = _numeric(outputs[first])
    x2, cats2 = _numeric(outputs[second])
    c1, c2, means = binned_means(x1, x2, outputs[output].to_numpy(dtype=float))
    y_label, l1, l2 = output_label(output), parameter_label(first), parameter_label(second)
    fig = Figure(figsize=(7.2, 5.0), layout="constrained")
    ax = fig.subplots()
    mesh = ax.imshow(means, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    tick = _tick(y_label.kind)
    finite = means[np.isfinite(means)]
    middle = (finite.min() + finite.max()) / 2 if len(finite) else 0.0
    if means.size <= 64:
        for (r, c), value in np.ndenumerate(means):
            if np.isfinite(value):
                ax.text(c, r, tick(value), ha="center", va="center", fontsize=7,
                        color="white" if value < middle else "black")  # fmt: skip
    for axis, centres, cats, label, setter in (
        (ax.xaxis, c1, cats1, l1, ax.set_xticks),
        (ax.yaxis, c2, cats2, l2, ax.set_yticks),
    ):
        names = [cats[int(c)] for c in centres] if cats is not None else [_tick(label.kind)(c) for c in centres]
        setter(range(len(centres)), [plain_text(n) for n in names])
        axis.set_label_text(plain_text(label.wrapped(48)), fontsize=8)
    ax.tick_params(labelsize=7)
    flat = len(finite) > 0 and finite.min() == finite.max()
    if flat:  # one value everywhere: a colour scale of width zero would repeat its tick at every step
        mesh.set_clim(finite.min() - 1, finite.max() + 1)
    bar = fig.colorbar(mesh, ax=ax, shrink=0.9)
    if flat:
        bar.set_ticks([float(finite.min())])
    else:
        bar.ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
    bar.ax.yaxis.set_major_formatter(FuncFormatter(tick))
    bar.set_label(plain_text(y_label.wrapped(40)), fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return fig


def influential_pair(sensitivity: pd.DataFrame, output: str, parameters: Sequence[str]) -> tuple[str, str] | None:
    """The two parameters with the largest main index (|PRCC|, ST or μ*) for ``output``; the first two if none."""
    if len(parameters) < 2:
        return None
    rows = sensitivity[sensitivity["output"] == output]
    if not rows.empty:
        main = rows[rows["index"] == MAIN_INDEX.get(str(rows["method"].iloc[0]), "")]
        ranked = main.assign(size=main["value"].abs()).sort_values("size", ascending=False, kind="stable")
        top = [
            p for p, size in zip(ranked["parameter"], ranked["size"], strict=True) if p in parameters and size == size
        ]
        if len(top) >= 2:
            return top[0], top[1]
    return parameters[0], parameters[1]


def readable_tornado(sensitivity: pd.DataFrame, output: str) -> Figure:
    """The tornado chart of ``output`` with parameters and the output named in words."""
    names = {p: parameter_label(p).wrapped(44) for p in sensitivity["parameter"].unique()}
    shown = output_label(output).text
    relabelled = sensitivity[sensitivity["output"] == output].assign(
        parameter=lambda t: t["parameter"].map(names), output=shown
    )
    return tornado_figure(relabelled, shown)


__all__ = ["Label", "binned_means", "format_axis", "heatmap_figure", "influential_pair", "readable_tornado",
           "response_figure"]  # fmt: skip
