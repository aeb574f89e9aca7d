"""``fundsim report``: from a results folder to report.html, figures/, tables/ and tables.xlsx.

The steps, each in its own module: read the folder (:mod:`~fundsim.report.results`), build the
tables (:mod:`~fundsim.report.tables`), write the headline (:mod:`~fundsim.report.headline`), draw
the figures (:mod:`~fundsim.report.figures`, listed in :mod:`~fundsim.report.catalogue`), write
the files (:mod:`~fundsim.report.export`) and render the page (:mod:`~fundsim.report.html`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fundsim.experiment.preflight import check_report_out
from fundsim.report import addons, years
from fundsim.report import tables as tb
from fundsim.report.catalogue import ADDON_FIGURE, ALL_FIGURES, Tables, frame_of
from fundsim.report.export import (
    RenderedFigure,
    by_name,
    render,
    write_figures,
    write_tables_csv,
    write_text,
    write_workbook,
)
from fundsim.report.headline import headline_paragraphs
from fundsim.report.html import FigureView, contract_views, measure_rows, render_html, svg_data_uri, svg_size_px
from fundsim.report.inputs import inputs_table
from fundsim.report.results import ReportError, ResultsFolder, load_results
from fundsim.report.sections import incidence_tables, outcome_rows, price_notes, wrong_way_rows
from fundsim.report.style import contract_label
from fundsim.safeio import printable
from fundsim.version import __version__

#: ``progress(done, total, what)`` is called after each step.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ReportOutputs:
    """What a report wrote, and what it had to say about the results."""

    html: Path
    figures: tuple[Path, ...]
    tables: tuple[Path, ...]
    workbook: Path
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]


def build_tables(folder: ResultsFolder) -> dict[str, tb.ReportTable | None]:
    """Every table of the report (``None`` where the results have nothing for it), in report order."""
    funnel = tb.funnel_points(folder)
    return {
        "parameters": tb.key_parameters(folder),
        "summary": tb.summary_table(folder),
        "incidence": tb.incidence(folder),
        "activity": tb.activity_monthly(folder),
        "finance": tb.per_contract(
            folder,
            ["absorbed_gbp_per_year", "surplus_gbp_per_year", "income_gbp_per_year", "cost_gbp_per_year"],
            "finance",
            "Provider income, cost, surplus and absorbed cost per contract",
        ),
        "decisions": tb.decisions_monthly(folder),
        "waits": tb.waits_monthly(folder),
        "missed_visits": tb.per_contract(
            folder, ["visits_missed_per_year"], "missed_visits", "Missed visits per contract"
        ),
        "missed_by_month": tb.missed_monthly(folder),
        "admissions": tb.per_contract(
            folder,
            ["admissions_per_year", "admissions_avoided_per_year", "hospital_cost_gbp_per_year"],
            "admissions",
            "Emergency admissions and admissions avoided per contract",
        ),
        "spend": tb.spend_per_contract(folder),
        "risk": tb.risk_by_growth(folder),
        "funnel": funnel,
        "funnel_limits": None if funnel is None else tb.funnel_limits(funnel.frame),
        "wrong_way": tb.wrong_way(folder),
        "addon_targets": addons.targets_table(folder),  # add-on services (fundsim.report.addons)
        "addon_effect": addons.effect_table(folder),
        "localities": tb.locality_over_performance(folder),
        "years": years.years_table(folder),
        "absorbed_by_year": years.absorbed_by_year(folder),
        "reserves_by_year": years.reserves_table(folder),
        "reserve_failures": years.failures_table(folder),
        "manifest": tb.manifest_table(folder),
        "inputs": inputs_table(folder),
    }


def provider_policy(folder: ResultsFolder) -> str:
    """The provider policy the results were simulated under (``responsive`` when not recorded)."""
    recorded = folder.manifest.get("provider_policy")
    if not recorded:
        policy = folder.scenario.get("provider_policy")
        recorded = policy.get("mode") if isinstance(policy, dict) else None
    return str(recorded or "responsive")


def report_context(
    folder: ResultsFolder, tables: Tables, figures: list[FigureView], skipped: list[dict[str, str]]
) -> dict[str, Any]:
    """Everything the HTML template shows."""
    summary = frame_of(tables, "summary")
    risk = tables.get("risk")
    policy = provider_policy(folder)
    return {
        "name": folder.name,
        "description": str(folder.scenario.get("description") or "").strip(),
        "kind": folder.kind,
        "results_dir": printable(folder.path),
        "replications": folder.manifest.get("replications", "?"),
        "created": folder.manifest.get("created_utc", "at an unknown time"),
        "written_by": folder.written_by,
        "version": __version__,
        "warnings": list(folder.warnings),
        "headline": headline_paragraphs(
            summary,
            folder.contracts,
            folder.baseline,
            None if risk is None else risk.frame,
            incidence=folder.incidence,
            policy=policy,
        ),
        "incidence_tables": incidence_tables(folder.incidence, folder.contracts, policy),
        "price_notes": price_notes(folder.incidence),
        "outcome_rows": outcome_rows(folder.outcomes),
        "wrong_way_rows": wrong_way_rows(folder.wrong_way),
        "addons": addons.section(dict(tables)),
        "parameters": frame_of(tables, "parameters").to_dict("records"),
        "contracts": contract_views(folder.contracts),
        "baseline_label": contract_label(folder.baseline),
        "measures": measure_rows(summary, folder.contracts, folder.baseline),
        "figures": figures,
        "skipped": skipped,
        "tables": [{"name": t.name, "title": t.title, "rows": len(t.frame)} for t in by_name(tables)],
        "manifest": frame_of(tables, "manifest").to_dict("records"),
    }


def build_report(
    results_dir: Path,
    out: Path | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    accept_changed: bool = False,
) -> ReportOutputs:
    """Write the report of the results folder ``results_dir``.

    Writes ``out`` (default ``results_dir/report.html``), ``results_dir/figures/`` (a PNG and an SVG
    per figure), ``results_dir/tables/`` (a CSV per table) and ``results_dir/tables.xlsx``. Raises
    :class:`~fundsim.report.results.ReportError` for a folder that cannot be reported on. ``warn``
    is called with each warning about the folder (another fundsim version, changed files) as soon
    as it is read; the warnings are also in the page and in the result. A file changed since
    fundsim wrote it is refused unless ``accept_changed``. ``out`` must be a place a report may go
    (:func:`fundsim.experiment.preflight.check_report_out`): never a file of a results folder, a
    device, or a file fundsim did not write.
    """
    results_dir = Path(results_dir)
    out = Path(out) if out is not None else results_dir / "report.html"
    total = len(ALL_FIGURES) + 4
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, what)

    check_report_out(results_dir, out)
    folder = load_results(results_dir, accept_changed=accept_changed)
    if warn is not None:
        for warning in folder.warnings:
            warn(warning)
    step("read results")
    try:
        tables = build_tables(folder)
    except (KeyError, ValueError, TypeError, ArithmeticError, IndexError) as exc:
        note = f" ({folder.warnings[0]})" if folder.warnings else ""
        raise ReportError(
            f"{printable(results_dir)}: the results do not have the content this fundsim expects{note}: {exc}"
        ) from exc
    step("tables")
    rendered: list[RenderedFigure] = []
    views: list[FigureView] = []
    skipped: list[dict[str, str]] = []
    for spec in ALL_FIGURES:
        if spec.available(tables):
            try:
                fig = spec.draw(tables, folder.contracts)
                image = render(spec.name, fig)
            except (KeyError, ValueError, TypeError, ArithmeticError, IndexError) as exc:
                raise ReportError(
                    f"{printable(results_dir)}: cannot draw the figure '{spec.title}' from these results: {exc}"
                ) from exc
            rendered.append(image)
            width, height = svg_size_px(image.svg)
            views.append(
                FigureView(
                    number=len(views) + 1,
                    name=spec.name,
                    title=spec.title,
                    what=spec.what,
                    how_to_read=spec.how_to_read,
                    table=spec.needs[0],
                    src=svg_data_uri(image.svg),
                    width_px=width,
                    height_px=height,
                )
            )
        elif spec.name != ADDON_FIGURE.name:  # a scenario without add-ons has no add-on figure to miss
            skipped.append({"title": spec.title, "why": spec.missing})
        step(f"figure: {spec.name}")
    try:
        figure_files = write_figures(results_dir / "figures", rendered)
        table_files = write_tables_csv(results_dir / "tables", by_name(tables))
        workbook = write_workbook(results_dir / "tables.xlsx", by_name(tables))
        step("figures and tables written")
        html = render_html(report_context(folder, tables, views, skipped))
        write_text(out, html)
    except OSError as exc:
        where = printable(exc.filename or results_dir)
        raise ReportError(f"{where}: cannot write the report ({exc.strerror or exc})") from exc
    step("report written")
    return ReportOutputs(
        html=out,
        figures=tuple(figure_files),
        tables=tuple(table_files),
        workbook=workbook,
        skipped=tuple(f"{s['title']}: {s['why']}" for s in skipped),
        warnings=folder.warnings,
    )
