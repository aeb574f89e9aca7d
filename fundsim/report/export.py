"""Writing the report's files: figures as PNG and SVG, tables as CSV and one Excel workbook.

Text cells of the CSV files and the workbook that a spreadsheet would run as a formula are
neutralised first (:mod:`fundsim.spreadsheet`): a scenario file named ``=HYPERLINK(…).yaml`` is
shown as that text, never as a live link.

Every file lands atomically: a folder is written under a temporary name and renamed into place
when complete (:func:`fundsim.experiment.store.atomic_dir`), a single file is written beside its
target and moved over it with :func:`os.replace`. An interrupted report leaves the previous files
or none, never half a file.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from fundsim.experiment.store import atomic_dir, atomic_file
from fundsim.report.tables import ReportTable
from fundsim.spreadsheet import write_csv, xlsx_frame

#: Resolution of the PNG files (dots per inch).
PNG_DPI = 110

#: Excel limits a sheet name to 31 characters.
SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class RenderedFigure:
    """A figure drawn once, kept as PNG bytes and SVG text."""

    name: str
    png: bytes
    svg: str


def render(name: str, fig: Figure) -> RenderedFigure:
    """Draw ``fig`` to PNG and SVG in memory.

    SVG text stays text (``svg.fonttype: none``, which matplotlib escapes as XML) and the ids in the
    file are fixed (``svg.hashsalt``), so the same results give the same bytes.
    """
    png, svg = io.BytesIO(), io.StringIO()
    with (
        mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"fundsim-{name}"}),
        warnings.catch_warnings(),
    ):
        # A label holding a tab or another character the font lacks is drawn as a box; no need to
        # say so on the user's terminal for every figure.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.savefig(png, format="png", dpi=PNG_DPI, metadata={"Software": None})
        # The layout (in fractions of the figure) is settled by the first drawing; keep it for the
        # second rather than solving it again (the same size in inches, so the same result).
        fig.set_layout_engine("none")
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return RenderedFigure(name=name, png=png.getvalue(), svg=svg.getvalue())


def write_figures(figures_dir: Path, figures: Iterable[RenderedFigure]) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.svg`` of every figure into ``figures_dir`` (replaced whole)."""
    names = []
    with atomic_dir(figures_dir, overwrite=True) as tmp:
        for fig in figures:
            (tmp / f"{fig.name}.png").write_bytes(fig.png)
            (tmp / f"{fig.name}.svg").write_text(fig.svg, encoding="utf-8")
            names += [f"{fig.name}.png", f"{fig.name}.svg"]
    return [figures_dir / n for n in names]


def write_tables_csv(tables_dir: Path, tables: Iterable[ReportTable]) -> list[Path]:
    """Write every table as ``<name>.csv`` into ``tables_dir`` (replaced whole), units in the headers."""
    names = []
    with atomic_dir(tables_dir, overwrite=True) as tmp:
        for table in tables:
            write_csv(table.with_unit_headers(), tmp / f"{table.name}.csv")
            names.append(f"{table.name}.csv")
    return [tables_dir / n for n in names]


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """Excel-safe, unique sheet names for table ``names``: at most 31 characters, none of ``[]:*?/`` or backslash."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = re.sub(r"[\[\]:*?/\\']", "_", name)[:SHEET_NAME_MAX] or "table"
        candidate, i = base, 2
        while candidate.lower() in used:
            suffix = f"_{i}"
            candidate, i = base[: SHEET_NAME_MAX - len(suffix)] + suffix, i + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def write_workbook(path: Path, tables: Iterable[ReportTable]) -> Path:
    """Write one Excel workbook with a sheet per table (units in the headers, header row frozen)."""
    import pandas as pd

    tables = list(tables)
    sheets = sheet_names(t.name for t in tables)

    def _write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for table in tables:
                # Text that would be a formula (=, +, -, @, tab, CR) gets a leading apostrophe.
                frame = xlsx_frame(table.with_unit_headers())
                frame.to_excel(writer, sheet_name=sheets[table.name], index=False, freeze_panes=(1, 0))
                sheet = writer.sheets[sheets[table.name]]
                for i, column in enumerate(frame.columns, start=1):
                    width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
                    sheet.column_dimensions[sheet.cell(row=1, column=i).column_letter].width = min(width + 2, 60)

    return atomic_file(path, _write)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    # A path that is not UTF-8 (a surrogate escape) in the page is written as \\udcff rather than failing.
    return atomic_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8", errors="backslashreplace"))


def by_name(tables: Mapping[str, ReportTable | None]) -> list[ReportTable]:
    """The tables that exist, in their order."""
    return [t for t in tables.values() if t is not None]
