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

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from fundsim.report.figure_kit import (
    UNFUNDED_GID,
    WIDTH_IN,
    band,
    bars,
    can_be_negative,
    contracts_shown,
    count_axis,
    date_axis,
    money_axis,
    new_figure,
)
from fundsim.report.style import contract_colour, contract_label


def activity_figure(activity: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Contracted and delivered activity per month, one panel per contract, the unfunded gap shaded.

    ``activity``: ``contract``, ``month``, ``contracted``, ``delivered``, optionally ``funded``
    (what the contract's rule pays for; the contracted activity when absent) and
    ``delivered_ci_low``/``_ci_high``. The shaded area runs from the funded level up to the
    delivered line wherever delivery is above it (height max(delivered − funded, 0)): under cost
    and volume at full price there is none, under a blended contract about half the gap above plan.
    """
    names = contracts_shown(activity, contracts)
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig, axes = new_figure(2.9 * nrows + 0.4, ncols, nrows, sharey=True)
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
        band(ax, x, rows, "delivered", colour)
        ax.plot(x, delivered, color=colour, linewidth=1.8, label="delivered (mean, 95% CI band)")
        ax.plot(x, contracted, color="#222222", linestyle="--", linewidth=1.2, label="contracted")
        ax.set_title(contract_label(contract))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        date_axis(ax)
        count_axis(ax)
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
    names = contracts_shown(finance, contracts)
    fig, axes = new_figure(3.8, 2)
    bars(axes[0], finance, "absorbed_gbp_per_year", names)
    axes[0].set_title("Cost absorbed by the provider")
    bars(axes[1], finance, "surplus_gbp_per_year", names)
    axes[1].set_title("Provider surplus (deficit below zero)")
    for ax in axes:
        ax.set_ylabel("£ per year")
        money_axis(ax)
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
    names = contracts_shown(decisions, contracts)
    fig, axes = new_figure(3.9, 3)
    for ax, (col, title, ylabel) in zip(axes, DECISION_PANELS, strict=True):
        series = []
        for contract in names:
            rows = decisions[decisions["contract"] == contract].sort_values("month")
            colour = contract_colour(contract, names)
            band(ax, rows["month"], rows, col, colour)
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
        date_axis(ax)
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
    names = contracts_shown(waits, contracts)
    fig, axes = new_figure(3.9, 2)
    for contract in names:
        rows = waits[waits["contract"] == contract].sort_values("month")
        colour = contract_colour(contract, names)
        x = rows["month"]
        band(axes[0], x, rows, "wait_mean_days", colour)
        axes[0].plot(x, rows["wait_mean_days"], color=colour, linewidth=1.8, label=f"{contract_label(contract)}: mean")
        axes[0].plot(
            x,
            rows["wait_p90_days"],
            color=colour,
            linewidth=1.2,
            linestyle="--",
            label=f"{contract_label(contract)}: 90th pct",
        )
        band(axes[1], x, rows, "waiting_list_end", colour)
        axes[1].plot(x, rows["waiting_list_end"], color=colour, linewidth=1.8, label=contract_label(contract))
    axes[0].set_title("Wait for assessment (solid: mean, dashed: 90th percentile)")
    axes[0].set_ylabel("days")
    axes[1].set_title("Waiting list at month end")
    axes[1].set_ylabel("people")
    count_axis(axes[1])
    axes[1].legend(fontsize="small")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        date_axis(ax)
    return fig


def missed_figure(per_contract: pd.DataFrame, monthly: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Missed visits: per year per contract (bars, 95% CI) and per month (lines, 95% CI bands).

    ``per_contract``: ``contract``, ``visits_missed_per_year`` (+ CI); ``monthly``: ``contract``,
    ``month``, ``visits_missed`` (+ CI).
    """
    names = contracts_shown(per_contract, contracts)
    fig, axes = new_figure(3.8, 2)
    bars(axes[0], per_contract, "visits_missed_per_year", names)
    axes[0].set_title("Missed visits a year")
    axes[0].set_ylabel("visits per year")
    count_axis(axes[0])
    for contract in names:
        rows = monthly[monthly["contract"] == contract].sort_values("month")
        colour = contract_colour(contract, names)
        band(axes[1], rows["month"], rows, "visits_missed", colour)
        axes[1].plot(rows["month"], rows["visits_missed"], color=colour, linewidth=1.6, label=contract_label(contract))
    axes[1].set_title("Missed visits by month")
    axes[1].set_ylabel("visits per month")
    axes[1].set_ylim(bottom=0)
    axes[1].legend(fontsize="small")
    date_axis(axes[1])
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    return fig


def admissions_figure(admissions: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Emergency admissions and admissions avoided (against no community care) per contract, 95% CIs.

    ``admissions``: ``contract``, ``admissions_per_year``, ``admissions_avoided_per_year`` (+ CIs).
    """
    names = contracts_shown(admissions, contracts)
    fig, axes = new_figure(3.8, 2)
    bars(axes[0], admissions, "admissions_per_year", names)
    axes[0].set_title("Emergency admissions")
    bars(axes[1], admissions, "admissions_avoided_per_year", names)
    axes[1].set_title("Admissions avoided by community care")
    for ax in axes:
        ax.set_ylabel("admissions per year")
        count_axis(ax)
        ax.grid(axis="y", alpha=0.3)
    return fig


# The system figures live in figures_system.py; the catalogue and scripts reach every figure from here.
from fundsim.report.figures_system import funnel_figure, locality_figure, risk_figure, spend_figure  # noqa: E402

__all__ = [
    "WIDTH_IN",
    "activity_figure",
    "admissions_figure",
    "can_be_negative",
    "decisions_figure",
    "finance_figure",
    "funnel_figure",
    "locality_figure",
    "missed_figure",
    "risk_figure",
    "spend_figure",
    "waits_figure",
]
