"""What every report figure is drawn with: its size, bands and error bars, axes in £ and counts, colours."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from fundsim.report.style import contract_colour, contract_label, count, money
from fundsim.report.table_kit import ReportTable

#: The report's tables by name (``None``: the results have no such table).
Tables = Mapping[str, ReportTable | None]

#: Width of every figure (inches); heights vary with the content.
WIDTH_IN = 10.0

#: Alpha of confidence bands.
BAND_ALPHA = 0.15

#: Hospital costs in the spend figure: fill and hatch edge.
HOSPITAL_COLOUR = "#BBBBBB"
HOSPITAL_EDGE = "#777777"

#: ``gid`` of the shaded unfunded gap in the activity figure (tests find it by this).
UNFUNDED_GID = "unfunded-gap"


@dataclass(frozen=True)
class FigureSpec:
    """One figure of the report: its file name, title, caption and how to draw it from the tables.

    The catalogue (:mod:`fundsim.report.catalogue`) lists them; the year-by-year figures
    (:mod:`fundsim.report.years_figures`) build theirs here too, so neither imports the other's list.
    """

    name: str
    title: str
    what: str
    how_to_read: str
    needs: tuple[str, ...]
    missing: str
    draw: Callable[[Tables, tuple[str, ...]], Figure]

    def available(self, tables: Tables) -> bool:
        """Whether every table the figure needs is present and not empty."""
        return all((table := tables.get(n)) is not None and not table.frame.empty for n in self.needs)


def frame_of(tables: Tables, name: str) -> pd.DataFrame:
    """The frame of table ``name``; a KeyError if the results have no such table."""
    table = tables.get(name)
    if table is None:
        raise KeyError(f"table {name!r} is missing")
    return table.frame


def new_figure(
    height_in: float, ncols: int = 1, nrows: int = 1, sharey: bool | Literal["none", "all", "row", "col"] = False
) -> tuple[Figure, np.ndarray]:
    """A report-wide figure ``height_in`` inches tall and its axes, flattened (no pyplot, no global state)."""
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    return fig, axes.ravel()


def contracts_shown(frame: pd.DataFrame, contracts: Sequence[str] | None) -> tuple[str, ...]:
    """The contracts of ``frame`` to draw: in ``contracts``' order when given, else as they appear."""
    present = tuple(dict.fromkeys(frame["contract"].astype(str)))
    if contracts is None:
        return present
    return tuple(c for c in contracts if c in present)


def money_axis(ax: Axes, axis: str = "y") -> None:
    """Label an axis in the report's £ format (£1.2m, £350k), never with an offset."""
    fmt = FuncFormatter(lambda v, _pos: money(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def count_axis(ax: Axes) -> None:
    """Label the y axis as counts with thousands separators."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: count(v)))


#: Words in a measure's name that mean it can truly be negative (a surplus, a difference, a share of
#: risk); every other measure is a count, a cost or a share that cannot.
SIGNED_MARKERS = ("surplus", "diff", "extra_", "risk_share", "change", "net_")


def can_be_negative(col: str) -> bool:
    """Whether the measure ``col`` can take negative values (else its interval is drawn from 0 up)."""
    return any(marker in col for marker in SIGNED_MARKERS)


def error_bars(frame: pd.DataFrame, col: str) -> np.ndarray | None:
    """Asymmetric error-bar lengths from ``<col>_ci_low``/``_ci_high`` (None when there is no interval).

    A Student-t interval of a count can reach below 0 with few replications; what cannot be
    negative is never drawn below 0 (the tables keep the interval as computed).
    """
    lo, hi = f"{col}_ci_low", f"{col}_ci_high"
    if lo not in frame or frame[lo].isna().all():
        return None
    mean = frame[col].to_numpy(dtype=float)
    low = frame[lo].to_numpy(dtype=float)
    if not can_be_negative(col):
        low = np.maximum(low, 0.0)
    return np.vstack([np.maximum(mean - low, 0.0), frame[hi].to_numpy(dtype=float) - mean])


def band(ax: Axes, x: pd.Series, frame: pd.DataFrame, col: str, colour: str) -> None:
    """Shade ``col``'s 95% CI over ``x`` (from 0 for a measure that cannot be negative)."""
    lo, hi = f"{col}_ci_low", f"{col}_ci_high"
    if lo in frame and not frame[lo].isna().all():
        low = frame[lo] if can_be_negative(col) else frame[lo].clip(lower=0.0)
        ax.fill_between(x, low, frame[hi], color=colour, alpha=BAND_ALPHA, linewidth=0)


def bars(ax: Axes, frame: pd.DataFrame, col: str, contracts: Sequence[str]) -> None:
    """One bar per contract with its 95% CI as an error bar."""
    rows = frame.set_index("contract").loc[list(contracts)].reset_index()
    colours = [contract_colour(c, tuple(contracts)) for c in contracts]
    ax.bar(
        [contract_label(c) for c in contracts],
        rows[col].to_numpy(dtype=float),
        color=colours,
        yerr=error_bars(rows, col),
        capsize=4,
        ecolor="#333333",
    )
    ax.axhline(0.0, color="#333333", linewidth=0.8)
    ax.tick_params(axis="x", labelrotation=20)
    drawn = rows[[c for c in (col, f"{col}_ci_low", f"{col}_ci_high") if c in rows]].to_numpy(dtype=float)
    if np.allclose(np.nan_to_num(drawn), 0.0):
        # Nothing to see: say so rather than draw an axis of identical "0" ticks.
        ax.set_yticks([0.0])
        ax.text(0.5, 0.6, "zero under every contract", transform=ax.transAxes, ha="center", color="#555555")


def date_axis(ax: Axes) -> None:
    """Month ticks that fit: at most six, labelled concisely (``Apr``, ``Jul``, ``2026``…)."""
    locator = AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
