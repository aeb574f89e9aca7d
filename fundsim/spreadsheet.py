"""Cells that are safe to open in a spreadsheet (CSV and formula injection).

Excel, LibreOffice and Google Sheets treat a cell whose text begins with ``=``, ``+``, ``-`` or
``@`` (and, in some versions, a tab or carriage return) as a formula: a scenario description or a
file name such as ``=HYPERLINK("http://…")`` would become a live link or command in the user's
spreadsheet. Following the OWASP guidance on CSV injection, every *text* cell (and column name)
that begins with one of those characters gets a leading apostrophe, which spreadsheets show as
text; numbers are left as numbers (``-3.5`` stays a number), so nothing a reader computes changes.
"""

from __future__ import annotations

import csv
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: First characters that make a spreadsheet read a text cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe when it is text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def is_formula_like(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet would read as a formula (for checks and tests)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are safe to open in a spreadsheet.

    Only columns holding text (object or string dtype) are touched; numeric, boolean and date
    columns are returned as they are. Returns ``frame`` itself when nothing needs changing.
    """
    import pandas as pd

    text_columns = [
        c for c in frame.columns if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]
    changed_columns = [c for c in text_columns if frame[c].map(is_formula_like).any()]
    renamed = {c: neutralise(c) for c in frame.columns if is_formula_like(c)}
    if not changed_columns and not renamed:
        return frame
    out = frame.copy()
    for column in changed_columns:
        out[column] = out[column].map(neutralise)
    return out.rename(columns=renamed) if renamed else out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` as CSV (no index) with its text cells neutralised (:func:`neutralise_frame`).

    A text cell holding a carriage return is one cell only if it is quoted: the CSV writer quotes
    a line feed but not a lone carriage return, which spreadsheets read as the end of a row (and
    the next row could then begin with a formula). Such a table is written with every text cell
    quoted; numbers stay unquoted, so they are still read as numbers.
    """
    safe = neutralise_frame(frame)
    text = [c for c in safe.columns if safe[c].map(lambda v: isinstance(v, str) and "\r" in v).any()]
    # A file name that is not UTF-8 (a surrogate escape) is written as \\udcff rather than failing.
    if text or any(isinstance(c, str) and "\r" in c for c in safe.columns):
        safe.to_csv(path, index=False, encoding="utf-8", errors="backslashreplace", quoting=csv.QUOTE_NONNUMERIC)
    else:
        safe.to_csv(path, index=False, encoding="utf-8", errors="backslashreplace")


#: Characters an xlsx cell cannot hold (XML 1.0 forbids most control characters; openpyxl refuses them).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def xlsx_text(value: object) -> object:
    """``value`` made storable in an xlsx cell: control characters and lone surrogates shown as escapes."""
    if isinstance(value, str) and _XLSX_ILLEGAL.search(value):
        return _XLSX_ILLEGAL.sub(
            lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", value
        )
    return value


def xlsx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe for a workbook: neutralised (:func:`neutralise_frame`), storable (:func:`xlsx_text`)."""
    safe = neutralise_frame(frame)
    text = [c for c in safe.columns if safe[c].map(lambda v: xlsx_text(v) is not v).any()]
    renamed = {c: xlsx_text(c) for c in safe.columns if xlsx_text(c) is not c}
    if not text and not renamed:
        return safe
    safe = safe.copy()
    for column in text:
        safe[column] = safe[column].map(xlsx_text)
    return safe.rename(columns=renamed)
