"""The report's figures of the whole system: commissioner spend, who bears the risk, the funnel, localities.

Pure functions from tidy tables to a matplotlib Figure, as in :mod:`fundsim.report.figures`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from fundsim.report.figure_kit import (
    HOSPITAL_COLOUR,
    HOSPITAL_EDGE,
    contracts_shown,
    error_bars,
    money_axis,
    new_figure,
)
from fundsim.report.style import contract_colour, contract_label, count, plain_text


def spend_figure(spend: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """The commissioner's total spend per contract, stacked: payments to the provider + hospital costs.

    ``spend``: ``contract``, ``payments_gbp_per_year``, ``hospital_gbp_per_year``,
    ``commissioner_spend_gbp_per_year`` (+ CI, drawn as an error bar on the total).
    """
    names = contracts_shown(spend, contracts)
    rows = spend.set_index("contract").loc[list(names)].reset_index()
    labels = [contract_label(c) for c in names]
    payments = rows["payments_gbp_per_year"].to_numpy(dtype=float)
    hospital = rows["hospital_gbp_per_year"].to_numpy(dtype=float)
    fig, axes = new_figure(4.4)
    ax = axes[0]
    ax.bar(labels, payments, color=[contract_colour(c, names) for c in names])
    ax.bar(labels, hospital, bottom=payments, color=HOSPITAL_COLOUR, hatch="..", edgecolor=HOSPITAL_EDGE)
    ax.errorbar(
        labels,
        rows["commissioner_spend_gbp_per_year"].to_numpy(dtype=float),
        yerr=error_bars(rows, "commissioner_spend_gbp_per_year"),
        fmt="none",
        ecolor="#333333",
        capsize=4,
    )
    ax.set_ylabel("£ per year")
    ax.set_title("Commissioner spend: community contract + hospital")
    money_axis(ax)
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
    names = contracts_shown(risk, contracts)
    fig, axes = new_figure(3.9, 2)
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
                yerr=error_bars(rows, col),
                color=contract_colour(contract, names),
                marker="o",
                capsize=3,
                label=contract_label(contract),
            )
        ax.set_title(title)
        ax.set_xlabel("demand growth (% a year)")
        ax.set_ylabel("£ per year")
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        money_axis(ax)
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
    fig, axes = new_figure(4.6)
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
    names = contracts_shown(localities, contracts)
    places = list(dict.fromkeys(localities["locality"].astype(str)))
    fig, axes = new_figure(max(2.6, 0.55 * len(places) * max(len(names), 1) ** 0.5 + 1.2))
    ax = axes[0]
    height = 0.8 / max(len(names), 1)
    base = np.arange(len(places), dtype=float)
    for i, contract in enumerate(names):
        rows = localities[localities["contract"] == contract].set_index("locality").reindex(places).reset_index()
        ax.barh(
            base + (i - (len(names) - 1) / 2.0) * height,
            rows["over_performance_pct"].to_numpy(dtype=float),
            height=height,
            xerr=error_bars(rows, "over_performance_pct"),
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
