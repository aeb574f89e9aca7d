"""The calibration check as a report people can read: a page, a workbook and CSVs (``fundsim calibrate --check``).

This module draws and writes; it does not simulate or fit (the report layer may not import
:mod:`fundsim.calibrate`, which builds the two tables and calls :func:`write_check_report`):

* ``table``: one row per measure and month: ``measure``, ``label``, ``unit``, ``month`` (a date),
  ``held_out``, ``observed`` (after the small-number rule), ``sim_mean``, ``sim_low``,
  ``sim_high`` (the simulation's predictive interval for one month), ``within`` and ``side``
  (``within``, ``above``, ``below`` or empty when there is nothing to compare);
* ``coverage``: one row per measure (and ``all``) over the held-out months: months compared,
  months within, the share, the share expected if the model were right, its binomial interval.

Files (the folder is written whole, atomically, as every fundsim output): ``check.html`` (one
figure per measure, the coverage table, the method), ``check.xlsx`` (numbers stored as numbers,
through :func:`fundsim.report.export.write_workbook`), ``check.csv``, ``coverage.csv`` and each
figure as ``check-<measure>.png`` and ``.svg``, plus any text files the caller passes (the
scenario fitted for the check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fundsim.experiment.store import atomic_dir
from fundsim.report.export import RenderedFigure, render, write_workbook
from fundsim.report.figures import WIDTH_IN
from fundsim.report.html import environment, svg_data_uri, svg_size_px
from fundsim.report.style import plain_text
from fundsim.report.tables import ReportTable
from fundsim.spreadsheet import write_csv

#: Okabe–Ito colours (as the rest of the report): simulated band and line, observed points, held-out shade.
SIMULATED_COLOUR = "#0072B2"
OBSERVED_COLOUR = "#D55E00"
HELD_OUT_COLOUR = "#999999"

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ccc; padding: .25rem .5rem; }
td.n { text-align: right; } .miss { color: #b00; } figure { margin: 1.5rem 0; } figcaption { font-size: .9rem; }
</style></head><body>
<h1>{{ title }}</h1>
{% for p in intro %}<p>{{ p }}</p>{% endfor %}
<h2>Held-out months inside the simulation's predictive interval</h2>
<table><tr><th>measure</th><th>months compared</th><th>within</th><th>above</th><th>below</th>
<th>share within</th><th>expected</th><th>95% interval of the share</th><th>consistent with expected</th></tr>
{% for r in coverage %}<tr><td>{{ r.label }}</td><td class="n">{{ r.n }}</td><td class="n">{{ r.within }}</td>
<td class="n">{{ r.above }}</td><td class="n">{{ r.below }}</td><td class="n">{{ r.share }}</td>
<td class="n">{{ r.expected }}</td><td class="n">{{ r.interval }}</td>
<td class="{{ '' if r.consistent == 'yes' else 'miss' }}">{{ r.consistent }}</td></tr>{% endfor %}
</table>
{% for f in figures %}<figure><img src="{{ f.src }}" width="{{ f.width }}" height="{{ f.height }}" alt="{{ f.title }}">
<figcaption>{{ f.caption }}</figcaption></figure>{% endfor %}
<h2>Method</h2>
{% for p in method %}<p>{{ p }}</p>{% endfor %}
</body></html>
"""


def check_figure(rows: pd.DataFrame, label: str, unit: str, level_pct: float) -> Figure:
    """Observed (points; held-out months filled) against the simulated mean and predictive band, by month."""
    fig = Figure(figsize=(WIDTH_IN, 3.4), layout="constrained")
    ax = fig.subplots()
    months = pd.to_datetime(rows["month"])
    low = pd.to_numeric(rows["sim_low"], errors="coerce").to_numpy(dtype=float)
    high = pd.to_numeric(rows["sim_high"], errors="coerce").to_numpy(dtype=float)
    ax.fill_between(
        months, low, high, alpha=0.25, color=SIMULATED_COLOUR, label=f"simulated, {level_pct:.0f}% predictive interval"
    )
    ax.plot(months, pd.to_numeric(rows["sim_mean"], errors="coerce"), color=SIMULATED_COLOUR, label="simulated mean")
    observed = pd.to_numeric(rows["observed"], errors="coerce")
    held = rows["held_out"].to_numpy(dtype=bool)
    ax.plot(months[~held], observed[~held], "o", mfc="white", color=OBSERVED_COLOUR, label="observed (fitted months)")
    ax.plot(months[held], observed[held], "o", color=OBSERVED_COLOUR, label="observed (held-out months)")
    if held.any():
        # matplotlib's stubs type axvspan's limits as float; its unit machinery takes the dates the axis holds.
        ax.axvspan(
            months[held].min() - pd.Timedelta(days=15),  # type: ignore[arg-type]
            months[held].max() + pd.Timedelta(days=15),  # type: ignore[arg-type]
            color=HELD_OUT_COLOUR,
            alpha=0.15,
            label="held out from the fit",
        )
    ax.set_title(plain_text(label))
    ax.set_ylabel(plain_text(unit))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small", loc="best")
    return fig


def _coverage_rows(coverage: pd.DataFrame) -> list[dict[str, Any]]:
    def pct(v: float) -> str:
        return "–" if not np.isfinite(v) else f"{100 * v:.0f}%"

    rows = []
    for record in coverage.to_dict("records"):
        rows.append(
            {
                "label": record["label"],
                "n": int(record["months_compared"]),
                "within": int(record["months_within"]),
                "above": int(record["months_above"]),
                "below": int(record["months_below"]),
                "share": pct(float(record["share_within"])),
                "expected": pct(float(record["share_expected"])),
                "interval": f"{pct(float(record['share_ci_low']))}–{pct(float(record['share_ci_high']))}",
                "consistent": record["consistent"],
            }
        )
    return rows


def _caption(rows: pd.DataFrame, label: str, unit: str) -> str:
    held = rows[rows["held_out"] & rows["side"].isin(["within", "above", "below"])]
    parts = [f"{label} ({unit}) by month."]
    if len(held):
        counts = held["side"].value_counts()
        parts.append(
            f"Held-out months: {int(counts.get('within', 0))} of {len(held)} within the interval, "
            f"{int(counts.get('above', 0))} above, {int(counts.get('below', 0))} below."
        )
    return " ".join(parts)


def write_check_report(
    out_dir: Path,
    table: pd.DataFrame,
    coverage: pd.DataFrame,
    *,
    title: str,
    intro: Sequence[str],
    method: Sequence[str],
    level_pct: float,
    extra_files: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write the check's page, workbook, CSVs and figures into ``out_dir`` (replaced whole, atomically)."""
    figures: list[tuple[RenderedFigure, str, str]] = []
    for measure, rows in table.groupby("measure", sort=False):
        label, unit = str(rows["label"].iloc[0]), str(rows["unit"].iloc[0])
        fig = check_figure(rows, label, unit, level_pct)
        figures.append((render(f"check-{measure}", fig), label, _caption(rows, label, unit)))
    sheet = table.copy()
    sheet["month"] = [dt.date.fromisoformat(str(m)[:10]) for m in sheet["month"]]
    tables = [
        ReportTable("coverage", "Held-out months within the predictive interval", coverage.copy()),
        ReportTable("check", "Observed and simulated by month", sheet),
    ]
    page = (
        environment()
        .from_string(_PAGE)
        .render(
            title=title,
            intro=list(intro),
            method=list(method),
            coverage=_coverage_rows(coverage),
            figures=[
                {
                    "src": svg_data_uri(f.svg),
                    "width": svg_size_px(f.svg)[0],
                    "height": svg_size_px(f.svg)[1],
                    "title": label,
                    "caption": caption,
                }
                for f, label, caption in figures
            ],
        )
    )
    names = ["check.html", "check.xlsx", "check.csv", "coverage.csv"]
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        (tmp / "check.html").write_text(page, encoding="utf-8")
        write_workbook(tmp / "check.xlsx", tables)
        write_csv(table, tmp / "check.csv")
        write_csv(coverage, tmp / "coverage.csv")
        for f, _label, _text in figures:
            (tmp / f"{f.name}.png").write_bytes(f.png)
            (tmp / f"{f.name}.svg").write_text(f.svg, encoding="utf-8")
            names += [f"{f.name}.png", f"{f.name}.svg"]
        for name, text in (extra_files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
            names.append(name)
    return [Path(out_dir) / n for n in names]
