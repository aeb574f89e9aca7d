"""Plotted reports of fundsim results: ``fundsim report RESULTS_DIR``.

From a results folder written by ``fundsim run`` or ``fundsim compare`` this package writes one
self-contained HTML page (``report.html``: the scenario in brief, a headline paragraph written from
the numbers, figures with captions), every figure as PNG and SVG (``figures/``) and every table as
CSV (``tables/``) and in one Excel workbook (``tables.xlsx``). The simulation never imports it.
"""

from fundsim.report.build import ReportOutputs, build_report
from fundsim.report.results import ReportError, load_results
from fundsim.report.sweep_report import build_sweep_report

__all__ = ["ReportError", "ReportOutputs", "build_report", "build_sweep_report", "load_results"]
