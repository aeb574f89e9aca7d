"""The report's "Add-on services" section: targets met, the core with and without, net admissions avoided.

Read from a comparison's results folder: the add-ons' targets from the ledger (an urgent response's
share of calls reached within its target time, against the standard; a virtual ward's occupancy
of its places), and the effect of the add-ons from ``addon_effect.csv``
(:mod:`fundsim.experiment.addon_effect`). Measures are named in words with their units by
:data:`fundsim.report.catalogue.ADDON_MEASURE_WORDS`.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fundsim.errors import FundsimError
from fundsim.experiment.stats import mean_ci
from fundsim.report.catalogue import ADDON_MEASURE_WORDS, ADDON_TARGETS
from fundsim.report.figure_kit import count_axis, new_figure
from fundsim.report.results import ReportError, ResultsFolder
from fundsim.report.style import by_unit, share, unit_text
from fundsim.report.table_kit import ReportTable
from fundsim.safeio import printable, read_csv

#: The effect file a comparison writes when it measured the add-ons' effect.
EFFECT_FILE = "addon_effect.csv"
EFFECT_COLUMNS = ("staffing", "configured", "measure", "unit", "kind", "mean", "ci_low", "ci_high")

#: Measures of the core service shown with and without the add-ons (in this order).
CORE_MEASURES = (
    "core_admissions_per_year",
    "wait_mean_days",
    "visits_missed_per_year",
    "visit_deferrals_per_year",
    "contacts_per_year",
)
#: The headline and its two parts.
NET_MEASURES = (
    "addon_admissions_avoided_per_year",
    "extra_core_admissions_per_year",
    "net_admissions_avoided_per_year",
)

#: Legend of the net-admissions panel (the full words are in the caption and the table).
SHORT_NAMES = ("avoided by the add-ons", "extra in the core caseload", "net avoided")
#: Bar colours of the net-admissions panel: avoided by the add-on, extra in the core, net.
NET_COLOURS = ("#4C72B0", "#DD8452", "#55A868")


def words(measure: str) -> tuple[str, str]:
    """A measure's label and unit in words (the column name itself when the catalogue has no words for it)."""
    return ADDON_MEASURE_WORDS.get(measure, (measure, ""))


def read_effect(folder: ResultsFolder) -> pd.DataFrame | None:
    """``addon_effect.csv`` of ``folder``, or ``None`` when the comparison did not measure the effect."""
    listed = folder.manifest.get("files")
    file = folder.path / EFFECT_FILE
    if not file.exists() and not (isinstance(listed, dict) and EFFECT_FILE in listed):
        return None
    try:
        frame = read_csv(file)
    except (FundsimError, OSError, ValueError) as exc:
        raise ReportError(f"{printable(file)}: cannot be read ({exc})") from exc
    missing = [c for c in EFFECT_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportError(f"{printable(file)}: missing column(s) {', '.join(missing)}")
    frame["configured"] = frame["configured"].astype(str).str.lower().isin(["true", "1"])
    return frame


def targets_table(folder: ResultsFolder) -> ReportTable | None:
    """The add-ons' own targets from the ledger (baseline contract): mean and 95% CI over replications."""
    ledger = folder.ledger
    if "contract" in ledger:
        ledger = ledger[ledger["contract"] == folder.baseline]
    rows = []
    for measure, (numerator, denominator, standard_path, default) in ADDON_TARGETS.items():
        if numerator not in ledger or denominator not in ledger:
            continue
        sums = ledger.groupby("replication")[[numerator, denominator]].sum()
        values = (sums[numerator] / sums[denominator].replace(0.0, np.nan)).to_numpy(dtype=float)
        mean, lo, hi = mean_ci(values)
        lo, hi = max(0.0, lo), min(1.0, hi)  # a t-interval of a share can pass 0% or 100%; a share cannot
        label, unit = words(measure)
        rows.append(
            {
                "measure": measure,
                "label": label,
                "unit": unit,
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "target": _standard(folder.scenario, standard_path, default),
            }
        )
    if not rows:
        return None
    return ReportTable("addon_targets", "Add-on services: their own targets", pd.DataFrame(rows), {"target": "share"})


def _standard(scenario: dict[str, Any], path: tuple[str, ...], default: float) -> float:
    """A target read from the scenario recorded in the manifest (``default`` when it has none)."""
    node: Any = scenario
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    try:
        return float(node) if node is not None else default
    except (TypeError, ValueError):
        return default


def effect_table(folder: ResultsFolder) -> ReportTable | None:
    """The add-ons' effect (``addon_effect.csv``) with each measure's words, or ``None`` if not measured."""
    frame = read_effect(folder)
    if frame is None or frame.empty:
        return None
    out = frame.copy()
    out.insert(3, "label", [words(str(m))[0] for m in out["measure"]])
    return ReportTable("addon_effect", "Add-on services: the core with and without them, net admissions avoided", out)


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    return share(value, 1) if unit == "share" else by_unit(value, unit)


def _cell(mean: float, lo: float, hi: float, unit: str) -> dict[str, str]:
    ci = "" if lo != lo or hi != hi else f"{_fmt(lo, unit)} to {_fmt(hi, unit)}"
    return {"mean": _fmt(mean, unit), "ci": ci}


def section(tables: dict[str, Any]) -> dict[str, Any] | None:
    """What the HTML section shows: the targets rows, and the effect rows by staffing choice (``None``: no add-ons)."""
    targets = tables.get("addon_targets")
    effect = tables.get("addon_effect")
    if targets is None and effect is None:
        return None
    target_rows = []
    if targets is not None:
        for r in targets.frame.to_dict("records"):
            standard = "" if r["target"] != r["target"] else share(float(r["target"]))
            target_rows.append(
                {"label": r["label"], **_cell(r["mean"], r["ci_low"], r["ci_high"], "share"), "target": standard}
            )
    columns: list[str] = []
    effect_rows: list[dict[str, Any]] = []
    if effect is not None:
        frame = effect.frame
        choices = list(dict.fromkeys(zip(frame["staffing"].astype(str), frame["configured"], strict=True)))
        columns = [f"{s} staffing" + (" (as configured)" if c else "") for s, c in choices]
        for measure in (*NET_MEASURES, *CORE_MEASURES):
            cells = []
            for s, c in choices:
                row = frame[(frame["staffing"] == s) & (frame["configured"] == c) & (frame["measure"] == measure)]
                if row.empty:
                    cells.append({"mean": "–", "ci": "", "levels": ""})
                    continue
                r = row.iloc[0]
                unit = str(r["unit"])
                cell = _cell(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]), unit)
                levels = ""
                if r["kind"] == "paired":
                    levels = f"{_fmt(float(r['with_mean']), unit)} with, {_fmt(float(r['without_mean']), unit)} without"
                cells.append({**cell, "levels": levels})
            label, unit = words(measure)
            change = measure in CORE_MEASURES
            effect_rows.append(
                {"label": label + (" (with − without)" if change else ""), "unit": unit_text(unit), "cells": cells}
            )
    return {"targets": target_rows, "columns": columns, "rows": effect_rows}


def addon_figure(targets: pd.DataFrame | None, effect: pd.DataFrame | None) -> Figure:
    """Left: targets met (share, 95% CI, the standard dashed). Right: net admissions avoided, its parts, by staffing."""
    fig, axes = new_figure(3.8, 2)
    left, right = axes
    if targets is not None and not targets.empty:
        x = np.arange(len(targets))
        reached = targets["mean"].to_numpy(dtype=float) * 100
        err = np.vstack([reached - targets["ci_low"] * 100, targets["ci_high"] * 100 - reached])
        left.bar(x, reached, 0.5, color="#4C72B0", yerr=np.nan_to_num(err), capsize=4)
        left.set_xlim(-0.75, len(targets) - 0.25)
        for i, target in enumerate(targets["target"].to_numpy(dtype=float)):
            if target == target:
                left.hlines(target * 100, i - 0.4, i + 0.4, colors="black", linestyles="dashed", label="standard")
        left.set_xticks(x, [textwrap.fill(str(label), 22) for label in targets["label"]], fontsize=8)
        left.set_ylim(0, 105)
        left.set_ylabel("% (dashed: the standard)")
    left.set_title("Targets met")
    if effect is not None and not effect.empty:
        choices = list(dict.fromkeys(zip(effect["staffing"].astype(str), effect["configured"], strict=True)))
        width = 0.8 / len(NET_MEASURES)
        for j, (measure, colour) in enumerate(zip(NET_MEASURES, NET_COLOURS, strict=True)):
            means, lows, highs = [], [], []
            for s, c in choices:
                row = effect[(effect["staffing"] == s) & (effect["configured"] == c) & (effect["measure"] == measure)]
                r = row.iloc[0] if not row.empty else None
                means.append(float(r["mean"]) if r is not None else np.nan)
                lows.append(float(r["ci_low"]) if r is not None else np.nan)
                highs.append(float(r["ci_high"]) if r is not None else np.nan)
            m = np.array(means)
            err = np.nan_to_num(np.vstack([m - np.array(lows), np.array(highs) - m]))
            pos = np.arange(len(choices)) + (j - 1) * width
            right.bar(pos, m, width, color=colour, yerr=err, capsize=3, label=SHORT_NAMES[j])
        right.set_xticks(
            np.arange(len(choices)), [f"{s}" + (" (as configured)" if c else "") for s, c in choices], fontsize=8
        )
        right.axhline(0.0, color="black", linewidth=0.8)
        right.set_ylabel("admissions per year")
        right.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
        count_axis(right)
    right.set_title("Net admissions avoided, by staffing")
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    return fig


__all__ = ["addon_figure", "effect_table", "read_effect", "section", "targets_table", "words"]
