"""The report's workbook: numbers as numbers with Excel number formats, and the ``inputs`` sheet.

The formats are read back from the written file with openpyxl (the cell's type and its
``number_format``); the inputs sheet is checked against the scenario flattened here, by a route
of its own, and its sources against comments written into a scenario file for the test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from test_report_data import invoke

from fundsim import __version__, load_scenario
from fundsim.report.build import build_tables
from fundsim.report.export import (
    by_name,
    number_format,
    number_from_text,
    write_tables_csv,
    write_workbook,
)
from fundsim.report.inputs import NOT_RECORDED, SCENARIO_COPY, inputs_table, sources, unit_for
from fundsim.report.results import load_results
from fundsim.report.tables import ReportTable
from fundsim.spreadsheet import FORMULA_STARTS

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "tiny.yaml"
HYPERLINK = '=HYPERLINK("http://evil.example","click me")'
URGENT_LINE = "  urgent_share: 0.15 "
WARMUP_COMMENT = "days simulated first and discarded (tiny: a partly filled caseload)"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of nested dicts and lists by its dotted path (``a.b[0].c``); empty containers are leaves."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data:
        out = {}
        for i, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def _sheet_rows(path: Path, sheet: str) -> dict[str, list[openpyxl.cell.Cell]]:
    """The cells of each row of a key–value sheet, by the text of its first cell."""
    book = openpyxl.load_workbook(path)
    return {row[0].value: list(row) for row in book[sheet].iter_rows(min_row=2)}


def _column(path: Path, sheet: str, header: str) -> list[openpyxl.cell.Cell]:
    """The data cells of the column headed ``header`` of ``sheet``."""
    ws = openpyxl.load_workbook(path)[sheet]
    headers = [c.value for c in ws[1]]
    j = headers.index(header) + 1
    return [ws.cell(row=r, column=j) for r in range(2, ws.max_row + 1)]


# --- pure functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "description", "unit"),
    [
        ("hourly_cost_gbp", None, "£"),
        ("rate_per_head_gbp_per_year", None, "£ per year"),
        ("price_gbp", None, "£ per unit"),
        ("referral_rate_per_1000_per_year", None, "per 1,000 people per year"),
        ("growth_per_year", None, "share per year"),
        ("contracted_activity_per_year", None, "units per year"),
        ("warmup_days", None, "days"),
        ("contract_hours_per_week", None, "hours per week"),
        ("overtime_cap_hours_per_shift", None, "hours per shift"),
        ("lag_months", None, "months"),
        ("urgent_share", None, "share (0–1)"),
        ("ends_episode_probability", None, "probability (0–1)"),
        ("missed_visit_hazard_multiplier", None, "ratio"),
        ("population", None, "people"),
        ("mean", "Mean, in minutes.", "minutes"),
        ("floor", "Least paid in a contract year (£ a year).", "£ a year"),
        ("complexity_mix", "Share of referrals in each complexity tier.", "share (0–1)"),
        ("name", None, ""),
        ("seed", "Master seed; replication seeds derive from it.", ""),
        ("gbpx", None, ""),  # a suffix matches whole words only
    ],
)
def test_unit_from_name_suffix_or_description(name: str, description: str | None, unit: str) -> None:
    assert unit_for(name, description) == unit


@pytest.mark.parametrize(
    ("unit", "values", "exact", "code"),
    [
        ("£ per year", [2.3e6, -4.1e5 + 0.37], False, "£#,##0"),
        ("£ per unit", [73.08, 12.5], False, "£#,##0.00"),
        ("£", [43.0, 35.0], False, "£#,##0"),
        ("contacts per month", [520.0, 1300.0], False, "#,##0"),
        ("contacts per month", [386.5, 1300.0], False, "#,##0.0"),
        ("days", [0.4, 0.98], False, "0.00"),
        ("per person-day", [0.0008, 0.003], False, None),
        ("% of contracted", [-2.9, 44.2], False, "0.0"),
        ("share", [0.25, 0.5], False, "0.0%"),
        ("probability", [0.01], False, "0.0%"),
        ("ratio O/E", [0.93], False, "0.00"),
        ("date", [], False, "yyyy-mm-dd"),
        ("", [3.0], False, None),
        ("share (0–1)", [0.0125], True, "0.00%"),
        ("FTE", [2.78], True, "#,##0.00"),
        ("units per year", [456000.00000000006], True, "#,##0"),
        ("per person-day", [0.0008], True, "#,##0.0000"),
        ("£ per unit", [73.08], True, "£#,##0.00"),
        ("£", [1900.5], True, "£#,##0.00"),
        ("£", [1900.0], True, "£#,##0"),
    ],
)
def test_number_format_by_unit(unit: str, values: list[float], exact: bool, code: str | None) -> None:
    assert number_format(unit, values, exact=exact) == code


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("250,000", 250000),
        ("3", 3),
        ("-0.5", -0.5),
        ("9,500,000.25", 9500000.25),
        ("2025-04-01", dt.date(2025, 4, 1)),
        ("007", "007"),
        ("1,2345", "1,2345"),
        ("0.4.0", "0.4.0"),
        ("1234567890123456", "1234567890123456"),  # more digits than Excel keeps
        ("tiny", "tiny"),
    ],
)
def test_numbers_written_as_text_come_back(text: str, value: object) -> None:
    got = number_from_text(text)
    assert got == value
    assert type(got) is type(value)


def test_sources_are_line_comments_inherited_or_defaults() -> None:
    text = "a:            # parent note\n  b: 1\n  c: 2        # own note\nd: 'x # not a comment'   # real\ne: [1, 2]\n"
    paths = [("a", "b"), ("a", "c"), ("d",), ("e", 1), ("f",)]
    assert sources(paths, text, "9.9") == {
        ("a", "b"): "parent note (comment on a)",
        ("a", "c"): "own note",
        ("d",): "real",
        ("e", 1): "scenario file (no comment)",
        ("f",): "default (fundsim 9.9)",
    }
    assert set(sources(paths, None, "9.9").values()) == {NOT_RECORDED}
    assert set(sources(paths, "a: [unclosed", "9.9").values()) == {NOT_RECORDED}


# --- a workbook of hand-made tables ------------------------------------------------------------------


def test_hand_made_tables_keep_numbers_as_numbers_with_formats(tmp_path: Path) -> None:
    months = pd.date_range("2025-04-01", periods=3, freq="MS")
    data = ReportTable(
        "data",
        "columns of every kind",
        pd.DataFrame(
            {
                "label": ["=1+1", "plain", "-3.5"],
                "month": months,
                "spend_gbp_per_year": [2.3e6, -1.5e5, 9.9e5],
                "contacts": [520.0, 610.0, 700.0],
                "mean_visits": [3.25, 4.5, 0.75],
                "share_met": [0.25, 0.5, 1.0],
                "over_pct": [-3.5, 12.0, 0.4],
            }
        ),
        {
            "spend_gbp_per_year": "£ per year",
            "contacts": "contacts per month",
            "mean_visits": "visits per month",
            "share_met": "share",
            "over_pct": "% of contracted",
        },
    )
    pairs = ReportTable(
        "parameters",
        "key-value text",
        pd.DataFrame(
            {
                "parameter": ["Population", "Start", "Seed", "Name"],
                "value": ["250,000", "2025-04-01", "20251", "=cmd"],
                "unit": ["people", "date", "", ""],
            }
        ),
    )
    inputs = ReportTable(
        "inputs",
        "typed values, a unit per row",
        pd.DataFrame(
            {
                "path": ["seed", "share", "fte", "name"],
                "value": pd.Series([2**62 + 1, 0.0125, 2.78, "-x"], dtype=object),
                "unit": ["", "share (0–1)", "FTE", ""],
            }
        ),
    )
    path = write_workbook(tmp_path / "t.xlsx", [data, pairs, inputs])

    expected = {
        "spend_gbp_per_year (£ per year)": "£#,##0",
        "contacts (contacts per month)": "#,##0",
        "mean_visits (visits per month)": "#,##0.0",
        "share_met (share)": "0.0%",
        "over_pct (% of contracted)": "0.0",
    }
    for header, code in expected.items():
        cells = _column(path, "data", header)
        assert [c.data_type for c in cells] == ["n"] * 3, header
        assert {c.number_format for c in cells} == {code}, header
    assert [c.value for c in _column(path, "data", "spend_gbp_per_year (£ per year)")] == [2.3e6, -1.5e5, 9.9e5]
    month = _column(path, "data", "month")
    assert [c.data_type for c in month] == ["d"] * 3
    assert [c.value.date() for c in month] == [m.date() for m in months]
    assert {c.number_format for c in month} == {"yyyy-mm-dd"}
    assert [c.value for c in _column(path, "data", "label")] == ["'=1+1", "plain", "'-3.5"]

    rows = _sheet_rows(path, "parameters")
    assert (rows["Population"][1].value, rows["Population"][1].data_type) == (250000, "n")
    assert rows["Population"][1].number_format == "#,##0"
    assert rows["Start"][1].data_type == "d"
    assert rows["Start"][1].value.date() == dt.date(2025, 4, 1)
    assert (rows["Seed"][1].value, rows["Seed"][1].number_format) == (20251, "General")
    assert (rows["Name"][1].value, rows["Name"][1].data_type) == ("'=cmd", "s")

    rows = _sheet_rows(path, "inputs")
    assert rows["seed"][1].value == str(2**62 + 1)  # more digits than Excel keeps: exact, as text
    assert (rows["share"][1].data_type, rows["share"][1].number_format) == ("n", "0.00%")
    assert (rows["fte"][1].data_type, rows["fte"][1].number_format) == ("n", "#,##0.00")
    assert rows["name"][1].value == "'-x"


# --- a real run and its scenario file -------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``fundsim run`` of tiny.yaml whose urgent_share line ends in a formula comment (one replication)."""
    root = tmp_path_factory.mktemp("workbook")
    lines = TINY.read_text(encoding="utf-8").splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith(URGENT_LINE)]
    assert len(at) == 1
    lines[at[0]] = f"{URGENT_LINE}# {HYPERLINK}\n"
    scenario = root / "hostile.yaml"
    scenario.write_text("".join(lines), encoding="utf-8")
    out = root / "run"
    code, stdout, stderr = invoke("run", str(scenario), "-r", "1", "-q", "-o", str(out))
    assert code == 0, stdout + stderr
    folder = load_results(out)
    tables = by_name(build_tables(folder))  # the report builds the inputs table itself
    workbook = write_workbook(root / "tables.xlsx", tables)
    write_tables_csv(root / "tables", tables)
    return {"scenario": scenario, "results": out, "workbook": workbook, "tables": root / "tables"}


def test_money_count_and_percent_columns_of_the_report(hostile_run: dict[str, Path]) -> None:
    workbook = hostile_run["workbook"]
    checks = [
        ("spend", "payments_gbp_per_year (£ per year)", {"£#,##0"}),
        ("activity", "delivered (contacts per month)", {"#,##0", "#,##0.0"}),
        ("localities", "over_performance_pct (% of contracted)", {"0.0"}),
    ]
    for sheet, header, codes in checks:
        cells = [c for c in _column(workbook, sheet, header) if c.value is not None]
        assert cells, (sheet, header)
        assert {c.data_type for c in cells} == {"n"}, (sheet, header)
        assert {c.number_format for c in cells} <= codes, (sheet, header)
    months = _column(workbook, "activity", "month")
    assert {c.data_type for c in months} == {"d"}


def test_inputs_sheet_has_every_leaf_of_the_validated_scenario(hostile_run: dict[str, Path]) -> None:
    expected = _flatten(load_scenario(hostile_run["scenario"]).model_dump(mode="json"))
    rows = _sheet_rows(hostile_run["workbook"], "inputs")
    assert len(expected) > 150
    assert set(rows) == set(expected)
    assert len(rows) == len(expected)  # no path twice
    written = pd.read_csv(hostile_run["tables"] / "inputs.csv", keep_default_na=False)
    assert list(written.columns) == ["path", "value", "unit", "source"]
    assert sorted(written["path"]) == sorted(expected)
    numeric = [p for p, v in expected.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    assert numeric
    for path in numeric:
        assert rows[path][1].data_type == "n", path
        assert rows[path][1].value == pytest.approx(expected[path]), path
    start = rows["simulation.start_date"][1]
    assert (start.data_type, start.value.date()) == ("d", dt.date.fromisoformat(expected["simulation.start_date"]))


@pytest.mark.parametrize(
    ("path", "unit", "code"),
    [
        ("workforce.grades[0].hourly_cost_gbp", "£", "£#,##0"),
        ("contracts.cost_and_volume.price_gbp", "£ per unit", "£#,##0.00"),
        ("localities[0].population", "people", "#,##0"),
        ("simulation.warmup_days", "days", "#,##0"),
        ("demand.urgent_share", "share (0–1)", "0%"),
        ("tiers[0].assessment_minutes.mean", "minutes", "#,##0"),
        ("demand.complexity_mix.low", "share (0–1)", "0%"),
        ("contracts.blended.fixed_gbp_per_year", "£ per year", "£#,##0"),
    ],
)
def test_inputs_units_and_formats(hostile_run: dict[str, Path], path: str, unit: str, code: str) -> None:
    row = _sheet_rows(hostile_run["workbook"], "inputs")[path]
    assert row[2].value == unit
    assert row[1].number_format == code


def test_inputs_sources_from_the_scenario_file(hostile_run: dict[str, Path]) -> None:
    rows = _sheet_rows(hostile_run["workbook"], "inputs")
    urgent = rows["demand.urgent_share"][3]
    assert urgent.data_type == "s"
    assert urgent.value == "'" + HYPERLINK  # the comment, shown as text, never a live formula
    assert rows["simulation.warmup_days"][3].value == WARMUP_COMMENT
    assert rows["simulation.scheduling"][3].value == f"default (fundsim {__version__})"
    book = openpyxl.load_workbook(hostile_run["workbook"])
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
                assert not (isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)), cell.value
    with open(hostile_run["tables"] / "inputs.csv", encoding="utf-8") as handle:
        assert "'" + HYPERLINK.replace('"', '""') in handle.read()


def test_sources_not_recorded_without_the_scenario_text(hostile_run: dict[str, Path], tmp_path: Path) -> None:
    folder = load_results(hostile_run["results"])
    moved = dataclasses.replace(folder, manifest={**folder.manifest, "scenario_file": str(tmp_path / "gone.yaml")})
    assert set(inputs_table(moved).frame["source"]) == {NOT_RECORDED}
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)  # would block a reader that opened it blocking
    piped = dataclasses.replace(folder, manifest={**folder.manifest, "scenario_file": str(fifo)})
    assert set(inputs_table(piped).frame["source"]) == {NOT_RECORDED}
    changed = tmp_path / "changed.yaml"
    changed.write_text(hostile_run["scenario"].read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    edited = dataclasses.replace(folder, manifest={**folder.manifest, "scenario_file": str(changed)})
    assert set(inputs_table(edited).frame["source"]) == {NOT_RECORDED}
    bare = dataclasses.replace(folder, manifest={k: v for k, v in folder.manifest.items() if k != "scenario_sha256"})
    assert set(inputs_table(bare).frame["source"]) == {NOT_RECORDED}
    # A copy of the scenario file kept in the results folder is used when the original is gone.
    copy = tmp_path / "results"
    copy.mkdir()
    shutil.copyfile(hostile_run["scenario"], copy / SCENARIO_COPY)
    kept = dataclasses.replace(moved, path=copy)
    table = inputs_table(kept).frame.set_index("path")
    assert table.loc["simulation.warmup_days", "source"] == WARMUP_COMMENT
