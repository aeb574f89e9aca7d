"""Read an extract folder into clean, typed tables, locating every problem by file, row and column.

Nothing here prints or writes: :func:`read_extract` returns the usable rows of every table
(canonical column names), the problems found (:class:`RowProblem`: file, line, column, kind and
how many rows, never a value from the file) and a data-quality summary. A missing file or column
is fatal (:class:`~fundsim.errors.ScenarioError`); a bad row is counted, reported and left out of
the fit, never silently dropped.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from fundsim.calibrate.schema import TABLES, Column, Mapping, Table, code_list
from fundsim.errors import Problem, ScenarioError
from fundsim.safeio import open_regular, printable

#: A clinical contact longer than this many minutes is implausible for a community nursing visit.
MAX_CONTACT_MINUTES = 480
#: Highest plausible whole-time equivalents of one band in one team.
MAX_TEAM_WTE = 1000.0
#: Row numbers shown per problem (the rest are counted).
SHOWN_ROWS = 5


@dataclass(frozen=True)
class RowProblem:
    """Rows of one file with one kind of problem in one column: where, what and how many (never the value)."""

    file: str
    column: str  # the local column name
    kind: str
    rows: tuple[int, ...]  # line numbers (CSV: counting the header as line 1) or 1-based Parquet rows
    n_rows: int
    fatal_for_row: bool = True  # the row cannot be used (else only the value is ignored)

    def problem(self) -> Problem:
        """As a located :class:`~fundsim.errors.Problem` (first row, kind, count and further rows)."""
        more = ""
        if self.n_rows > 1:
            shown = ", ".join(str(r) for r in self.rows[1:])
            more = f" ({self.n_rows:,} rows; also at {shown}{', …' if self.n_rows > len(self.rows) else ''})"
        return Problem(self.file, self.rows[0], None, self.column, f"{self.kind}{more}")

    def __str__(self) -> str:
        """``FILE:LINE: COLUMN: KIND (n rows; also at …)``."""
        return str(self.problem())


@dataclass
class TableData:
    """One table as read: the usable rows, how many were read, and per-column validity."""

    name: str
    file: str
    frame: pd.DataFrame  # usable rows only, canonical columns, typed; column "_row" holds the line number
    rows_read: int
    valid: dict[str, int] = field(default_factory=dict)  # canonical column -> rows with a valid value
    missing: dict[str, int] = field(default_factory=dict)  # canonical column -> rows with no value
    present: tuple[str, ...] = ()  # canonical columns the file had

    @property
    def rows_unusable(self) -> int:
        """Rows read but left out."""
        return self.rows_read - len(self.frame)


@dataclass
class Extract:
    """The clean extract: one :class:`TableData` per table found, the problems and the period covered."""

    folder: Path
    tables: dict[str, TableData]
    problems: list[RowProblem]
    first_day: pd.Timestamp
    last_day: pd.Timestamp

    def __getitem__(self, name: str) -> pd.DataFrame:
        """The usable rows of table ``name``."""
        return self.tables[name].frame

    def has(self, name: str) -> bool:
        """Whether table ``name`` was given."""
        return name in self.tables

    def quality(self) -> pd.DataFrame:
        """Share of rows with a valid value, per table and column (the CSDS data-quality dashboard's measure)."""
        rows = []
        for t in self.tables.values():
            for col in TABLES[t.name].columns:
                if col.name not in t.present:
                    rows.append((t.name, t.file, col.name, t.rows_read, 0, t.rows_read, 0, 0.0, "column not given"))
                    continue
                valid = t.valid.get(col.name, t.rows_read)
                missing = t.missing.get(col.name, 0)
                share = valid / t.rows_read if t.rows_read else np.nan
                note = "" if col.required else "optional (blank allowed)"
                invalid = t.rows_read - valid - missing
                rows.append((t.name, t.file, col.name, t.rows_read, valid, missing, invalid, share, note))
            usable = len(t.frame)
            rows.append(
                (
                    t.name,
                    t.file,
                    "(whole row usable)",
                    t.rows_read,
                    usable,
                    0,
                    t.rows_read - usable,
                    usable / max(t.rows_read, 1),
                    "rows left out are counted, never dropped silently",
                )
            )
        columns = ["table", "file", "column", "rows", "valid", "missing", "invalid", "share_valid", "note"]
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- reading files


def _find_file(folder: Path, table: Table, mapping: Mapping) -> Path | None:
    given = mapping.file_for(table.name)
    if given is not None:
        path = folder / given
        if not path.exists():
            raise ScenarioError.single(
                printable(path), f"the mapping file names this file for the {table.name} table, but it does not exist"
            )
        return path
    for ext in (".csv", ".parquet", ".csv.gz"):
        path = folder / f"{table.name}{ext}"
        if path.exists():
            return path
    if table.required:
        raise ScenarioError.single(
            printable(folder),
            f"no {table.name} table: expected {table.name}.csv or {table.name}.parquet (or a file named under "
            f"tables.{table.name}.file in the mapping file)",
        )
    return None


def _read_raw(path: Path) -> pd.DataFrame:
    """The file's cells as text (codes keep their leading zeros), in file order."""
    name = printable(path)
    try:
        if path.suffix == ".parquet":
            with os.fdopen(open_regular(path), "rb") as handle:
                frame = pd.read_parquet(handle)
            return frame.astype("string")
        with os.fdopen(open_regular(path), "rb") as handle:
            compression: Literal["gzip"] | None = "gzip" if path.name.endswith(".gz") else None
            return pd.read_csv(handle, dtype="string", keep_default_na=False, na_values=[""], compression=compression)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as exc:
        if isinstance(exc, OSError) and exc.filename is not None:
            raise
        kind = type(exc).__name__
        raise ScenarioError.single(name, f"cannot be read as a table ({kind}); is it a CSV or Parquet file?") from None


def _line_numbers(path: Path, n: int) -> np.ndarray:
    """The number users see for each data row: CSV line (header = line 1), or 1-based Parquet row."""
    offset = 1 if path.suffix == ".parquet" else 2
    return np.arange(n, dtype=np.int64) + offset


def _check_header(raw: pd.DataFrame, table: Table, mapping: Mapping, name: str) -> dict[str, str]:
    """Canonical -> local column names found; raise for every required column missing (with a suggestion)."""
    local_columns = [str(c) for c in raw.columns]
    found: dict[str, str] = {}
    problems = []
    for col in table.columns:
        local = mapping.local_name(table.name, col.name)
        if local in local_columns:
            found[col.name] = local
            continue
        if not col.required:
            continue
        hint = difflib.get_close_matches(local, local_columns, n=1, cutoff=0.6)
        did = ""
        if hint:
            did = f"; did you mean {hint[0]!r}? (map it under tables.{table.name}.columns in a mapping file)"
        canonical = f" (CSDS {col.name})" if local != col.name else ""
        problems.append(Problem(name, 1, None, local, f"missing required column{canonical}{did}"))
    if problems:
        raise ScenarioError(problems)
    return found


class _Checker:
    """Collects problem masks for one table."""

    def __init__(self, name: str, lines: np.ndarray, n: int) -> None:
        self.name = name
        self.lines = lines
        self.unusable = np.zeros(n, dtype=bool)
        self.problems: list[RowProblem] = []

    def flag(self, mask: np.ndarray, column: str, kind: str, fatal: bool = True) -> None:
        mask = np.asarray(mask, dtype=bool)
        count = int(mask.sum())
        if count == 0:
            return
        rows = tuple(int(r) for r in self.lines[mask][:SHOWN_ROWS])
        self.problems.append(RowProblem(self.name, column, kind, rows, count, fatal))
        if fatal:
            self.unusable |= mask


def _parse_column(
    values: pd.Series, col: Column, local: str, mapping: Mapping, table: str, check: _Checker
) -> tuple[pd.Series, np.ndarray]:
    """Typed values of one column and its validity mask; problems are flagged on ``check``."""
    missing = values.isna().to_numpy() | (values.str.strip() == "").fillna(True).to_numpy()
    fatal = col.required
    if col.kind in ("id", "text"):
        out = values.str.strip()
        check.flag(missing, local, "missing value", fatal)
        return out, ~missing
    if col.kind == "date":
        fmt = None
        entry = mapping.entry(table)
        if entry and entry.date_format:
            fmt = entry.date_format
        parsed = _by_distinct(values.str.strip(), lambda u: pd.to_datetime(u, format=fmt or "ISO8601", errors="coerce"))
        bad = parsed.isna().to_numpy() & ~missing
        check.flag(bad, local, "not a date" + (f" in the format {fmt}" if fmt else " (expected YYYY-MM-DD)"), fatal)
        if col.required:
            check.flag(missing, local, "missing date", True)
        return parsed.dt.normalize(), ~(bad | missing)
    if col.kind == "time":
        times = _by_distinct(values.str.strip(), _parse_times)
        bad = times.isna().to_numpy() & ~missing
        check.flag(bad, local, "not a time of day (expected HH:MM or HH:MM:SS)", False)
        return times, ~(bad | missing)
    if col.kind == "code":
        codes = code_list(col.codes or col.name, mapping)
        stripped = values.str.strip()
        grouped = stripped.map(codes)
        unknown = grouped.isna().to_numpy() & ~missing
        distinct = stripped[unknown].nunique()
        check.flag(
            unknown,
            local,
            f"unknown national code ({distinct} distinct value(s) not in the {col.codes} list nor in the mapping "
            "file's codes)",
            fatal,
        )
        if col.required:
            check.flag(missing, local, "missing code", True)
        return grouped.astype("object"), ~(unknown | missing)
    # numbers
    number = pd.to_numeric(values.str.strip(), errors="coerce").astype(float)
    bad = number.isna().to_numpy() & ~missing
    check.flag(bad, local, "not a number", fatal)
    check.flag(missing, local, "missing number", fatal)
    negative = (number < 0).to_numpy()
    check.flag(negative, local, "negative value", fatal)
    ok = ~(bad | missing | negative)
    if col.kind == "minutes":
        long = (number > MAX_CONTACT_MINUTES).to_numpy()
        check.flag(long, local, f"implausible duration (over {MAX_CONTACT_MINUTES} minutes)", True)
        ok &= ~long
    return number, ok


@dataclass
class _Read:
    """One table as read, with what the cross-table checks still need."""

    data: TableData
    check: _Checker  # flags problems and collects the unusable rows
    found: dict[str, str]  # canonical column -> the file's local column name


def _read_table(folder: Path, table: Table, mapping: Mapping) -> _Read | None:
    path = _find_file(folder, table, mapping)
    if path is None:
        return None
    name = path.name
    raw = _read_raw(path)
    found = _check_header(raw, table, mapping, name)
    n = len(raw)
    lines = _line_numbers(path, n)
    check = _Checker(name, lines, n)
    data: dict[str, object] = {"_row": lines}
    valid: dict[str, int] = {}
    missing: dict[str, int] = {}
    for col in table.columns:
        if col.name not in found:
            continue
        values, ok = _parse_column(raw[found[col.name]], col, found[col.name], mapping, table.name, check)
        data[col.name] = values.to_numpy() if col.kind not in ("date", "time") else values
        valid[col.name] = int(ok.sum())
        missing[col.name] = int(raw[found[col.name]].isna().sum())
    frame = pd.DataFrame(data)
    if table.key and all(k in found for k in table.key):
        dup = frame.duplicated(list(table.key), keep="first").to_numpy()
        check.flag(dup, found[table.key[-1]], "duplicate row (the same " + " and ".join(table.key) + " again)")
    return _Read(TableData(table.name, name, frame, n, valid, missing, tuple(found)), check, found)


# --------------------------------------------------------------------------- cross-table checks


def _cross_checks(tables: dict[str, _Read]) -> None:
    """Dates in order within and across tables; contacts of known referrals after their referral."""
    refs = tables["referrals"]
    rc = refs.check
    rf = refs.data.frame
    rfound = refs.found
    if "ServDischDate" in rf:
        order = (rf["ServDischDate"] < rf["ReferralRequestReceivedDate"]).to_numpy()
        rc.flag(order, rfound["ServDischDate"], "dates in the wrong order (discharge before the referral was received)")
    cons = tables["contacts"]
    cc = cons.check
    cf = cons.data.frame
    cfound = cons.found
    usable_refs = rf.loc[~rc.unusable].drop_duplicates("ServiceRequestId").set_index("ServiceRequestId")
    ref_date = cf["ServiceRequestId"].map(usable_refs["ReferralRequestReceivedDate"])
    unknown = ref_date.isna().to_numpy() & cf["ServiceRequestId"].notna().to_numpy()
    cc.flag(unknown, cfound["ServiceRequestId"], "contact of a referral not in the referrals table (or not usable)")
    before = (cf["CareContDate"] < ref_date).to_numpy()
    cc.flag(before, cfound["CareContDate"], "contact before its referral was received")
    if "ServDischDate" in usable_refs:
        disch = cf["ServiceRequestId"].map(usable_refs["ServDischDate"])
        after = (cf["CareContDate"] > disch).to_numpy()
        cc.flag(after, cfound["CareContDate"], "contact after its referral was discharged")
    person = cf["ServiceRequestId"].map(usable_refs["Person_ID"])
    other = (person.notna() & (person != cf["Person_ID"])).to_numpy()
    cc.flag(other, cfound["Person_ID"], "person id differs from the referral's person id")
    seen = cf["AttendOrDNACode"].to_numpy() == "attended"
    face = cf["ConsMechanism"].to_numpy() == "face_to_face"
    zero = seen & face & (cf["ClinContDurOfCareCont"].to_numpy() == 0)
    zero_kind = "implausible duration (0 minutes for an attended face-to-face contact)"
    cc.flag(zero, cfound["ClinContDurOfCareCont"], zero_kind)
    if "admissions" in tables:
        adm = tables["admissions"]
        ac = adm.check
        af = adm.data.frame
        afound = adm.found
        order = (af["DischargeDateHospitalProviderSpell"] < af["StartDateHospitalProviderSpell"]).to_numpy()
        kind = "dates in the wrong order (discharge before admission)"
        ac.flag(order, afound["DischargeDateHospitalProviderSpell"], kind)
        dup = af.duplicated(["Person_ID", "StartDateHospitalProviderSpell"]).to_numpy()
        kind = "duplicate row (the same person admitted twice on one day)"
        ac.flag(dup, afound["StartDateHospitalProviderSpell"], kind)


def read_extract(folder: Path, mapping: Mapping | None = None) -> Extract:
    """Read and check every table of the extract in ``folder``; see the module docstring."""
    folder = Path(folder)
    mapping = mapping or Mapping()
    if not folder.is_dir():
        raise ScenarioError.single(printable(folder), "not a folder (give the folder holding the extract's tables)")
    read: dict[str, _Read] = {}
    for table in TABLES.values():
        got = _read_table(folder, table, mapping)
        if got is not None:
            read[table.name] = got
    _cross_checks(read)
    tables = {name: r.data for name, r in read.items()}
    problems: list[RowProblem] = []
    for td, check in ((r.data, r.check) for r in read.values()):
        problems.extend(check.problems)
        td.frame = td.frame.loc[~check.unusable].reset_index(drop=True)
        if td.name == "referrals":
            td.frame["locality"] = td.frame["TeamIDLocal"].map(lambda t: mapping.teams.get(t, t))
        if td.name == "workforce":
            td.frame["locality"] = td.frame["TeamIDLocal"].map(lambda t: mapping.teams.get(t, t))
            td.frame["grade"] = td.frame["AfCBand"].map(lambda b: mapping.bands.get(b, _grade_name(b)))
        if td.name == "contacts" and "StaffBand" in td.frame:
            # A few distinct bands among millions of contacts: name each band once.
            td.frame["grade"] = _by_distinct(
                td.frame["StaffBand"],
                lambda u: pd.Series([mapping.bands.get(b, _grade_name(b)) if isinstance(b, str) else None for b in u]),
            )
    refs = tables["referrals"].frame
    if refs.empty:
        raise ScenarioError.single(tables["referrals"].file, "no usable referral rows (see the problems above)")
    contacts = tables["contacts"].frame
    if contacts.empty:
        raise ScenarioError.single(tables["contacts"].file, "no usable care contact rows (see the problems above)")
    # The extract's period is the span of its contacts (referrals may be older: open on the first day).
    first = contacts["CareContDate"].min()
    last = max(refs["ReferralRequestReceivedDate"].max(), contacts["CareContDate"].max())
    return Extract(folder, tables, problems, first, last)


def _by_distinct(values: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert(values)`` computed once per distinct value (dates, times and bands repeat across millions of rows).

    ``convert`` maps a Series of distinct non-missing values to a Series of results, element by
    element; missing values give a missing result (NaT, NaN or None, as ``convert`` gives for a
    missing value). The result is the same as ``convert(values)``, in far less time.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # One extra missing value at the end: code -1 (a missing value) takes it.
    distinct = pd.Series([*uniques, None], dtype=values.dtype)
    converted = convert(distinct.reset_index(drop=True))
    taken = converted.iloc[codes].reset_index(drop=True)
    taken.index = values.index
    return taken


def _parse_times(text: pd.Series) -> pd.Series:
    """Times of day ``HH:MM`` or ``HH:MM:SS`` as timedeltas (NaT when not a time)."""
    text = text.where(~text.str.fullmatch(r"\d{1,2}:\d{2}").fillna(False), text + ":00")
    return pd.to_timedelta(text, errors="coerce")


def _grade_name(band: str) -> str:
    """A scenario grade name for an Agenda for Change band: 'Band 6' -> 'band6', '8a' -> 'band8a'."""
    text = "".join(ch for ch in str(band).lower() if ch.isalnum())
    if not text:
        return "unbanded"
    return text if text.startswith("band") else f"band{text}"
