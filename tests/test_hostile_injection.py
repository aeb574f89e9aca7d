"""Hostile suite, spreadsheets (issue 15, item 6): CSV and xlsx are safe to open.

Category ``injection``. Text that a spreadsheet would run as a formula (beginning with ``=``,
``+``, ``-``, ``@``, tab or carriage return) reaches fundsim's files from a scenario file's name,
from manifest fields, and from a sweep's parameter values. Every CSV file fundsim writes (the
results' own, ``tables/*.csv``, a sweep's tables) and ``tables.xlsx`` must hold such text only
neutralised (a leading apostrophe, OWASP), no cell of the workbook may be a formula, and numbers
must stay numbers (``-3.5`` is not text). The figures are left out of these reports (they are
checked elsewhere and hold no spreadsheet cells), to keep the cases fast.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pytest
from hostile_kit import invoke, judge, long_mode, write_sweep, write_tiny

import fundsim.report.build as report_build
from fundsim.spreadsheet import FORMULA_STARTS, neutralise, neutralise_frame

HOSTILE = {
    "hyperlink": '=HYPERLINK("evil.example","click me")',
    "dde": "=cmd|' /C calc'!A0",
    "plus": "+SUM(A1:A2)",
    "minus-formula": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1,1)",
    "tab": "\t=1+1",
    "carriage-return": "\r=1+1",
    "bare-equals": "=",
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unsafe_csv_cells(folder: Path) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    if cell.startswith(FORMULA_STARTS) and not (cell.startswith(("-", "+")) and _is_number(cell)):
                        bad.append(f"{path.name}: {cell[:50]!r}")
    return bad


def _unsafe_xlsx_cells(path: Path) -> list[str]:
    bad = []
    book = openpyxl.load_workbook(path)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    bad.append(f"{sheet.title}!{cell.coordinate}: formula {str(cell.value)[:50]!r}")
                elif isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    bad.append(f"{sheet.title}!{cell.coordinate}: {cell.value[:50]!r}")
    return bad


def _negative_numbers_stay_numbers(folder: Path) -> None:
    with open(folder / "tables" / "summary.csv", newline="", encoding="utf-8") as handle:
        cells = [c for row in csv.reader(handle) for c in row]
    assert any(c.startswith("-") and _is_number(c) for c in cells) or not any(c.startswith("'-") for c in cells)
    assert not [c for c in cells if c.startswith("'") and _is_number(c[1:])], "a number was turned into text"


@pytest.fixture
def no_figures(monkeypatch):
    monkeypatch.setattr(report_build, "ALL_FIGURES", ())


@pytest.mark.hostile("injection")
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_scenario_file_named_like_a_formula(request, tmp_path, monkeypatch, no_figures, name) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = write_tiny(tmp_path / f"{HOSTILE[name]}.yaml")
    out = tmp_path / "out"
    relative = "./" + os.path.relpath(scenario, tmp_path)  # a name with "/" is a path: so be it
    outcome = invoke(["run", relative, "-r", "2", "-q", "-o", out, "--report"], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_file"].endswith(HOSTILE[name] + ".yaml")  # the manifest keeps the truth
    assert not _unsafe_csv_cells(out)
    assert not _unsafe_xlsx_cells(out / "tables.xlsx")
    _negative_numbers_stay_numbers(out)


MANIFEST_FIELDS = ["scenario_name", "scenario_file", "command", "created_utc", "scenario_sha256", "description"]


@pytest.mark.hostile("injection")
@pytest.mark.parametrize("kind", ["run", "compare"])
@pytest.mark.parametrize("field", MANIFEST_FIELDS)
def test_hostile_manifest_fields(request, tmp_path, hostile_saved, no_figures, kind, field) -> None:
    from hostile_kit import copy_folder

    folder = copy_folder(hostile_saved[kind], tmp_path / "R")
    manifest = json.loads((folder / "manifest.json").read_text())
    value = HOSTILE["hyperlink"] if field != "command" else HOSTILE["dde"]
    if field == "description":
        manifest["scenario"]["description"] = value
    else:
        manifest[field] = value
    (folder / "manifest.json").write_text(json.dumps(manifest))
    outcome = invoke(["report", folder, "-q"], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path)
    assert not _unsafe_csv_cells(folder / "tables")
    assert not _unsafe_xlsx_cells(folder / "tables.xlsx")


SWEEP_WITH_TEXT = """\
name: injection
base: base.yaml
design: lhs
points: 4
replications: 1
seed: 3
contracts: [block]
parameters:
  - path: description
    values: {values}
  - path: demand.growth_per_year
    uniform: [-0.05, 0.05]
outputs:
  - measure: surplus_gbp_per_year
    contract: block
"""


@pytest.mark.hostile("injection")
@pytest.mark.parametrize(
    "pair", [("tab", "carriage-return"), long_mode(("hyperlink", "at")), long_mode(("plus", "minus-formula"))]
)
def test_sweep_tables_with_formula_like_parameter_values(request, tmp_path, pair) -> None:
    values = json.dumps([HOSTILE[p] for p in pair])
    sweep = write_sweep(tmp_path / "in", SWEEP_WITH_TEXT.format(values=values))
    out = tmp_path / "out"
    outcome = invoke(["sweep", sweep, "-q", "-j", "1", "-o", out], timeout=180)
    judge(request, outcome, [0], workdir=tmp_path)
    assert not _unsafe_csv_cells(out)
    with open(out / "outputs.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert any(row["demand.growth_per_year"].startswith("-") for row in rows), "negative numbers must stay numbers"
    assert all(_is_number(row["demand.growth_per_year"]) for row in rows)


@pytest.mark.hostile("injection")
@pytest.mark.parametrize("value", [*HOSTILE.values(), "-3.5", "+7", "plain", "", "'already"])
def test_neutralise_is_exactly_the_owasp_rule(request, value) -> None:
    import pandas as pd

    frame = pd.DataFrame({"text": [value], "number": [-3.5]})
    safe = neutralise_frame(frame)
    cell = safe.loc[0, "text"]
    if value.startswith(FORMULA_STARTS):
        assert cell == "'" + value
    else:
        assert cell == value
    assert neutralise(-3.5) == -3.5
    assert safe["number"].dtype == frame["number"].dtype
    request.node.user_properties.append(("hostile_exit", 0))
