"""``sweep.xlsx``: a sweep's design, outputs and sensitivity indices in one workbook.

Written with :func:`fundsim.report.export.write_workbook`, so numbers are stored as numbers with
the report's Excel formats (money ``£#,##0``, shares ``0.0%``, indices ``0.00``) and text that a
spreadsheet would run as a formula is neutralised. Sheets: ``parameters`` (each path in words,
its unit and distribution), ``design`` (point → values), ``outputs`` (the design with each
output's replication mean), ``indices`` and ``failures``. The workbook is listed in the manifest's
``files`` (size and SHA-256), so ``fundsim sweep --overwrite`` knows it as the sweep's own.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fundsim.experiment.store import file_record
from fundsim.report.export import write_workbook
from fundsim.report.sweep_labels import output_label, parameter_label
from fundsim.report.tables import ReportTable
from fundsim.sweep import store

#: The unit :func:`fundsim.report.export.number_format` reads for each kind of label.
_INDEX_COLUMNS = ("value", "ci_low", "ci_high")
_UNIT = {"money": "£", "share": "share", "percent": "%", "count": ""}


def sweep_tables(
    manifest: dict, design: pd.DataFrame, outputs: pd.DataFrame, sens: pd.DataFrame, failures: pd.DataFrame
) -> list[ReportTable]:
    """The workbook's sheets as report tables (a unit per numeric column)."""
    parameters = [c for c in design.columns if c != "point"]
    labels = [c for c in outputs.columns if c not in design.columns]
    distributions = {
        spec.get("path"): " ".join(f"{k} {v}" for k, v in spec.items() if k != "path")
        for spec in manifest.get("parameters", [])
        if isinstance(spec, dict)
    }
    about = pd.DataFrame(
        {
            "column": parameters + labels,
            "role": ["parameter"] * len(parameters) + ["output"] * len(labels),
            "in words": [parameter_label(p).text for p in parameters] + [output_label(o).text for o in labels],
            "distribution": [distributions.get(p, "") for p in parameters] + [""] * len(labels),
        }
    )
    units = {p: _UNIT[parameter_label(p).kind] for p in parameters}
    units |= {o: _UNIT[output_label(o).kind] for o in labels}
    indices = sens.assign(
        output_in_words=sens["output"].map(lambda o: output_label(str(o)).text),
        parameter_in_words=sens["parameter"].map(lambda p: parameter_label(str(p)).text),
    )
    return [
        ReportTable("columns", "What each column is", about),
        ReportTable("design", "The design: each point's parameter values", design, {p: units[p] for p in parameters}),
        ReportTable("outputs", "Each point's outputs (means over replications)", outputs, units),
        ReportTable(
            "indices", "Sensitivity indices with 95% intervals", indices, dict.fromkeys(_INDEX_COLUMNS, "ratio")
        ),
        ReportTable("failures", "Runs that failed", failures),
    ]


def write_sweep_workbook(
    out_dir: Path, manifest: dict, design: pd.DataFrame, outputs: pd.DataFrame, sens: pd.DataFrame,
    failures: pd.DataFrame,
) -> Path:  # fmt: skip
    """Write ``out_dir/sweep.xlsx`` and record it (size, SHA-256) in the manifest's ``files``."""
    path = write_workbook(out_dir / store.WORKBOOK, sweep_tables(manifest, design, outputs, sens, failures))
    current = store.read_manifest(out_dir) or manifest
    listed = current.get("files")
    files: dict = listed if isinstance(listed, dict) else {}
    store.write_json(out_dir / store.MANIFEST, {**current, "files": {**files, store.WORKBOOK: file_record(path)}})
    return path
