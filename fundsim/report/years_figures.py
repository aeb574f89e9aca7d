"""The report's year-by-year figures, drawn from the tables of :mod:`fundsim.report.years`.

Pure functions from tidy frames to a matplotlib Figure, like :mod:`fundsim.report.figures` (whose
helpers they reuse), and their :class:`~fundsim.report.figure_kit.FigureSpec` entries
(:data:`YEAR_FIGURES`), which the catalogue appends to its list.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fundsim.report.figure_kit import (
    FigureSpec,
    band,
    contracts_shown,
    count_axis,
    frame_of,
    money_axis,
    new_figure,
)
from fundsim.report.style import contract_colour, contract_label


def _year_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("contract year")
    ax.grid(alpha=0.3)


def _lines(
    ax: Axes,
    frame: pd.DataFrame,
    col: str,
    names: tuple[str, ...],
    style: str = "-",
    label: str = "",
    notes: dict[str, str] | None = None,
) -> None:
    for contract in names:
        rows = frame[frame["contract"] == contract].sort_values("contract_year")
        colour = contract_colour(contract, names)
        x = rows["contract_year"]
        if style == "-":
            band(ax, x, rows, col, colour)
        text = f"{contract_label(contract)}{': ' + label if label else ''}"
        if notes and notes.get(contract):
            text = f"{text} ({notes[contract]})"
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


#: The panels of the absorbed figure, in reading order: (column, title, y label, in £).
#: The patients' panel shows their burden in £ when the scenario prices it, else in person-days waiting.
ABSORBED_PANELS: tuple[tuple[str, str, str, bool], ...] = (
    ("provider_deficit_gbp", "Provider: deficits", "£ since the first year", True),
    ("staff_unpaid_overtime_gbp", "Staff: unpaid overtime at the paid rate", "£ since the first year", True),
    ("patients_valued_gbp", "Patients: waits, declines, missed visits (valued)", "£ since the first year", True),
    ("patients_wait_days", "Patients: person-days waiting for assessment", "person-days since the first year", False),
    ("hospital_cost_gbp", "Hospital: emergency admissions' cost", "£ since the first year", True),
)


def absorbed_panels(absorbed: pd.DataFrame) -> list[tuple[str, str, str, bool]]:
    """The panels :func:`absorbed_figure` draws for ``absorbed``: one per bearer whose column it has."""
    panels = [p for p in ABSORBED_PANELS if p[0] in absorbed]
    if any(p[0] == "patients_valued_gbp" for p in panels):
        panels = [p for p in panels if p[0] != "patients_wait_days"]
    return panels


def absorbed_figure(absorbed: pd.DataFrame, contracts: Sequence[str] | None = None) -> Figure:
    """Cumulative cost absorbed: one panel per bearer (provider, staff, patients, hospital), cumulated."""
    names = contracts_shown(absorbed, contracts)
    panels = absorbed_panels(absorbed)
    ncols = min(2, len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = new_figure(3.4 * nrows, ncols, nrows)
    for ax, (col, title, unit, in_gbp) in zip(axes, panels, strict=False):
        _lines(ax, absorbed, col, names)
        ax.set_title(f"{title}, cumulated")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        if in_gbp:
            money_axis(ax)
        else:
            count_axis(ax)
        _year_axis(ax)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize="small")
    return fig


def _year_text(value: object) -> str:
    year = float(value) if isinstance(value, int | float) else np.nan
    return "never" if not np.isfinite(year) else f"year {year:g}"


def _share_text(value: object) -> str:
    share = float(value) if isinstance(value, int | float) else np.nan
    return "" if not np.isfinite(share) or share == 0 else f" in {share:.0%} of runs"


def failure_notes(failures: pd.DataFrame | None) -> dict[str, str]:
    """Per contract, the ``reserve_failures`` row in words: first deficit, reserves run out, failures (Wilson CI).

    Years are medians over the replications that got there ("never": none did); the share of
    replications whose reserves ran out follows the year.
    """
    if failures is None or failures.empty:
        return {}
    notes = {}
    for row in failures.to_dict("records"):
        n, k = int(row["replications"]), int(row["failures"])
        lo, hi = float(row["ci_low"]), float(row["ci_high"])
        notes[str(row["contract"])] = (
            f"first deficit {_year_text(row.get('median_first_deficit_year'))}, "
            f"reserves out {_year_text(row.get('median_reserves_out_year'))}{_share_text(row.get('share_run_out'))}, "
            f"failed {k}/{n}, 95% CI {lo:.0%}–{hi:.0%}"
        )
    return notes


def reserves_figure(
    reserves: pd.DataFrame, contracts: Sequence[str] | None = None, failures: pd.DataFrame | None = None
) -> Figure:
    """Closing reserves by contract year, with the recovery threshold and the failure floor.

    With ``failures`` (the ``reserve_failures`` table) each contract's legend entry says its median
    first deficit year, median year reserves ran out and how many replications failed (Wilson 95% CI).
    """
    names = contracts_shown(reserves, contracts)
    fig, axes = new_figure(3.9)
    ax = axes[0]
    _lines(ax, reserves, "closing_gbp", names, notes=failure_notes(failures))
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

YEAR_FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
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
    FigureSpec(
        name="years_absorbed",
        title="Who absorbs the cost, cumulated over the years",
        what=(
            "What each party has carried from the first contract year to each year's end: the provider's deficits "
            "(max(0, cost − income) each year); its staff's unpaid overtime valued at the rate paid overtime "
            "costs; its patients' days waiting for assessment (in £ at the scenario's valuation prices when it "
            "sets them); and the hospital cost of emergency admissions the commissioner pays. Means over "
            "replications with 95% confidence bands."
        ),
        how_to_read=(
            "A block contract can balance the provider's books (its line flat) while the staff's, patients' and "
            "hospital's lines climb: the hidden cost moves to people. Patients' and hospital figures are totals; "
            "the same people meet every contract, so the gap between two contracts' lines is what one puts on them "
            "beyond the other (the extra against a fully funded service is the incidence table)."
        ),
        needs=("absorbed_by_year",),
        missing=ONE_YEAR,
        draw=lambda t, c: absorbed_figure(frame_of(t, "absorbed_by_year"), c),
    ),
    FigureSpec(
        name="years_reserves",
        title="The provider's reserves year by year",
        what=(
            "Reserves at the end of each contract year: opening reserves plus each year's surplus, minus each "
            "year's deficit, with the recovery threshold (dotted) and the failure floor (dash-dot). The legend "
            "gives each contract's median first deficit year, the median year its reserves ran out (closed at or "
            "below zero), and how many replications the provider handed the contract back in, with its Wilson "
            "95% interval (the reserve_failures table)."
        ),
        how_to_read=(
            "Below the threshold the provider runs its recovery plan (deeper rationing, a hiring freeze); at "
            "the floor it hands the contract back. The failures table gives how often that happened."
        ),
        needs=("reserves_by_year",),
        missing="the scenario has no provider_policy.reserves section",
        draw=lambda t, c: reserves_figure(
            frame_of(t, "reserves_by_year"), c, None if (f := t.get("reserve_failures")) is None else f.frame
        ),
    ),
    FigureSpec(
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

__all__ = [
    "ABSORBED_PANELS",
    "YEAR_FIGURES",
    "absorbed_figure",
    "absorbed_panels",
    "failure_notes",
    "reserves_figure",
    "service_years_figure",
    "years_figure",
]
