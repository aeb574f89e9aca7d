"""Writing the report's files: figures as PNG and SVG, tables as CSV and one Excel workbook.

Text cells of the CSV files and the workbook that a spreadsheet would run as a formula are
neutralised first (:mod:`fundsim.spreadsheet`): a scenario file named ``=HYPERLINK(…).yaml`` is
shown as that text, never as a live link.

The workbook holds numbers as numbers, each with an Excel number format chosen from its unit
(:func:`number_format`): money as ``£#,##0``, shares as ``0.0%``, counts with thousands
separators, dates as dates. A table with one unit per row (a ``unit`` column: the summary, the key
parameters, the inputs) is formatted row by row.

Every file lands atomically: a folder is written under a temporary name and renamed into place
when complete (:func:`fundsim.experiment.store.atomic_dir`), a single file is written beside its
target and moved over it with :func:`os.replace`. An interrupted report leaves the previous files
or none, never half a file.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.figure import Figure

from fundsim.experiment.store import atomic_dir, atomic_file
from fundsim.report.tables import ReportTable
from fundsim.spreadsheet import neutralise, write_csv, xlsx_frame

if TYPE_CHECKING:
    import pandas as pd

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


#: Excel number formats (``£`` needs no escaping in a format code).
MONEY_FORMAT = "£#,##0"
PENNIES_FORMAT = "£#,##0.00"
COUNT_FORMAT = "#,##0"
MEAN_COUNT_FORMAT = "#,##0.0"
SMALL_MEAN_FORMAT = "0.00"
SHARE_FORMAT = "0.0%"
PERCENT_POINTS_FORMAT = "0.0"
RATIO_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"

#: Excel keeps 15 significant digits: a whole number longer than that (a seed) is written as text
#: rather than rounded.
EXCEL_DIGITS = 15

#: Columns of key–value tables (the key parameters, the manifest): values the table holds as text.
VALUE_COLUMNS = ("value",)

#: Tables of inputs, whose numbers are shown with every decimal they have (``number_format(exact=True)``).
EXACT_TABLES = frozenset({"inputs", "parameters"})

#: A number as the tables write it as text: ``3``, ``-0.5``, ``250,000``, ``9,500,000.5`` (no
#: leading zeros, so ``007`` stays text).
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)(?:\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _places(values: list[float], scale: int = 1, most: int = 4) -> int:
    """Decimal places that show every digit of ``values`` × ``scale`` as written (at most ``most``).

    Digits past the tenth significant one are float noise (``456000.00000000006``), not written.
    """
    places = 0
    for v in values:
        exponent = (Decimal(f"{v:.10g}") * scale).normalize().as_tuple().exponent
        places = max(places, -exponent if isinstance(exponent, int) else 0)
    return min(places, most)


def _decimals(places: int) -> str:
    return "." + "0" * places if places else ""


def number_format(unit: str, values: Iterable[Any] = (), exact: bool = False) -> str | None:
    """The Excel number format for numbers in ``unit`` (``None``: leave Excel's General).

    ``values`` are the numbers to be shown (a column, or a row of a table with a unit per row):

    - money (``£``, ``GBP``): ``£#,##0.00`` when every amount is under £1,000 and some are not
      whole pounds (a unit price, an hourly cost: the pennies are part of the figure), else
      ``£#,##0`` (annual sums run to millions and are means over replications, whose pennies are
      noise);
    - percent points (``% a year``, ``% of contracted``): ``0.0``, the number is already ×100;
    - shares and probabilities (0–1): ``0.0%``;
    - ratios, coefficients of variation, relative weights: ``0.00``;
    - dates: ``yyyy-mm-dd``;
    - anything else with a unit (people, contacts, days, …) is an amount: ``#,##0`` when every
      value is whole, ``#,##0.0`` for means, ``0.00`` for means all below 1 (a wait of 0.4
      days); rates below 0.01 throughout (admissions per person-day, 0.0008) keep General, which
      shows their digits.

    ``exact`` is for inputs, which a reader must see as they were entered, not rounded like a
    mean: the same kinds of format with as many decimals as the values have (up to 4), so a
    quality incentive of 0.0125 shows as 1.25%, not 1.3%, and 2.78 FTE as 2.78.
    """
    u = unit.strip().lower()
    if not u:
        return None
    if u == "date":
        return DATE_FORMAT
    finite = [float(v) for v in values if _is_number(v) and math.isfinite(float(v))]
    whole = all(v.is_integer() for v in finite)
    largest = max((abs(v) for v in finite), default=0.0)
    if "£" in u or "gbp" in u:
        if exact:  # whole pounds, or pounds and pence (never £1,900.5)
            return MONEY_FORMAT + _decimals(2 if _places(finite) else 0)
        return PENNIES_FORMAT if not whole and largest < 1000 else MONEY_FORMAT
    if u.startswith("%"):
        return "0" + _decimals(max(_places(finite), 1)) if exact else PERCENT_POINTS_FORMAT
    if u.startswith(("share", "probability")):
        return "0" + _decimals(_places(finite, scale=100)) + "%" if exact else SHARE_FORMAT
    if u.startswith("ratio") or u in ("coefficient of variation", "relative weight"):
        return "0" + _decimals(max(_places(finite), 1)) if exact else RATIO_FORMAT
    if exact:
        return COUNT_FORMAT + _decimals(_places(finite))
    if whole:
        return COUNT_FORMAT
    if largest >= 1:
        return MEAN_COUNT_FORMAT
    return SMALL_MEAN_FORMAT if largest >= 0.01 else None


def number_from_text(value: object) -> object:
    """``value`` as a number (or a date) when it is one written as text (``"250,000"``, ``"2025-04-01"``)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _NUMBER_TEXT.fullmatch(text) and sum(ch.isdigit() for ch in text) <= EXCEL_DIGITS:
        plain = text.replace(",", "")
        return float(plain) if "." in plain else int(plain)
    if _DATE_TEXT.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return value
    return value


def workbook_frame(table: ReportTable) -> pd.DataFrame:
    """``table`` as its sheet holds it: units in the headers, numbers as numbers, text neutralised.

    A key–value table's ``value`` column that holds only text (the builder wrote every value as
    text, for the page) gets its numbers and dates back; a column of mixed types is left as it is.
    """
    import pandas as pd

    frame = table.with_unit_headers()
    for i, column in enumerate(table.frame.columns):
        if column not in VALUE_COLUMNS:
            continue
        cells = frame.iloc[:, i]
        present = cells.dropna()
        if len(present) and all(isinstance(v, str) for v in present):
            values = pd.Series([number_from_text(v) for v in cells], index=frame.index, dtype=object)
            # pandas-stubs leave Series out of isetitem's value, which pandas takes (aligned on the index).
            frame.isetitem(i, values)  # type: ignore[arg-type]
    # Text that would be a formula (=, +, -, @, tab, CR) gets a leading apostrophe.
    return xlsx_frame(frame)


def _format_cells(sheet: Any, table: ReportTable, frame: pd.DataFrame) -> None:
    """Give every number of the sheet its unit's format (:func:`number_format`); dates their date format."""
    columns = list(table.frame.columns)
    rows = len(frame)
    grid = [[sheet.cell(row=r + 2, column=j + 1) for j in range(len(columns))] for r in range(rows)]
    for line in grid:
        for cell in line:
            value = cell.value
            if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(value) >= 10**EXCEL_DIGITS:
                cell.value = neutralise(str(value))  # more digits than Excel keeps: exact as text
            elif isinstance(value, dt.date | dt.datetime):
                cell.number_format = DATE_FORMAT
    by_column = {j: table.units.get(c, "") for j, c in enumerate(columns)}
    for j, unit in by_column.items():
        if not unit:
            continue
        cells = [line[j] for line in grid if _is_number(line[j].value)]
        code = number_format(unit, (c.value for c in cells))
        for cell in cells if code else ():
            cell.number_format = code
    if table.units or "unit" not in columns:
        return
    exact = table.name in EXACT_TABLES
    # One unit per row (the summary, the parameters, the inputs): format each row's numbers by it.
    unit_at = columns.index("unit")
    for line, unit in zip(grid, table.frame["unit"], strict=True):
        if not isinstance(unit, str) or not unit:
            continue
        cells = [cell for j, cell in enumerate(line) if j != unit_at and _is_number(cell.value)]
        code = number_format(unit, (c.value for c in cells), exact=exact)
        for cell in cells if code else ():
            cell.number_format = code


def write_workbook(path: Path, tables: Iterable[ReportTable]) -> Path:
    """Write one Excel workbook with a sheet per table (units in the headers, header row frozen).

    Numbers are written as numbers with their unit's number format (:func:`number_format`).
    """
    import pandas as pd

    tables = list(tables)
    sheets = sheet_names(t.name for t in tables)

    def _write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl", date_format=DATE_FORMAT, datetime_format=DATE_FORMAT) as writer:
            for table in tables:
                frame = workbook_frame(table)
                frame.to_excel(writer, sheet_name=sheets[table.name], index=False, freeze_panes=(1, 0))
                sheet = writer.sheets[sheets[table.name]]
                _format_cells(sheet, table, frame)
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
