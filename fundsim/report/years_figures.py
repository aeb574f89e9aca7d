"""The report's year-by-year figures, drawn from the tables of :mod:`fundsim.report.years`.

Pure functions from tidy frames to a matplotlib Figure, like :mod:`fundsim.report.figures` (whose
helpers they reuse), and the fields of their :class:`~fundsim.report.catalogue.FigureSpec` entries
(:data:`YEAR_FIGURES`), from which the catalogue appends them to its list (plain fields, so that
this module need not import the catalogue that imports it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fundsim.report.figure_kit import band, contracts_shown, count_axis, money_axis, new_figure
from fundsim.report.style import contract_colour, contract_label
from fundsim.report.table_kit import ReportTable


def frame_of(tables: Mapping[str, ReportTable | None], name: str) -> pd.DataFrame:
    """The frame of table ``name`` (a KeyError when missing), as the catalogue's ``frame_of``."""
    table = tables.get(name)
    if table is None:
        raise KeyError(f"table {name!r} is missing")
    return table.frame


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("contract year")
    ax.grid(alpha=0.3)


def _lines(ax: Axes, frame: pd.DataFrame, col: str, names: tuple[str, ...], style: str = "-", label: str = "") -> None:
    for contract in names:
        rows = frame[frame["contract"] == contract].sort_values("contract_year")
        colour = contract_colour(contract, names)
        x = rows["contract_year"]
        if style == "-":
            band(ax, x, rows, col, colour)
        text = f"{contract_label(contract)}{': ' + label if label else ''}"
        ax.plot(x, rows[col], color=colour, linestyle=style, marker="o", markersize=3, linewidth=1.6, label=text)


def years_figure(years: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Left: contract value (solid) and provider cost (dashed); right: delivered (solid) and funded (dashed)."""
    names = contracts_shown(years, contracts)
    fig, axes = new_figure(3.9, 2)
    _lines(axes[0], years, "income_gbp", names, "-", "value")
    _lines(axes[0], years, "cost_gbp", names, "--", "cost")
    axes[0].set_title("Contract value (solid) and provider cost (dashed)")
    axes[0].set_ylabel("£ per year")
    money_axis(axes[0])
    _lines(axes[1], years, "delivered_activity", names, "-", "delivered")
    _lines(axes[1], years, "funded_activity", names, "--", "funded")
    axes[1].set_title("Activity delivered (solid) and funded (dashed)")
    axes[1].set_ylabel("contacts per year")
    count_axis(axes[1])
    for ax in axes:
        _year_axis(ax)
    axes[1].legend(fontsize="x-small")
    return fig


def absorbed_figure(absorbed: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Cumulative cost absorbed: one panel per bearer (the provider's deficit, its staff's unpaid overtime)."""
    names = contracts_shown(absorbed, contracts)
    panels = [
        (col, title)
        for col, title in (
            ("provider_deficit_gbp", "Provider: deficits, cumulated"),
            ("staff_unpaid_overtime_gbp", "Staff: unpaid overtime at the paid rate, cumulated"),
        )
        if col in absorbed
    ]
    fig, axes = new_figure(3.9, len(panels))
    for ax, (col, title) in zip(axes, panels, strict=True):
        _lines(ax, absorbed, col, names)
        ax.set_title(title)
        ax.set_ylabel("£ since the first year")
        ax.set_ylim(bottom=0)
        money_axis(ax)
        _year_axis(ax)
    axes[0].legend(fontsize="small")
    return fig


def reserves_figure(reserves: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Closing reserves by contract year, with the recovery threshold and the failure floor."""
    names = contracts_shown(reserves, contracts)
    fig, axes = new_figure(3.9)
    ax = axes[0]
    _lines(ax, reserves, "closing_gbp", names)
    for col, style, text in (
        ("recovery_threshold_gbp", ":", "recovery threshold"),
        ("failure_floor_gbp", "-.", "failure floor"),
    ):
        level = float(reserves[col].iloc[0]) if col in reserves and len(reserves) else np.nan
        if np.isfinite(level):
            ax.axhline(level, color="#444444", linestyle=style, linewidth=1.0, label=text)
    ax.set_title("Provider reserves at the end of each contract year (mean, 95% CI band)")
    ax.set_ylabel("£")
    money_axis(ax)
    _year_axis(ax)
    ax.legend(fontsize="small")
    return fig


def service_years_figure(years: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Mean wait for assessment, waiting list at the year's end, and emergency admissions, by year."""
    names = contracts_shown(years, contracts)
    fig, axes = new_figure(3.9, 3)
    for ax, (col, title, unit) in zip(
        axes,
        (
            ("wait_mean_days", "Mean wait for assessment", "days"),
            ("waiting_list_end", "Waiting list at the year's end", "people"),
            ("admissions", "Emergency admissions", "per year"),
        ),
        strict=True,
    ):
        _lines(ax, years, col, names)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        _year_axis(ax)
    count_axis(axes[2])
    axes[2].legend(fontsize="small")
    return fig


#: Shown when a year-by-year figure is left out for want of years.
ONE_YEAR = "the horizon is one contract year or less (the year-by-year figures need at least two)"

YEAR_FIGURES: tuple[dict[str, Any], ...] = (
    dict(
        name="years_value_cost_activity",
        title="The contract year by year: value, cost and activity",
        what=(
            "Left: the contract's value (the provider's income, solid) and the provider's cost (dashed) in each "
            "contract year. Right: the activity delivered (solid) and the activity the contract's rule funds "
            "(dashed). Means over replications; bands are 95% confidence intervals."
        ),
        how_to_read=(
            "Where the cost line climbs away from the value line, or delivery away from funding, year after year, "
            "the gap is a cost someone absorbs, and it compounds over the contract's life."
        ),
        needs=("years",),
        missing=ONE_YEAR,
        draw=lambda t, c: years_figure(frame_of(t, "years"), c),
    ),
    dict(
        name="years_absorbed",
        title="Who absorbs the cost, cumulated over the years",
        what=(
            "The cost absorbed from the first contract year to each year's end: left, the provider's deficits "
            "(max(0, cost − income) each year); right, its staff's unpaid overtime valued at the rate paid "
            "overtime costs. Means over replications with 95% confidence bands."
        ),
        how_to_read=(
            "A block contract can balance the provider's books (left flat) while the staff's line climbs: the "
            "hidden cost moves to people. Patients and the hospital carry theirs in the waits and admissions figure."
        ),
        needs=("absorbed_by_year",),
        missing=ONE_YEAR,
        draw=lambda t, c: absorbed_figure(frame_of(t, "absorbed_by_year"), c),
    ),
    dict(
        name="years_reserves",
        title="The provider's reserves year by year",
        what=(
            "Reserves at the end of each contract year: opening reserves plus each year's surplus, minus each "
            "year's deficit, with the recovery threshold (dotted) and the failure floor (dash-dot)."
        ),
        how_to_read=(
            "Below the threshold the provider runs its recovery plan (deeper rationing, a hiring freeze); at "
            "the floor it hands the contract back. The failures table gives how often that happened."
        ),
        needs=("reserves_by_year",),
        missing="the scenario has no provider_policy.reserves section",
        draw=lambda t, c: reserves_figure(frame_of(t, "reserves_by_year"), c),
    ),
    dict(
        name="years_service",
        title="Waits and admissions year by year",
        what=(
            "The mean wait for assessment of the people assessed in each contract year, the waiting list at "
            "the year's end, and the emergency admissions of the year. Means with 95% confidence bands."
        ),
        how_to_read=(
            "This is where the cost the contract does not pay for lands on patients and on the hospital the "
            "commissioner also pays for: rising lines under one contract and not another show on whom."
        ),
        needs=("years",),
        missing=ONE_YEAR,
        draw=lambda t, c: service_years_figure(frame_of(t, "years"), c),
    ),
)

__all__ = ["YEAR_FIGURES", "absorbed_figure", "reserves_figure", "service_years_figure", "years_figure"]
