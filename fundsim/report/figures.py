"""The report's figures: pure functions from tidy tables to a matplotlib Figure.

No file is read or written here and pyplot is not used (no global state): each function builds a
:class:`matplotlib.figure.Figure` from the frames it is given (the tables of
:mod:`fundsim.report.tables`) and returns it. Every contract has one colour in every figure
(:mod:`fundsim.report.style`); intervals are 95% confidence intervals over replications, drawn
as bands (over time) or error bars (per contract). Text taken from the data (locality names) is
passed through :func:`~fundsim.report.style.plain_text`, so it is drawn literally.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from fundsim.report.style import contract_colour, contract_label, count, money, plain_text

#: Width of every figure (inches); heights vary with the content.
WIDTH_IN = 10.0

#: Alpha of confidence bands.
BAND_ALPHA = 0.15

#: Hospital costs in the spend figure: fill and hatch edge.
HOSPITAL_COLOUR = "#BBBBBB"
HOSPITAL_EDGE = "#777777"

#: ``gid`` of the shaded unfunded gap in the activity figure (tests find it by this).
UNFUNDED_GID = "unfunded-gap"


def _figure(
    height_in: float, ncols: int = 1, nrows: int = 1, sharey: bool | Literal["none", "all", "row", "col"] = False
) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)
    return fig, axes.ravel()


def _contracts(frame: pd.DataFrame, contracts: Sequence[str] | None) -> tuple[str, ...]:
    present = tuple(dict.fromkeys(frame["contract"].astype(str)))
    if contracts is None:
        return present
    return tuple(c for c in contracts if c in present)


def _money_axis(ax: Axes, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _pos: money(v))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def _count_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: count(v)))


#: Words in a measure's name that mean it can truly be negative (a surplus, a difference, a share of
#: risk); every other measure is a count, a cost or a share that cannot.
SIGNED_MARKERS = ("surplus", "diff", "extra_", "risk_share", "change", "net_")


def can_be_negative(col: str) -> bool:
    """Whether the measure ``col`` can take negative values (else its interval is drawn from 0 up)."""
    return any(marker in col for marker in SIGNED_MARKERS)


def _errors(frame: pd.DataFrame, col: str) -> np.ndarray | None:
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


def _band(ax: Axes, x: pd.Series, frame: pd.DataFrame, col: str, colour: str) -> None:
    lo, hi = f"{col}_ci_low", f"{col}_ci_high"
    if lo in frame and not frame[lo].isna().all():
        low = frame[lo] if can_be_negative(col) else frame[lo].clip(lower=0.0)
        ax.fill_between(x, low, frame[hi], color=colour, alpha=BAND_ALPHA, linewidth=0)


def _bars(ax: Axes, frame: pd.DataFrame, col: str, contracts: Sequence[str]) -> None:
    """One bar per contract with its 95% CI as an error bar."""
    rows = frame.set_index("contract").loc[list(contracts)].reset_index()
    colours = [contract_colour(c, tuple(contracts)) for c in contracts]
    ax.bar(
        [contract_label(c) for c in contracts],
        rows[col].to_numpy(dtype=float),
        color=colours,
        yerr=_errors(rows, col),
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


def _date_axis(ax: Axes) -> None:
    """Month ticks that fit: at most six, labelled concisely (``Apr``, ``Jul``, ``2026``…)."""
    locator = AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def activity_figure(activity: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Contracted and delivered activity per month, one panel per contract, the unfunded gap shaded.

    ``activity``: ``contract``, ``month``, ``contracted``, ``delivered``, optionally ``funded``
    (what the contract's rule pays for; the contracted activity when absent) and
    ``delivered_ci_low``/``_ci_high``. The shaded area runs from the funded level up to the
    delivered line wherever delivery is above it (height max(delivered − funded, 0)): under cost
    and volume at full price there is none, under a blended contract about half the gap above plan.
    """
    names = _contracts(activity, contracts)
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig, axes = _figure(2.9 * nrows + 0.4, ncols, nrows, sharey=True)
    for ax, contract in zip(axes, names, strict=False):
        rows = activity[activity["contract"] == contract].sort_values("month")
        x = rows["month"]
        colour = contract_colour(contract, names)
        contracted = rows["contracted"].to_numpy(dtype=float)
        delivered = rows["delivered"].to_numpy(dtype=float)
        funded = rows["funded"].to_numpy(dtype=float) if "funded" in rows else contracted
        ax.fill_between(
            x,
            funded,
            np.maximum(delivered, funded),
            color=colour,
            alpha=0.35,
            hatch="//",
            linewidth=0,
            label="unfunded: delivered above what the contract pays for",
            gid=UNFUNDED_GID,
        )
        _band(ax, x, rows, "delivered", colour)
        ax.plot(x, delivered, color=colour, linewidth=1.8, label="delivered (mean, 95% CI band)")
        ax.plot(x, contracted, color="#222222", linestyle="--", linewidth=1.2, label="contracted")
        ax.set_title(contract_label(contract))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        _date_axis(ax)
        _count_axis(ax)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    axes[0].set_ylabel("contacts per month")
    axes[0].legend(loc="lower left", fontsize="small")
    return fig


def finance_figure(finance: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Cost absorbed by the provider and its surplus (deficit < 0) per contract, with 95% CIs.

    ``finance``: ``contract``, ``absorbed_gbp_per_year``, ``surplus_gbp_per_year`` and their
    ``_ci_low``/``_ci_high``.
    """
    names = _contracts(finance, contracts)
    fig, axes = _figure(3.8, 2)
    _bars(axes[0], finance, "absorbed_gbp_per_year", names)
    axes[0].set_title("Cost absorbed by the provider")
    _bars(axes[1], finance, "surplus_gbp_per_year", names)
    axes[1].set_title("Provider surplus (deficit below zero)")
    for ax in axes:
        ax.set_ylabel("£ per year")
        _money_axis(ax)
        ax.grid(axis="y", alpha=0.3)
    return fig


#: The panels of the decisions figure: column, title, y-axis label.
DECISION_PANELS = (
    ("fte_share", "Staff in post", "share of the initial establishment"),
    ("unpaid_overtime_share", "Overtime worked unpaid", "share of overtime hours"),
    ("ration_level", "Rationing level", "level (0 = none)"),
)

#: Text drawn in a decisions panel whose lines are the same under every contract (they overlap).
SAME_UNDER_EVERY_CONTRACT = "the same under every contract"


def decisions_figure(decisions: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """What the provider decided each month: staff, unpaid-overtime share and rationing level, per contract.

    ``decisions``: ``contract``, ``month``, ``fte_share``, ``unpaid_overtime_share``,
    ``ration_level`` (each optionally with ``_ci_low``/``_ci_high``). One line per contract in its
    colour, 95% CI bands; a panel whose lines coincide says so (they would hide one another).
    """
    names = _contracts(decisions, contracts)
    fig, axes = _figure(3.9, 3)
    for ax, (col, title, ylabel) in zip(axes, DECISION_PANELS, strict=True):
        series = []
        for contract in names:
            rows = decisions[decisions["contract"] == contract].sort_values("month")
            colour = contract_colour(contract, names)
            _band(ax, rows["month"], rows, col, colour)
            ax.plot(rows["month"], rows[col], color=colour, linewidth=1.8, label=contract_label(contract))
            series.append(rows[col].to_numpy(dtype=float))
        if len(series) > 1 and all(len(v) == len(series[0]) and np.allclose(v, series[0]) for v in series):
            ax.text(
                0.5,
                0.92,
                SAME_UNDER_EVERY_CONTRACT,
                transform=ax.transAxes,
                ha="center",
                color="#555555",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        _date_axis(ax)
    fte, unpaid, ration = axes
    fte.axhline(1.0, color="#333333", linewidth=0.8, linestyle=":")
    fte.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    unpaid.set_ylim(0.0, 1.0)
    unpaid.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    top = float(np.nanmax(decisions[[c for c in ("ration_level", "ration_level_ci_high") if c in decisions]]))
    ration.set_ylim(-0.05 * max(1.0, top), max(1.0, top) * 1.1)  # a line at level 0 stays clear of the axis
    ration.yaxis.set_major_locator(MaxNLocator(integer=True))
    # One legend under the panels: inside any panel it would cover the lines of some month.
    fig.legend(*fte.get_legend_handles_labels(), loc="outside lower center", ncols=5, fontsize="small", frameon=False)
    return fig


def waits_figure(waits: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Mean and 90th-percentile wait for assessment, and the month-end waiting list, per month.

    ``waits``: ``contract``, ``month``, ``wait_mean_days``, ``wait_p90_days``, ``waiting_list_end``
    (each optionally with ``_ci_low``/``_ci_high``).
    """
    names = _contracts(waits, contracts)
    fig, axes = _figure(3.9, 2)
    for contract in names:
        rows = waits[waits["contract"] == contract].sort_values("month")
        colour = contract_colour(contract, names)
        x = rows["month"]
        _band(axes[0], x, rows, "wait_mean_days", colour)
        axes[0].plot(x, rows["wait_mean_days"], color=colour, linewidth=1.8, label=f"{contract_label(contract)}: mean")
        axes[0].plot(
            x,
            rows["wait_p90_days"],
            color=colour,
            linewidth=1.2,
            linestyle="--",
            label=f"{contract_label(contract)}: 90th pct",
        )
        _band(axes[1], x, rows, "waiting_list_end", colour)
        axes[1].plot(x, rows["waiting_list_end"], color=colour, linewidth=1.8, label=contract_label(contract))
    axes[0].set_title("Wait for assessment (solid: mean, dashed: 90th percentile)")
    axes[0].set_ylabel("days")
    axes[1].set_title("Waiting list at month end")
    axes[1].set_ylabel("people")
    _count_axis(axes[1])
    axes[1].legend(fontsize="small")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        _date_axis(ax)
    return fig


def missed_figure(per_contract: pd.DataFrame, monthly: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Missed visits: per year per contract (bars, 95% CI) and per month (lines, 95% CI bands).

    ``per_contract``: ``contract``, ``visits_missed_per_year`` (+ CI); ``monthly``: ``contract``,
    ``month``, ``visits_missed`` (+ CI).
    """
    names = _contracts(per_contract, contracts)
    fig, axes = _figure(3.8, 2)
    _bars(axes[0], per_contract, "visits_missed_per_year", names)
    axes[0].set_title("Missed visits a year")
    axes[0].set_ylabel("visits per year")
    _count_axis(axes[0])
    for contract in names:
        rows = monthly[monthly["contract"] == contract].sort_values("month")
        colour = contract_colour(contract, names)
        _band(axes[1], rows["month"], rows, "visits_missed", colour)
        axes[1].plot(rows["month"], rows["visits_missed"], color=colour, linewidth=1.6, label=contract_label(contract))
    axes[1].set_title("Missed visits by month")
    axes[1].set_ylabel("visits per month")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(fontsize="small")
    _date_axis(axes[1])
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    return fig


def admissions_figure(admissions: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Emergency admissions and admissions avoided (against no community care) per contract, 95% CIs.

    ``admissions``: ``contract``, ``admissions_per_year``, ``admissions_avoided_per_year`` (+ CIs).
    """
    names = _contracts(admissions, contracts)
    fig, axes = _figure(3.8, 2)
    _bars(axes[0], admissions, "admissions_per_year", names)
    axes[0].set_title("Emergency admissions")
    _bars(axes[1], admissions, "admissions_avoided_per_year", names)
    axes[1].set_title("Admissions avoided by community care")
    for ax in axes:
        ax.set_ylabel("admissions per year")
        _count_axis(ax)
        ax.grid(axis="y", alpha=0.3)
    return fig


def spend_figure(spend: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """The commissioner's total spend per contract, stacked: payments to the provider + hospital costs.

    ``spend``: ``contract``, ``payments_gbp_per_year``, ``hospital_gbp_per_year``,
    ``commissioner_spend_gbp_per_year`` (+ CI, drawn as an error bar on the total).
    """
    names = _contracts(spend, contracts)
    rows = spend.set_index("contract").loc[list(names)].reset_index()
    labels = [contract_label(c) for c in names]
    payments = rows["payments_gbp_per_year"].to_numpy(dtype=float)
    hospital = rows["hospital_gbp_per_year"].to_numpy(dtype=float)
    fig, axes = _figure(4.4)
    ax = axes[0]
    ax.bar(labels, payments, color=[contract_colour(c, names) for c in names])
    ax.bar(labels, hospital, bottom=payments, color=HOSPITAL_COLOUR, hatch="..", edgecolor=HOSPITAL_EDGE)
    ax.errorbar(
        labels,
        rows["commissioner_spend_gbp_per_year"].to_numpy(dtype=float),
        yerr=_errors(rows, "commissioner_spend_gbp_per_year"),
        fmt="none",
        ecolor="#333333",
        capsize=4,
    )
    ax.set_ylabel("£ per year")
    ax.set_title("Commissioner spend: community contract + hospital")
    _money_axis(ax)
    ax.grid(axis="y", alpha=0.3)
    # The legend sits below the axes, where it can cover no bar; its swatches are drawn as the bars
    # are (the payment bars take each contract's colour, so their swatch is outlined, not filled).
    handles = [
        Patch(facecolor="white", edgecolor="#333333", label="payments to the provider (the contract's colour)"),
        Patch(facecolor=HOSPITAL_COLOUR, edgecolor=HOSPITAL_EDGE, hatch="..", label="hospital costs"),
        Line2D([], [], color="#333333", marker="_", markersize=10, linestyle="-", label="total: 95% CI"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize="small", frameon=False)
    return fig


def risk_figure(risk: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Provider surplus and commissioner spend against demand growth, one line per contract (95% CI bars).

    ``risk``: ``demand_growth_pct_per_year``, ``contract``, ``surplus_gbp_per_year``,
    ``commissioner_spend_gbp_per_year`` (+ CIs).
    """
    names = _contracts(risk, contracts)
    fig, axes = _figure(3.9, 2)
    panels = (
        ("surplus_gbp_per_year", "Provider surplus (deficit below zero)"),
        ("commissioner_spend_gbp_per_year", "Commissioner spend"),
    )
    for ax, (col, title) in zip(axes, panels, strict=True):
        for contract in names:
            rows = risk[risk["contract"] == contract].sort_values("demand_growth_pct_per_year")
            ax.errorbar(
                rows["demand_growth_pct_per_year"],
                rows[col],
                yerr=_errors(rows, col),
                color=contract_colour(contract, names),
                marker="o",
                capsize=3,
                label=contract_label(contract),
            )
        ax.set_title(title)
        ax.set_xlabel("demand growth (% a year)")
        ax.set_ylabel("£ per year")
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        _money_axis(ax)
        ax.grid(alpha=0.3)
    axes[0].axhline(0.0, color="#333333", linewidth=0.8)
    axes[1].legend(fontsize="small")
    return fig


def funnel_figure(points: pd.DataFrame, limits: pd.DataFrame, people_per_expected: float | None = None) -> Figure:
    """Funnel plot of the outcomes contract: O/E against E, with Poisson control limits.

    ``points``: ``unit``, ``expected``, ``oe_ratio`` (one row per unit × year × replication);
    ``limits``: ``expected`` and ``low_<level>``/``high_<level>`` columns (e.g. ``low_95``,
    ``high_99.8``). With ``people_per_expected`` a top axis shows the population that would
    have that expected count.
    """
    fig, axes = _figure(4.6)
    ax = axes[0]
    x = limits["expected"].to_numpy(dtype=float)
    styles = {0: ("#555555", "--"), 1: ("#555555", ":")}
    levels = [c.removeprefix("low_") for c in limits.columns if c.startswith("low_")]
    for i, tag in enumerate(levels):
        colour, dash = styles.get(i, ("#999999", "-."))
        ax.step(x, limits[f"low_{tag}"], where="mid", color=colour, linestyle=dash, linewidth=1, label=f"{tag}% limits")
        ax.step(x, limits[f"high_{tag}"], where="mid", color=colour, linestyle=dash, linewidth=1)
    ax.axhline(1.0, color="#222222", linewidth=1, label="O = E")
    units = list(dict.fromkeys(points["unit"].astype(str)))
    markers = "o^DvP*X<>"
    greys = ("#FFFFFF", "#BBBBBB", "#666666", "#000000")
    for i, unit in enumerate(units):
        rows = points[points["unit"].astype(str) == unit]
        whole = unit == "whole service"
        ax.scatter(
            rows["expected"],
            rows["oe_ratio"],
            marker="s" if whole else markers[i % len(markers)],
            s=46 if whole else 30,
            color=contract_colour("outcomes") if whole else greys[i % len(greys)],
            edgecolor="#222222",
            linewidth=0.5,
            alpha=0.85,
            label=plain_text(unit),
            zorder=3,
        )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: count(v)))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: count(v) if str(round(v))[0] in "25" else ""))
    ax.set_xlabel("expected admissions E in the contract year (risk model)")
    ax.set_ylabel("observed / expected (O/E)")
    ax.set_title("Outcomes contract: observed against expected admissions")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", ncols=2)
    if people_per_expected and people_per_expected > 0:
        k = float(people_per_expected)
        top = ax.secondary_xaxis("top", functions=(lambda e: e * k, lambda p: p / k))
        top.set_xlabel("population with that expected count (at the service's average rate)")
        top.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: count(v)))
        top.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: count(v) if str(round(v))[0] in "25" else ""))
    return fig


def locality_figure(localities: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Over-performance per locality and contract (% above the locality's share of contracted activity).

    ``localities``: ``contract``, ``locality``, ``over_performance_pct`` (+ CI).
    """
    names = _contracts(localities, contracts)
    places = list(dict.fromkeys(localities["locality"].astype(str)))
    fig, axes = _figure(max(2.6, 0.55 * len(places) * max(len(names), 1) ** 0.5 + 1.2))
    ax = axes[0]
    height = 0.8 / max(len(names), 1)
    base = np.arange(len(places), dtype=float)
    for i, contract in enumerate(names):
        rows = localities[localities["contract"] == contract].set_index("locality").reindex(places).reset_index()
        ax.barh(
            base + (i - (len(names) - 1) / 2.0) * height,
            rows["over_performance_pct"].to_numpy(dtype=float),
            height=height,
            xerr=_errors(rows, "over_performance_pct"),
            color=contract_colour(contract, names),
            capsize=3,
            ecolor="#333333",
            label=contract_label(contract),
        )
    ax.set_yticks(base, [plain_text(p) for p in places])
    ax.invert_yaxis()
    ax.axvline(0.0, color="#222222", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("delivered above the locality's share of contracted activity (% of that share)")
    ax.set_title("Over-performance by locality")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small")
    return fig
