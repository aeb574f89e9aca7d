"""Rendering the report as one self-contained HTML file with jinja2.

Autoescaping is on for every value: names and descriptions come from scenario files and
manifests, which anyone can edit, so a name such as ``<script>…</script>`` is shown as text.
Figures are embedded as SVG data URIs in ``<img>`` elements: an image cannot run script, and the
page needs no network to show them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import pandas as pd

from fundsim.report.style import by_unit, contract_colour, contract_label

#: Template of the report, under ``fundsim/report/templates/``.
TEMPLATE = "report.html.j2"

#: CSS pixels per point (SVG sizes are in points).
PX_PER_PT = 96.0 / 72.0


@dataclass(frozen=True)
class FigureView:
    """What the template needs to show one figure."""

    number: int
    name: str
    title: str
    what: str
    how_to_read: str
    table: str
    src: str
    width_px: int
    height_px: int


def no_break_after_minus(text: object) -> str:
    """``text`` with a word joiner after each minus sign, so that ``−£50k`` never breaks across lines."""
    return str(text).replace("\u2212", "\u2212\u2060")


def environment() -> jinja2.Environment:
    """The jinja2 environment of the report templates, autoescaping everything."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fundsim.report", "templates"),
        autoescape=True,  # not select_autoescape: the template's name ends in .j2, not .html
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["nobreak"] = no_break_after_minus
    return env


def svg_data_uri(svg: str) -> str:
    """``svg`` as a base64 ``data:`` URI."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def svg_size_px(svg: str) -> tuple[int, int]:
    """Width and height in CSS pixels of a matplotlib SVG (whose root gives them in points)."""
    head = svg[: svg.find(">", svg.find("<svg")) + 1]
    sizes = []
    for attr in ("width", "height"):
        match = re.search(rf'{attr}="([0-9.]+)(pt|px)?"', head)
        value = float(match.group(1)) if match else 0.0
        sizes.append(round(value * (PX_PER_PT if match and match.group(2) == "pt" else 1.0)))
    return sizes[0], sizes[1]


def measure_rows(summary: pd.DataFrame, contracts: Sequence[str], baseline: str) -> list[dict[str, Any]]:
    """The summary table as rows of measures × contract cells (mean, CI and paired difference, formatted)."""
    rows = []
    show_diff = len(contracts) > 1 and "diff_mean" in summary
    indexed = summary.set_index(["measure", "contract"])
    for measure in dict.fromkeys(summary["measure"]):
        first = summary[summary["measure"] == measure].iloc[0]
        unit = str(first["unit"])
        cells = []
        for contract in contracts:
            if (measure, contract) not in indexed.index:
                cells.append({"mean": "–", "ci": "", "diff": ""})
                continue
            r = indexed.loc[(measure, contract)]
            ci = "" if pd.isna(r["ci_low"]) else f"{by_unit(r['ci_low'], unit)} to {by_unit(r['ci_high'], unit)}"
            diff = ""
            if show_diff and contract != baseline and not pd.isna(r["diff_mean"]):
                diff = by_unit(r["diff_mean"], unit)
                if not pd.isna(r["diff_ci_low"]):
                    diff += f" ({by_unit(r['diff_ci_low'], unit)} to {by_unit(r['diff_ci_high'], unit)})"
            cells.append({"mean": by_unit(r["mean"], unit), "ci": ci, "diff": diff})
        rows.append({"label": str(first["label"]), "unit": unit, "cells": cells})
    return rows


def contract_views(contracts: Sequence[str]) -> list[dict[str, str]]:
    """Label and colour of each contract, for the table headers."""
    return [{"name": c, "label": contract_label(c), "colour": contract_colour(c, tuple(contracts))} for c in contracts]


def render_html(context: dict[str, Any]) -> str:
    """Render the report template with ``context`` (see :func:`fundsim.report.build.report_context`)."""
    return environment().get_template(TEMPLATE).render(**context)
