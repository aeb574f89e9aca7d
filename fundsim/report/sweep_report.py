"""The HTML page of a sweep folder: parameters, indices, a tornado chart and scatters per output.

Reads only the files a sweep wrote (``manifest.json``, ``design.parquet``, ``outputs.csv``,
``sensitivity.csv``, ``failures.csv``); writes ``report.html`` and ``figures/`` into the folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fundsim.errors import FundsimError
from fundsim.report.export import render, write_figures, write_text
from fundsim.report.html import environment, svg_data_uri, svg_size_px
from fundsim.report.sensitivity import MAIN_INDEX
from fundsim.report.sweep_figures import heatmap_figure, influential_pair, readable_tornado, response_figure
from fundsim.report.sweep_labels import INDEX_LABELS, output_label, parameter_label
from fundsim.report.sweep_workbook import write_sweep_workbook
from fundsim.safeio import open_regular, printable, read_csv, read_parquet
from fundsim.sweep.store import changed_summary_files, read_manifest
from fundsim.version import __version__

CAPTIONS = {
    "sobol": "Bars: the total-order index ST (the share of the output's variance that involves the parameter, "
    "alone or with others), with the first-order index S1 (its effect alone) inside; whiskers: 95% bootstrap "
    "intervals. A parameter with ST near 0 can be fixed anywhere in its range without changing this output.",
    "morris": "Bars: Morris μ*, the mean absolute change in the output when the parameter moves one grid step "
    "(in units of its distribution's quantiles), with its 95% bootstrap interval. Large μ* means influential; "
    "see the table for σ (large σ: the effect depends on the other parameters).",
    "prcc": "Bars: the partial rank correlation of the output with each parameter, the others held fixed; "
    "whiskers: 95% Fisher-z intervals. Blue: the output rises with the parameter; orange: it falls. An interval "
    "that crosses 0 means no detectable monotone effect at this sample size.",
}


RESPONSE_CAPTION = (
    "One dot per point of the design (the mean over its replications). The orange line is a smoother: "
    "with a dozen or fewer distinct values of the parameter, the mean at each value with its 95% interval; "
    "otherwise a local-linear fit (tricube weights on the nearest 40% of the points) with its 95% band for "
    "noise. A curve that falls then rises is a U-shape that a rank correlation cannot show."
)
HEATMAP_CAPTION = (
    "Each cell is the mean of the output over the points in it: at each pair of levels for a grid (averaged "
    "over any other parameters), in quantile bins of the two most influential parameters for a sampled design. "
    "Empty cells had no points."
)


#: Fewest points with results for the binned heat map of a sampled design (2 × 2 bins of 3).
HEATMAP_MIN_POINTS = 12


def is_grid_pair(manifest: dict, parameters: list[str]) -> bool:
    """Whether the sweep is a grid over exactly two parameters (its heat map is the grid itself)."""
    return manifest.get("design") == "grid" and len(parameters) == 2


def heatmap_pair(manifest: dict, sens: pd.DataFrame, output: str, parameters: list[str]) -> tuple[str, str] | None:
    """The two parameters of the heat map: a two-parameter grid's own, else the two most influential."""
    if len(parameters) < 2:
        return None
    if is_grid_pair(manifest, parameters):
        return parameters[0], parameters[1]
    return influential_pair(sens, output, parameters)


def _fmt(value: float) -> str:
    if value != value:  # NaN
        return "–"
    return f"{value:,.3g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _notes(out_dir: Path, manifest: dict) -> list[str]:
    """Warnings for the page: another version, and outputs the analysis could not treat."""
    notes = []
    if manifest.get("fundsim_version") != __version__:
        notes.append(f"This sweep was written by fundsim {manifest.get('fundsim_version')}; this is {__version__}.")
    try:
        with os.fdopen(open_regular(out_dir / "notes.json"), "rb") as handle:
            saved = json.loads(handle.read(1 << 20).decode("utf-8"))
        notes += [f"Not analysed: {n}" for n in saved if isinstance(n, str)] if isinstance(saved, list) else []
    except (OSError, ValueError, FundsimError):
        pass
    return notes


def build_sweep_report(out_dir: Path) -> Path:
    """Write ``report.html`` and ``figures/`` for the sweep folder ``out_dir``; return the HTML path.

    The folder is checked first: a sweep manifest of the right shape, the summary files present,
    regular, readable, of the expected columns, and (when the manifest records them) of the size
    and SHA-256 it lists. Anything wrong raises :class:`~fundsim.errors.FundsimError` naming the file.
    """
    out_dir = Path(out_dir)
    shown = printable(out_dir)
    needed = ("manifest.json", "design.parquet", "outputs.csv", "sensitivity.csv", "failures.csv")
    missing = [name for name in needed if not (out_dir / name).is_file()]
    if missing:
        raise FundsimError(
            f"{shown}: not a complete sweep folder ({', '.join(missing)} missing); "
            "run `fundsim sweep` to the end, or `fundsim analyse` on a folder whose runs are all there"
        )
    manifest = read_manifest(out_dir)
    if manifest is None or manifest.get("kind") != "sweep":
        raise FundsimError(f"{shown}/manifest.json: not a sweep manifest")
    changed = changed_summary_files(out_dir, manifest)
    if changed:
        raise FundsimError(
            f"{shown}: {', '.join(changed)} changed since the sweep wrote them (size or SHA-256 differs from "
            "manifest.json); run `fundsim analyse` to write them again"
        )
    tables = {}
    for name in needed[1:]:
        try:
            tables[name] = read_parquet(out_dir / name) if name.endswith(".parquet") else read_csv(out_dir / name)
        except Exception as exc:  # pandas and pyarrow raise many kinds for a damaged file
            raise FundsimError(f"{printable(out_dir / name)}: cannot be read ({type(exc).__name__}: {exc})") from None
    design, outputs = tables["design.parquet"], tables["outputs.csv"]
    sens, failures = tables["sensitivity.csv"], tables["failures.csv"]
    wanted = {
        "design.parquet": ("point",),
        "sensitivity.csv": ("output", "parameter", "method", "index", "value", "ci_low", "ci_high"),
        "failures.csv": ("point", "replication", "contract", "error"),
        "outputs.csv": ("point",),
    }
    for name, columns in wanted.items():
        absent = [c for c in columns if c not in tables[name].columns]
        if absent:
            raise FundsimError(f"{printable(out_dir / name)}: missing column(s) {', '.join(absent)}")
    for name, columns in (("sensitivity.csv", ("value", "ci_low", "ci_high")),):
        for column in columns:
            if len(tables[name]) and not pd.api.types.is_numeric_dtype(tables[name][column]):
                raise FundsimError(f"{printable(out_dir / name)}: column {column!r} holds text where numbers belong")
    try:
        return _build(out_dir, manifest, design, outputs, sens, failures)
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, IndexError) as exc:
        raise FundsimError(f"{shown}: the sweep's files do not have the content this fundsim expects: {exc}") from None


def _build(
    out_dir: Path,
    manifest: dict,
    design: pd.DataFrame,
    outputs: pd.DataFrame,
    sens: pd.DataFrame,
    failures: pd.DataFrame,
) -> Path:
    parameters = [c for c in design.columns if c != "point"]
    labels = [c for c in outputs.columns if c not in design.columns]
    rendered, views = [], []
    min_points = 1 if is_grid_pair(manifest, parameters) else HEATMAP_MIN_POINTS
    for k, label in enumerate(labels):
        rows = sens[sens["output"] == label]
        words = output_label(label).text
        figures = []
        table_rows, indices = [], []
        if not rows.empty:
            method = rows["method"].iloc[0]
            indices = list(dict.fromkeys(rows["index"]))
            for parameter, group in rows.groupby("parameter", sort=False):
                cells = []
                for index in indices:
                    r = group[group["index"] == index].iloc[0]
                    ci = "" if r["ci_low"] != r["ci_low"] else f" ({_fmt(r['ci_low'])} to {_fmt(r['ci_high'])})"
                    cells.append(_fmt(r["value"]) + ci)
                table_rows.append({"parameter": parameter_label(str(parameter)).text, "cells": cells})
            fig = render(f"tornado-{k + 1}", readable_tornado(sens, label))
            rendered.append(fig)
            figures.append((fig, f"Which parameters matter for {words}: {INDEX_LABELS[MAIN_INDEX[method]]}",
                            CAPTIONS[method]))  # fmt: skip
        words = output_label(label).text
        fig = render(f"scatter-{k + 1}", response_figure(outputs, parameters, label))
        rendered.append(fig)
        figures.append((fig, f"{words}, against each parameter", RESPONSE_CAPTION))
        pair = heatmap_pair(manifest, sens, label, parameters)
        if pair is not None and outputs[label].notna().sum() >= min_points:
            fig = render(f"heatmap-{k + 1}", heatmap_figure(outputs, pair, label))
            rendered.append(fig)
            names = " and ".join(parameter_label(p).text for p in pair)
            figures.append((fig, f"{words}, over {names}", HEATMAP_CAPTION))
        views.append(
            {
                "label": words,
                "indices": indices,
                "rows": table_rows,
                "figures": [
                    {
                        "name": f.name,
                        "title": title,
                        "caption": caption,
                        "src": svg_data_uri(f.svg),
                        "width_px": svg_size_px(f.svg)[0],
                        "height_px": svg_size_px(f.svg)[1],
                    }
                    for f, title, caption in figures
                ],
            }
        )
    write_figures(out_dir / "figures", rendered)
    write_sweep_workbook(out_dir, manifest, design, outputs, sens, failures)
    distributions = {
        spec["path"]: " ".join(f"{k} {v}" for k, v in spec.items() if k != "path")
        for spec in manifest.get("parameters", [])
    }
    context = {
        "version": __version__,
        "name": manifest.get("name") or manifest.get("sweep_file", out_dir.name),
        "description": manifest.get("description", ""),
        "design": manifest.get("design", "?"),
        "points": manifest.get("points", len(design)),
        "replications": manifest.get("replications", "?"),
        "contracts": manifest.get("contracts", []),
        "base": manifest.get("base_scenario", "?"),
        "notes": _notes(out_dir, manifest),
        "parameters": [
            {
                "path": f"{parameter_label(p).text} ({p})",
                "distribution": distributions.get(p, "see the sweep file"),
                "low": _fmt(float(design[p].min())) if pd.api.types.is_numeric_dtype(design[p]) else "–",
                "high": _fmt(float(design[p].max())) if pd.api.types.is_numeric_dtype(design[p]) else "–",
            }
            for p in parameters
        ],
        "outputs": views,
        "failures": failures.to_dict("records"),
    }
    html = environment().get_template("sweep.html.j2").render(**context)
    path = out_dir / "report.html"
    write_text(path, html)
    return path
